"""EvolutionClient.register_webhook (WebhookRegistrar) against Evolution API v2's documented call.

https://doc.evolution-api.com/v2/api-reference/webhook/set; the body's shape is the server's
webhookSchema (EvolutionAPI/evolution-api src/api/integrations/event/webhook/webhook.schema.ts).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from hub.errors import AuthenticationError, InvalidRequestError
from hub.providers.evolution.client import EvolutionClient, EvolutionCredentials
from hub.providers.evolution.webhook import verify_evolution_webhook
from hub.webhooks.models import WebhookAuthenticationError
from tests.helpers import AdapterFactory, raw_webhook, recording

CREDS = EvolutionCredentials.model_validate(
    {"base_url": "https://evo.example.com/", "api_key": "evo-key", "instance": "somos-principal"}
)
HUB_URL = "https://hub.example.com/Prod/webhooks/evolution/acme"
TOKEN = "Hk2vN8qXw4LpR7tY1zJ9cB3mF6dS0aGe"
# What WebhookController.set answers: the upserted prisma Webhook record.
RECORD = {
    "id": "cm3x2k9a80001qz8r5t7w1y2u",
    "url": HUB_URL,
    "headers": {"Authorization": f"Bearer {TOKEN}"},
    "enabled": True,
    "events": ["MESSAGES_UPSERT", "MESSAGES_UPDATE"],
    "webhookByEvents": False,
    "webhookBase64": False,
    "createdAt": "2026-12-03T13:00:00.000Z",
    "updatedAt": "2026-12-03T13:00:00.000Z",
    "instanceId": "5f6a1c9e-6c1b-4b8e-9d1a-3f0c2e7b9a10",
}

NOW = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)

client_with = AdapterFactory(EvolutionClient, CREDS, attempts=3)


def test_register_webhook_sets_the_instances_webhook_with_the_token_as_a_bearer_header() -> None:
    seen, handler = recording(httpx.Response(201, json=RECORD))

    registration = client_with(handler).register_webhook(HUB_URL, TOKEN)

    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == "https://evo.example.com/webhook/set/somos-principal"
    assert request.headers["apikey"] == "evo-key"
    assert json.loads(request.content) == {
        "webhook": {
            "enabled": True,
            "url": HUB_URL,
            "headers": {"Authorization": f"Bearer {TOKEN}"},
            "byEvents": False,
            "base64": False,
            "events": ["MESSAGES_UPSERT", "MESSAGES_UPDATE"],
        }
    }
    assert registration.provider_webhook_id == RECORD["id"]
    assert dict(registration.secret_fields) == {"webhook_token": TOKEN}
    assert registration.events == ("MESSAGES_UPSERT", "MESSAGES_UPDATE")


def test_the_registered_fields_make_the_hubs_verifier_accept_what_evolution_sends() -> None:
    # Given the fields a registration answered, stored in the org's secret
    registration = client_with(lambda r: httpx.Response(201, json=RECORD)).register_webhook(HUB_URL, TOKEN)
    secret = {"base_url": "https://evo.example.com", "api_key": "evo-key", "instance": "somos-principal"}
    secret.update(registration.secret_fields)
    # When Evolution delivers with the custom headers it was given
    delivery = raw_webhook(
        "evolution", b'{"event": "messages.upsert"}', {"Authorization": f"Bearer {TOKEN}"}, received_at=NOW
    )
    # Then the verifier accepts it, and refuses another token
    verify_evolution_webhook(delivery, secret)
    with pytest.raises(WebhookAuthenticationError):
        verify_evolution_webhook(
            raw_webhook("evolution", b"{}", {"Authorization": "Bearer other"}, received_at=NOW), secret
        )


def test_a_second_registration_replaces_the_instances_webhook_and_a_retry_is_harmless() -> None:
    # Evolution keeps one webhook per instance (an upsert): a 503 is simply retried
    seen, handler = recording(httpx.Response(503, json={"status": 503}), httpx.Response(201, json=RECORD))
    registration = client_with(handler).register_webhook(HUB_URL, TOKEN, existing_id="cm-old")
    assert [r.url.path for r in seen] == ["/webhook/set/somos-principal"] * 2
    assert registration.provider_webhook_id == RECORD["id"]


@pytest.mark.parametrize("url", ["ftp://hub.example.com/x", "/webhooks/evolution/acme", "https://", "https://a b"])
def test_a_target_that_is_not_an_http_url_is_refused_before_any_call(url: str) -> None:
    seen, handler = recording(httpx.Response(201, json=RECORD))
    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).register_webhook(url, TOKEN)
    assert info.value.code == "invalid_webhook_url" and "url" in info.value.message
    assert seen == []


def test_evolutions_validation_error_is_an_invalid_request_without_the_token() -> None:
    # Evolution echoing the body it refused must not put the token in the error
    body = {"status": 400, "error": "Bad Request", "response": {"message": [f"Bearer {TOKEN} is not allowed"]}}
    client = client_with(lambda r: httpx.Response(400, json=body))
    with pytest.raises(InvalidRequestError) as info:
        client.register_webhook(HUB_URL, TOKEN)
    assert TOKEN not in str(info.value) and TOKEN not in json.dumps(info.value.details)
    assert info.value.http_status == 400


def test_a_rejected_api_key_is_an_authentication_error() -> None:
    client = client_with(lambda r: httpx.Response(401, json={"status": 401, "response": {"message": "Unauthorized"}}))
    with pytest.raises(AuthenticationError):
        client.register_webhook(HUB_URL, TOKEN)
