"""EvolutionClient against Evolution API v2's documented requests and responses."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import SecretStr

from hub.errors import AuthenticationError, ConfigurationError, InvalidRequestError, ProviderUnavailableError
from hub.providers.evolution.client import EvolutionClient, EvolutionCredentials
from hub.providers.evolution.webhook import normalise_evolution_webhook, verify_evolution_webhook
from hub.webhooks.models import RawWebhook, WebhookAuthenticationError
from tests.helpers import AdapterFactory, raw_webhook, recording

CREDS = EvolutionCredentials(
    base_url="https://evo.example.com/",
    api_key=SecretStr("evo-key"),
    instance="somos-principal",
    webhook_token=SecretStr("tok-current"),
    previous_webhook_token=SecretStr("tok-previous"),
)

SEND_OK = {
    "key": {"remoteJid": "5511987654321@s.whatsapp.net", "fromMe": True, "id": "BAE594145F4C59B4"},
    "pushName": "",
    "status": "PENDING",
    "message": {"conversation": "Olá!"},
    "messageType": "conversation",
    "messageTimestamp": 1763850000,
}


client_with = AdapterFactory(EvolutionClient, CREDS, attempts=3)


def test_send_text_posts_the_v2_flat_body_with_the_apikey_header() -> None:
    seen, handler = recording(httpx.Response(201, json=SEND_OK))

    sent = client_with(handler).send_text("+5511987654321", "Olá!", delay_ms=1200)

    request = seen[0]
    assert request.method == "POST"
    assert str(request.url) == "https://evo.example.com/message/sendText/somos-principal"
    assert request.headers["apikey"] == "evo-key"
    assert json.loads(request.content) == {"number": "5511987654321", "text": "Olá!", "delay": 1200}
    assert "textMessage" not in request.content.decode()
    assert sent.message_id == "BAE594145F4C59B4"
    assert sent.to == "+5511987654321"
    assert sent.status == "PENDING"


def test_number_not_on_whatsapp_is_an_invalid_request() -> None:
    body = {
        "status": 400,
        "error": "Bad Request",
        "response": {"message": [{"exists": False, "jid": "5500000000000@s.whatsapp.net", "number": "5500000000000"}]},
    }
    with pytest.raises(InvalidRequestError) as info:
        client_with(lambda r: httpx.Response(400, json=body)).send_text("+5511987654321", "hi")
    assert info.value.code == "number_not_on_whatsapp"


def test_bad_api_key_is_an_authentication_error() -> None:
    body = {"status": 401, "error": "Unauthorized", "response": {"message": "Unauthorized"}}
    with pytest.raises(AuthenticationError):
        client_with(lambda r: httpx.Response(401, json=body)).send_text("+5511987654321", "hi")


def test_server_errors_are_retried_then_unavailable() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(500, json={"status": 500, "error": "Internal Server Error", "response": {"message": "x"}})

    with pytest.raises(ProviderUnavailableError):
        client_with(handler).send_text("+5511987654321", "hi")
    assert len(calls) == 2  # one quick retry, then fail over (hub.retry)


def test_health_check_requires_an_open_session() -> None:
    ok = {"instance": {"instanceName": "somos-principal", "state": "open"}}
    client_with(lambda r: httpx.Response(200, json=ok)).health_check()
    closed = {"instance": {"instanceName": "somos-principal", "state": "close"}}
    with pytest.raises(ProviderUnavailableError, match="state=close"):
        client_with(lambda r: httpx.Response(200, json=closed)).health_check()


def test_malformed_credentials_name_the_field_but_not_the_value() -> None:
    with pytest.raises(ConfigurationError) as info:
        EvolutionClient.parse_credentials({"base_url": "https://x", "api_key": "super-secret-value"})
    assert "instance" in info.value.message
    assert "super-secret-value" not in info.value.message


def _raw(headers: dict[str, str]) -> RawWebhook:
    return raw_webhook("evolution", headers=headers, received_at=datetime.now(UTC))


SECRET = {
    "base_url": "https://evo",
    "api_key": "k",
    "instance": "i",
    "webhook_token": "tok-current",
    "previous_webhook_token": "tok-previous",
}


@pytest.mark.parametrize("token", ["tok-current", "tok-previous"])
def test_webhook_accepts_current_and_previous_token(token: str) -> None:
    verify_evolution_webhook(_raw({"Authorization": f"Bearer {token}"}), SECRET)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "tok-current"}, {"Authorization": "Basic tok-current"}],
)
def test_webhook_rejects_missing_or_wrong_token(headers: dict[str, str]) -> None:
    with pytest.raises(WebhookAuthenticationError):
        verify_evolution_webhook(_raw(headers), SECRET)


def test_webhook_without_configured_token_rejects_everything() -> None:
    secret = {k: v for k, v in SECRET.items() if "token" not in k}
    with pytest.raises(WebhookAuthenticationError):
        verify_evolution_webhook(_raw({"Authorization": "Bearer "}), secret)


def _upsert(**data_overrides: object) -> dict[str, object]:
    with open("events/webhook_evolution.json", encoding="utf-8") as fh:
        payload = json.loads(json.load(fh)["body"])
    payload["data"].update(data_overrides)
    return payload


def test_messages_upsert_becomes_message_received() -> None:
    received = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    [event] = normalise_evolution_webhook(_upsert(), org_id="demo", received_at=received, raw_ref="raw/x.json")
    assert event.type == "message.received"
    assert event.provider == "evolution"
    assert event.dedupe_key == "3EB0C431C26A1916E2E8"
    assert event.data["from_address"] == "+5511987654321"
    assert event.data["text"] == "Olá, gostaria de um orçamento"
    assert event.data["channel"] == "whatsapp"
    assert event.raw_ref == "raw/x.json"
    assert event.occurred_at == datetime.fromtimestamp(1763812800, tz=UTC)
    # The same delivery always gets the same event id (replays, duplicates).
    [again] = normalise_evolution_webhook(_upsert(), org_id="demo", received_at=datetime.now(UTC), raw_ref="raw/y.json")
    assert again.event_id == event.event_id


def test_own_messages_groups_and_other_events_produce_no_event() -> None:
    now = datetime.now(UTC)
    own = _upsert(key={"remoteJid": "5511987654321@s.whatsapp.net", "fromMe": True, "id": "A1"})
    group = _upsert(key={"remoteJid": "120363000000000000@g.us", "fromMe": False, "id": "A2"})
    other = {"event": "connection.update", "instance": "x", "data": {"state": "open"}}
    for payload in (own, group, other):
        assert normalise_evolution_webhook(payload, org_id="demo", received_at=now, raw_ref="r") == []
