"""WhatsAppSendText invoked directly: validation, E.164, errors by class name, idempotency."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from hub.errors import AuthenticationError, InvalidRequestError
from tests.aws.conftest import HubAws
from tests.helpers import FakeLambdaContext, load_function

EVO = {"base_url": "https://evo.test", "api_key": "evo-key", "instance": "somos-principal"}
SENT = {"key": {"remoteJid": "5555991234567@s.whatsapp.net", "fromMe": True, "id": "BAE5F00D"}, "status": "PENDING"}


@pytest.fixture
def fn(hub_aws: HubAws) -> Any:
    hub_aws.put_secret("demo", "evolution", EVO)
    return load_function("whatsapp_send_text")


def test_sends_to_the_e164_number_and_returns_the_provider_id(fn: Any) -> None:
    with respx.mock() as mock:
        route = mock.post("https://evo.test/message/sendText/somos-principal").respond(201, json=SENT)
        result = fn.handler({"org_id": "demo", "to": "(55) 99123-4567", "text": "Oi"}, FakeLambdaContext())
    assert result == {
        "channel": "whatsapp",
        "provider": "evolution",
        "message_id": "BAE5F00D",
        "to": "+5555991234567",
        "status": "PENDING",
    }
    assert json.loads(route.calls.last.request.content) == {"number": "5555991234567", "text": "Oi"}


def test_invalid_payload_names_every_wrong_field(fn: Any) -> None:
    with pytest.raises(InvalidRequestError) as info:
        fn.handler({"org_id": "demo", "text": "", "extra": 1}, FakeLambdaContext())
    for field in ("to", "text", "extra"):
        assert field in info.value.message


def test_org_without_credentials_is_an_authentication_error(fn: Any) -> None:
    with pytest.raises(AuthenticationError, match="no WhatsApp credentials configured for this org"):
        fn.handler({"org_id": "other", "to": "11987654321", "text": "Oi"}, FakeLambdaContext())


def test_same_idempotency_key_sends_once(fn: Any) -> None:
    payload = {"org_id": "demo", "to": "11987654321", "text": "Oi", "idempotency_key": "lead-1"}
    with respx.mock() as mock:
        route = mock.post("https://evo.test/message/sendText/somos-principal").respond(201, json=SENT)
        first = fn.handler(payload, FakeLambdaContext())
        second = fn.handler(payload, FakeLambdaContext())
    assert first == second
    assert route.call_count == 1


def test_each_send_is_in_the_event_log_with_its_provider_calls_once(fn: Any, hub_aws: HubAws) -> None:
    from hub import eventlog
    from hub.eventlog import EventQuery

    # Given a send, the same request again (answered from the idempotency store), and a refused one
    payload = {"org_id": "demo", "to": "11987654321", "text": "Oi", "idempotency_key": "log-1"}
    with respx.mock() as mock:
        mock.post("https://evo.test/message/sendText/somos-principal").mock(
            side_effect=[
                httpx.Response(201, json=SENT),
                httpx.Response(400, json={"status": 400, "response": {"message": ["number does not exist"]}}),
            ]
        )
        fn.handler(payload, FakeLambdaContext())
        fn.handler(payload, FakeLambdaContext())
        with pytest.raises(InvalidRequestError):
            fn.handler({**payload, "idempotency_key": "log-2"}, FakeLambdaContext())
    # Then the console lists two outbound records (the replay called no provider), newest first
    page = eventlog.query_events(EventQuery(org_id="demo", direction="outbound"))
    assert [(e.type, e.status, e.provider) for e in page.items] == [
        ("whatsapp.send_text", "failed", "evolution"),
        ("whatsapp.send_text", "succeeded", "evolution"),
    ]
    sent = eventlog.get_event(page.items[1].record_id)
    assert sent is not None
    # with the provider call (path without query), and the payload with the number masked
    [call] = sent.calls
    assert (call.provider, call.method, call.path, call.status) == (
        "evolution",
        "POST",
        "/message/sendText/somos-principal",
        201,
    )
    assert sent.request is not None and sent.request["to"] == sent.request["text"] == "[masked]"
    assert sent.request["org_id"] == "demo" and sent.request["idempotency_key"] == "log-1"
    assert sent.response is not None and sent.response["message_id"] == "BAE5F00D"
    failed = eventlog.get_event(page.items[0].record_id)
    assert failed is not None and failed.error_class == "InvalidRequestError" and failed.calls[0].status == 400
    assert [(i.provider, i.error_class) for i in eventlog.list_issues(org_id="demo")] == [
        ("evolution", "InvalidRequestError")
    ]
