"""MetaAppClient (key ``meta``): the app's webhook subscriptions through the Graph API.

https://developers.facebook.com/docs/graph-api/webhooks/subscriptions-edge and
https://developers.facebook.com/docs/graph-api/reference/app/subscriptions/ (POST
/{app-id}/subscriptions: object, callback_url, fields, verify_token → {"success": true}); app
access token ``{app-id}|{app-secret}``; Graph errors ``{"error": {"message", "type", "code"}}``.
"""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest

from hub.errors import AuthenticationError, ConfigurationError, InvalidRequestError, RateLimitedError
from hub.providers import ports
from hub.providers.meta.app import SUBSCRIPTIONS, MetaAppClient
from tests.helpers import AdapterFactory, FakeSecrets, recording

APP_ID = "1234567890123456"
CREDS = MetaAppClient.parse_credentials(
    {"app_id": APP_ID, "app_secret": "app-secret-value", "verify_token": "vt-stored"}
)
HUB_URL = "https://hub.example.com/Prod/webhooks/meta/acme"

client_with = AdapterFactory(MetaAppClient, CREDS, attempts=3)


def test_register_webhook_subscribes_each_object_the_receiver_normalises_with_the_stored_verify_token() -> None:
    seen, handler = recording(httpx.Response(200, json={"success": True}))

    registration = client_with(handler).register_webhook(HUB_URL, "hub-generated-not-used")

    assert [(r.method, r.url.path) for r in seen] == [("POST", f"/v26.0/{APP_ID}/subscriptions")] * len(SUBSCRIPTIONS)
    sent = [{k: v[0] for k, v in parse_qs(r.content.decode()).items()} for r in seen]
    assert [(s["object"], s["fields"]) for s in sent] == [
        ("whatsapp_business_account", "messages"),
        ("instagram", "comments,mentions"),
        ("page", "feed,mention"),
    ]
    # The verify token Meta sends back to the hub's GET route during the call is the stored one
    assert {s["verify_token"] for s in sent} == {"vt-stored"} and {s["callback_url"] for s in sent} == {HUB_URL}
    assert seen[0].headers["authorization"] == f"Bearer {APP_ID}|app-secret-value"
    # Deliveries are signed with the app secret: nothing new to store
    assert registration.provider_webhook_id == APP_ID and dict(registration.secret_fields) == {}


def test_a_failed_callback_verification_is_an_invalid_request_naming_it() -> None:
    failed = {"error": {"message": "(#2200) callback verification failed", "type": "OAuthException", "code": 2200}}
    with pytest.raises(InvalidRequestError) as info:
        client_with(lambda r: httpx.Response(400, json=failed)).register_webhook(HUB_URL, "t")
    assert "2200" in info.value.message and "app-secret-value" not in str(info.value)


def test_graph_errors_map_to_the_taxonomy() -> None:
    bad_token = {"error": {"message": "Invalid OAuth access token", "type": "OAuthException", "code": 190}}
    with pytest.raises(AuthenticationError):
        client_with(lambda r: httpx.Response(400, json=bad_token)).register_webhook(HUB_URL, "t")
    throttled = {"error": {"message": "(#4) Application request limit reached", "type": "OAuthException", "code": 4}}
    with pytest.raises(RateLimitedError):
        client_with(lambda r: httpx.Response(400, json=throttled), attempts=1).register_webhook(HUB_URL, "t")


def test_an_org_holding_only_the_webhook_fields_has_no_app_to_subscribe(secrets: FakeSecrets) -> None:
    # Most orgs hold only app_secret + verify_token: asking for their registrar names app_id
    secrets.stored["hub/acme/meta"] = {"app_secret": "s", "verify_token": "v"}
    with pytest.raises(ConfigurationError) as info:
        ports.for_org(ports.WebhookRegistrar, "acme", "meta")
    assert "app_id" in str(info.value)


def test_health_check_reads_the_app_with_its_token() -> None:
    seen, handler = recording(httpx.Response(200, json={"id": APP_ID, "name": "Somos"}))
    client_with(handler).health_check()
    assert seen[0].url.path == f"/v26.0/{APP_ID}" and seen[0].url.params["fields"] == "id,name"
