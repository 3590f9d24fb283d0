"""AsaasClient.register_webhook (WebhookRegistrar) against Asaas's documented calls.

https://docs.asaas.com/docs/create-new-webhook-via-api (POST /v3/webhooks, the authToken rules),
https://docs.asaas.com/reference/update-existing-webhook (PUT /v3/webhooks/{id}),
https://docs.asaas.com/docs/http-response-codes (errors).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from hub.errors import AuthenticationError, InvalidRequestError, ProviderUnavailableError
from hub.providers.asaas.client import WEBHOOK_EVENTS, AsaasClient, weak_auth_token
from hub.providers.asaas.webhook import verify_asaas_webhook
from hub.webhooks.models import WebhookAuthenticationError
from tests.helpers import AdapterFactory, raw_webhook, recording

KEY = "$aact_test_key_123"
BASE = "https://asaas.test/v3"
HUB_URL = "https://hub.example.com/Prod/webhooks/asaas/acme"
TOKEN = "Hk2vN8qXw4LpR7tY1zJ9cB3mF6dS0aGe"
NOW = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
CREDS = AsaasClient.parse_credentials({"api_key": KEY, "base_url": BASE, "webhook_email": "ops@somos.com.br"})

client_with = AdapterFactory(AsaasClient, CREDS, attempts=3)


def webhook(**fields: Any) -> dict[str, Any]:
    """The webhook as Asaas answers it (the token never comes back: ``hasAuthToken``)."""
    return {
        "id": "wh_a1b2c3d4e5",
        "name": "integrations-hub acme",
        "url": HUB_URL,
        "email": "ops@somos.com.br",
        "enabled": True,
        "interrupted": False,
        "apiVersion": 3,
        "hasAuthToken": True,
        "sendType": "SEQUENTIALLY",
        "events": list(WEBHOOK_EVENTS),
        **fields,
    }


def test_register_webhook_creates_it_once_with_the_token_asaas_sends_back() -> None:
    seen, handler = recording(httpx.Response(200, json=webhook()))

    registration = client_with(handler, org_id="acme").register_webhook(HUB_URL, TOKEN)

    (request,) = seen
    assert (request.method, str(request.url)) == ("POST", f"{BASE}/webhooks")
    assert request.headers["access_token"] == KEY
    assert json.loads(request.content) == {
        "name": "integrations-hub acme",
        "url": HUB_URL,
        "email": "ops@somos.com.br",
        "enabled": True,
        "interrupted": False,
        "apiVersion": 3,
        "authToken": TOKEN,
        "sendType": "SEQUENTIALLY",
        "events": list(WEBHOOK_EVENTS),
    }
    assert registration.provider_webhook_id == "wh_a1b2c3d4e5"
    assert dict(registration.secret_fields) == {"webhook_token": TOKEN}
    # The events the receiver normalises are all subscribed
    assert {"PAYMENT_RECEIVED", "PAYMENT_REFUNDED", "SUBSCRIPTION_DELETED"} <= set(registration.events)


def test_the_registered_token_is_what_the_hubs_verifier_accepts() -> None:
    registration = client_with(lambda r: httpx.Response(200, json=webhook())).register_webhook(HUB_URL, TOKEN)
    secret = {"api_key": KEY, **registration.secret_fields}
    verify_asaas_webhook(raw_webhook("asaas", b"{}", {"asaas-access-token": TOKEN}, received_at=NOW), secret)
    with pytest.raises(WebhookAuthenticationError):
        verify_asaas_webhook(raw_webhook("asaas", b"{}", {"asaas-access-token": "x" * 32}, received_at=NOW), secret)


def test_a_create_that_failed_is_not_retried_it_could_leave_two_webhooks() -> None:
    seen, handler = recording(httpx.Response(503, json={"errors": [{"code": "internal_error", "description": "x"}]}))
    with pytest.raises(ProviderUnavailableError):
        client_with(handler).register_webhook(HUB_URL, TOKEN)
    assert len(seen) == 1


def test_an_existing_webhook_is_updated_in_place_and_may_be_retried() -> None:
    seen, handler = recording(httpx.Response(503, json={}), httpx.Response(200, json=webhook()))
    registration = client_with(handler).register_webhook(HUB_URL, TOKEN, existing_id="wh_a1b2c3d4e5")
    assert [(r.method, r.url.path) for r in seen] == [("PUT", "/v3/webhooks/wh_a1b2c3d4e5")] * 2
    assert json.loads(seen[-1].content)["authToken"] == TOKEN
    assert registration.provider_webhook_id == "wh_a1b2c3d4e5"


@pytest.mark.parametrize(
    "token",
    [
        "short-token",
        "a" * 31,
        "x" * 256,
        "Hk2vN8qXw4LpR7tY 1zJ9cB3mF6dS0aGe",
        "Hk2vN8qXw4LpR7tY1zJ9cB3mF6dS0aaaa",
        "Hk2vN8qXw4LpR7tY1234cB3mF6dS0aGeQ",
        KEY + "0123456789abcdefghijkl",
    ],
)
def test_a_token_asaas_would_refuse_is_refused_before_any_call(token: str) -> None:
    seen, handler = recording(httpx.Response(200, json=webhook()))
    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).register_webhook(HUB_URL, token)
    assert info.value.code == "weak_webhook_token" and "secret" in info.value.message
    assert token not in info.value.message
    assert seen == []


def test_a_generated_hub_token_meets_asaas_rules() -> None:
    assert weak_auth_token(TOKEN) is None


def test_without_a_notification_email_nothing_is_sent_and_the_field_is_named() -> None:
    seen, handler = recording(httpx.Response(200, json=webhook()))
    creds = AsaasClient.parse_credentials({"api_key": KEY, "base_url": BASE})
    with pytest.raises(InvalidRequestError) as info:
        client_with(handler, creds=creds).register_webhook(HUB_URL, TOKEN)
    assert info.value.code == "missing_webhook_email" and "webhook_email" in info.value.message
    assert seen == []


def test_asaas_errors_map_to_the_taxonomy_without_the_token() -> None:
    invalid = {"errors": [{"code": "invalid_authToken", "description": f"authToken {TOKEN} inválido"}]}
    with pytest.raises(InvalidRequestError) as info:
        client_with(lambda r: httpx.Response(400, json=invalid)).register_webhook(HUB_URL, TOKEN)
    assert info.value.code == "invalid_authToken" and TOKEN not in str(info.value)
    denied = {"errors": [{"code": "invalid_access_token", "description": "A chave de API fornecida é inválida"}]}
    with pytest.raises(AuthenticationError):
        client_with(lambda r: httpx.Response(401, json=denied)).register_webhook(HUB_URL, TOKEN)


def test_an_answer_without_an_id_is_the_provider_misbehaving() -> None:
    client = client_with(lambda r: httpx.Response(200, json=webhook(id=None)))
    with pytest.raises(ProviderUnavailableError):
        client.register_webhook(HUB_URL, TOKEN)
