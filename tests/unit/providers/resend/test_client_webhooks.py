"""ResendClient as WebhookRegistrar and CredentialRotator, against Resend's documented calls.

Webhooks: https://resend.com/docs/api-reference/webhooks/create-webhook (``{endpoint, events}`` →
``{object, id, signing_secret}``), update-webhook (PATCH), get-webhook; API keys:
https://resend.com/docs/api-reference/api-keys/create-api-key (``{name, permission}`` → ``{id,
token}``), delete-api-key; errors: https://resend.com/docs/api-reference/errors.
"""

from __future__ import annotations

import json

import httpx
import pytest
from pydantic import SecretStr

from hub.errors import AuthenticationError, InvalidRequestError, ProviderUnavailableError
from hub.providers.resend.client import API_KEY_NAME_MAX, WEBHOOK_EVENTS, ResendClient, ResendCredentials
from hub.providers.resend.webhook import EMAIL_EVENT_TYPES
from tests.helpers import AdapterFactory, recording

CREDS = ResendCredentials(api_key=SecretStr("re_test_123"), api_key_id="key-current")
HUB_URL = "https://hub.example.com/Prod/webhooks/resend/acme"
WEBHOOK_ID = "4dd369bc-aa82-4ff3-97de-514ae3000ee0"
SIGNING_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

client_with = AdapterFactory(ResendClient, CREDS, attempts=3)


def test_register_webhook_creates_it_and_stores_the_secret_resend_issued() -> None:
    created = {"object": "webhook", "id": WEBHOOK_ID, "signing_secret": SIGNING_SECRET}
    seen, handler = recording(httpx.Response(200, json=created))

    registration = client_with(handler).register_webhook(HUB_URL, "hub-chosen-token-ignored")

    (request,) = seen
    assert (request.method, str(request.url)) == ("POST", "https://api.resend.com/webhooks")
    assert request.headers["authorization"] == "Bearer re_test_123"
    assert json.loads(request.content) == {"endpoint": HUB_URL, "events": list(WEBHOOK_EVENTS)}
    assert b"hub-chosen-token-ignored" not in request.content
    assert registration.provider_webhook_id == WEBHOOK_ID
    assert dict(registration.secret_fields) == {"webhook_secret": SIGNING_SECRET}
    # Every email event the receiver turns into a hub event is subscribed
    assert set(EMAIL_EVENT_TYPES) == set(registration.events)


def test_a_create_that_failed_is_not_retried() -> None:
    seen, handler = recording(httpx.Response(500, json={"statusCode": 500, "name": "application_error"}))
    with pytest.raises(ProviderUnavailableError):
        client_with(handler).register_webhook(HUB_URL, "t")
    assert len(seen) == 1


def test_an_existing_webhook_is_updated_and_its_current_secret_read_back() -> None:
    found = {
        "object": "webhook",
        "id": WEBHOOK_ID,
        "status": "enabled",
        "endpoint": HUB_URL,
        "signing_secret": SIGNING_SECRET,
    }
    seen, handler = recording(
        httpx.Response(200, json={"object": "webhook", "id": WEBHOOK_ID}), httpx.Response(200, json=found)
    )

    registration = client_with(handler).register_webhook(HUB_URL, "t", existing_id=WEBHOOK_ID)

    assert [(r.method, r.url.path) for r in seen] == [
        ("PATCH", f"/webhooks/{WEBHOOK_ID}"),
        ("GET", f"/webhooks/{WEBHOOK_ID}"),
    ]
    assert json.loads(seen[0].content) == {"endpoint": HUB_URL, "events": list(WEBHOOK_EVENTS), "status": "enabled"}
    assert registration.provider_webhook_id == WEBHOOK_ID
    assert dict(registration.secret_fields) == {"webhook_secret": SIGNING_SECRET}


def test_an_existing_webhook_deleted_at_resend_is_created_anew() -> None:
    gone = httpx.Response(404, json={"statusCode": 404, "message": "Webhook not found", "name": "not_found"})
    created = httpx.Response(200, json={"object": "webhook", "id": "new-id", "signing_secret": SIGNING_SECRET})
    seen, handler = recording(gone, created)
    registration = client_with(handler).register_webhook(HUB_URL, "t", existing_id=WEBHOOK_ID)
    assert [r.method for r in seen] == ["PATCH", "POST"]
    assert registration.provider_webhook_id == "new-id"


def test_a_sending_only_key_is_refused_as_a_bad_request_not_as_rejected_credentials() -> None:
    # A sending-only key authenticates (and sends fine): refusing a management call must not
    # disable the integration, as an AuthenticationError would
    body = {
        "statusCode": 401,
        "message": "This API key is restricted to only send emails.",
        "name": "restricted_api_key",
    }
    client = client_with(lambda r: httpx.Response(401, json=body))
    with pytest.raises(InvalidRequestError) as info:
        client.register_webhook(HUB_URL, "t")
    assert info.value.code == "restricted_api_key" and "full-access" in info.value.message
    with pytest.raises(InvalidRequestError):
        client.issue_credentials()


def test_an_invalid_key_is_still_an_authentication_error() -> None:
    body = {"statusCode": 403, "message": "API key is invalid", "name": "invalid_api_key"}
    with pytest.raises(AuthenticationError):
        client_with(lambda r: httpx.Response(403, json=body)).register_webhook(HUB_URL, "t")


def test_an_answer_without_the_signing_secret_is_the_provider_misbehaving() -> None:
    client = client_with(lambda r: httpx.Response(200, json={"object": "webhook", "id": WEBHOOK_ID}))
    with pytest.raises(ProviderUnavailableError):
        client.register_webhook(HUB_URL, "t")


def test_issue_credentials_creates_a_full_access_key_once() -> None:
    seen, handler = recording(httpx.Response(200, json={"id": "key-new", "token": "re_new_token_456"}))

    issued = client_with(handler, org_id="acme").issue_credentials()

    (request,) = seen
    assert (request.method, request.url.path) == ("POST", "/api-keys")
    body = json.loads(request.content)
    assert body["permission"] == "full_access"
    assert body["name"].startswith("hub acme ") and len(body["name"]) <= API_KEY_NAME_MAX
    assert issued == {"api_key": "re_new_token_456", "api_key_id": "key-new"}
    # Sent once: a retry could issue two keys
    seen, handler = recording(httpx.Response(503, json={"statusCode": 503, "name": "service_unavailable"}))
    with pytest.raises(ProviderUnavailableError):
        client_with(handler).issue_credentials()
    assert len(seen) == 1


def test_revoke_credentials_deletes_the_previous_key_and_a_key_already_gone_is_done() -> None:
    seen, handler = recording(httpx.Response(200, json={"object": "api_key", "id": "key-old", "deleted": True}))
    client_with(handler).revoke_credentials({"api_key": "re_old", "api_key_id": "key-old"})
    assert [(r.method, r.url.path) for r in seen] == [("DELETE", "/api-keys/key-old")]

    gone = httpx.Response(404, json={"statusCode": 404, "message": "API key not found", "name": "not_found"})
    client_with(lambda r: gone).revoke_credentials({"api_key_id": "key-old"})


def test_a_previous_key_without_an_id_or_the_key_in_use_is_never_deleted() -> None:
    seen, handler = recording(httpx.Response(200, json={}))
    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).revoke_credentials({"api_key": "re_pasted_by_hand"})
    assert info.value.code == "previous_key_not_revocable" and "re_pasted_by_hand" not in info.value.message
    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).revoke_credentials({"api_key_id": "key-current"})
    assert info.value.code == "revoke_current_key"
    assert seen == []
