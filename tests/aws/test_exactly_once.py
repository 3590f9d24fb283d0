"""Effects happen once: unknown outcomes are resolved before anything is sent again, and an
idempotency key names one request (issue 11, parts 1 and 2)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import respx

from hub.config import get_settings
from hub.errors import (
    IdempotencyConflictError,
    OutcomeUnknownError,
    ProviderUnavailableError,
    RequestInProgressError,
)
from tests.aws.conftest import HubAws
from tests.helpers import FakeLambdaContext, load_function

EVO = {"base_url": "https://evo.test", "api_key": "evo-key", "instance": "somos-principal"}
SEND_TEXT = "https://evo.test/message/sendText/somos-principal"
FIND = "https://evo.test/chat/findMessages/somos-principal"
JID = "5511987654321@s.whatsapp.net"
TWILIO = {
    "account_sid": "AC" + "1" * 32,
    "auth_token": "tw-token",
    "from_number": "+15005550006",
}
TWILIO_MESSAGES = f"https://api.twilio.com/2010-04-01/Accounts/{TWILIO['account_sid']}/Messages.json"


def stored(message_id: str, text: str, at: datetime, jid: str = JID) -> dict[str, Any]:
    return {
        "key": {"remoteJid": jid, "fromMe": True, "id": message_id},
        "status": "PENDING",
        "message": {"conversation": text},
        "messageType": "conversation",
        "messageTimestamp": int(at.timestamp()),
    }


def found(*records: dict[str, Any]) -> dict[str, Any]:
    return {"messages": {"total": len(records), "pages": 1, "currentPage": 1, "records": list(records)}}


@pytest.fixture
def send_text(hub_aws: HubAws) -> Any:
    hub_aws.put_secret("demo", "evolution", EVO)
    return load_function("whatsapp_send_text")


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lookups that find nothing count as "not sent" at once (no waiting in tests)."""
    monkeypatch.setenv("OUTCOME_SETTLE_SECONDS", "0")
    get_settings.cache_clear()


def payload(**extra: Any) -> dict[str, Any]:
    return {"org_id": "demo", "to": "11987654321", "text": "Oi", "idempotency_key": "K", **extra}


# ----- 1. unknown outcomes --------------------------------------------------------------------


def test_a_send_that_timed_out_is_found_by_lookup_and_never_sent_twice(send_text: Any) -> None:
    # Given: Evolution took the message but its answer never came back
    with respx.mock() as mock:
        send = mock.post(SEND_TEXT).mock(side_effect=httpx.ReadTimeout("slow"))
        lookup = mock.post(FIND).respond(200, json=found())
        # When
        with pytest.raises(OutcomeUnknownError) as info:
            send_text.handler(payload(), FakeLambdaContext())
        # Then: an unknown outcome naming the key, sent once, not retried
        assert info.value.idempotency_key == "K"
        assert info.value.code == "read_timeout"
        assert send.call_count == 1

        # When: the caller asks again with the same key, and the message shows up at Evolution
        lookup.respond(200, json=found(stored("BAE5LATE", "Oi", datetime.now(UTC))))
        result = send_text.handler(payload(), FakeLambdaContext())
        again = send_text.handler(payload(), FakeLambdaContext())
    # Then: the message Evolution holds is the answer; nothing was sent a second time
    assert result["message_id"] == again["message_id"] == "BAE5LATE"
    assert send.call_count == 1
    body = json.loads(lookup.calls.last.request.content)
    assert body["where"] == {"key": {"remoteJid": JID}}


def test_while_the_lookup_finds_nothing_yet_the_unknown_outcome_is_answered_again(send_text: Any) -> None:
    # Given: a lost answer, and a provider that may still be working on it (settle window)
    with respx.mock() as mock:
        send = mock.post(SEND_TEXT).mock(side_effect=httpx.RemoteProtocolError("connection reset"))
        mock.post(FIND).respond(200, json=found())
        with pytest.raises(OutcomeUnknownError) as first:
            send_text.handler(payload(), FakeLambdaContext())
        # When / Then: the same key again is still unknown, and nothing is sent
        with pytest.raises(OutcomeUnknownError) as second:
            send_text.handler(payload(), FakeLambdaContext())
    assert first.value.code == "connection_lost"
    assert second.value.details["first_attempt_at"]
    assert send.call_count == 1


def test_resend_true_sends_again_on_the_callers_word(send_text: Any) -> None:
    sent = {"key": {"remoteJid": JID, "fromMe": True, "id": "BAE5NEW"}, "status": "PENDING"}
    with respx.mock(assert_all_called=False) as mock:
        send = mock.post(SEND_TEXT).mock(side_effect=[httpx.ReadTimeout("slow"), httpx.Response(201, json=sent)])
        lookup = mock.post(FIND).respond(200, json=found())
        with pytest.raises(OutcomeUnknownError):
            send_text.handler(payload(), FakeLambdaContext())
        result = send_text.handler(payload(resend=True), FakeLambdaContext())
        # The outcome is known now: the key answers that message from here on
        after = send_text.handler(payload(), FakeLambdaContext())
    assert result["message_id"] == after["message_id"] == "BAE5NEW"
    assert send.call_count == 2
    assert lookup.call_count == 0


def test_resend_must_be_a_boolean(send_text: Any) -> None:
    with pytest.raises(Exception, match="resend") as info:
        send_text.handler(payload(resend="yes"), FakeLambdaContext())
    assert type(info.value).__name__ == "InvalidRequestError"


def test_a_lookup_that_surely_finds_nothing_sends_once_more(send_text: Any, settled: None) -> None:
    # Given: the connection dropped before Evolution stored anything (its chat shows no such message)
    sent = {"key": {"remoteJid": JID, "fromMe": True, "id": "BAE5OK"}, "status": "PENDING"}
    older = stored("BAE5OLD", "Oi", datetime.now(UTC) - timedelta(hours=2))  # the same text, sent long ago
    other = stored("BAE5OTHER", "Outro texto", datetime.now(UTC))
    with respx.mock() as mock:
        send = mock.post(SEND_TEXT).mock(
            side_effect=[httpx.RemoteProtocolError("reset"), httpx.Response(201, json=sent)]
        )
        mock.post(FIND).respond(200, json=found(other, older))
        with pytest.raises(OutcomeUnknownError):
            send_text.handler(payload(), FakeLambdaContext())
        result = send_text.handler(payload(), FakeLambdaContext())
    assert result["message_id"] == "BAE5OK"
    assert send.call_count == 2


def test_a_connect_failure_sent_nothing_and_stays_retryable(send_text: Any) -> None:
    sent = {"key": {"remoteJid": JID, "fromMe": True, "id": "BAE5C"}, "status": "PENDING"}
    with respx.mock() as mock:
        send = mock.post(SEND_TEXT).mock(side_effect=[httpx.ConnectError("refused"), httpx.Response(201, json=sent)])
        # A refused connection fails over at once (not retried inside the call: the port is as
        # closed a moment later), as retryable: nothing had reached Evolution
        with pytest.raises(ProviderUnavailableError) as info:
            send_text.handler(payload(), FakeLambdaContext())
        assert (info.value.code, info.value.retryable) == ("connect_failed", True)
        assert send.call_count == 1
        # and the caller's retry with the same key sends it, once
        result = send_text.handler(payload(), FakeLambdaContext())
    assert result["message_id"] == "BAE5C"
    assert send.call_count == 2


def test_a_gateway_504_on_a_send_is_unknown_and_not_retried(send_text: Any) -> None:
    with respx.mock() as mock:
        send = mock.post(SEND_TEXT).respond(504, text="Gateway Timeout")
        with pytest.raises(OutcomeUnknownError) as info:
            send_text.handler(payload(), FakeLambdaContext())
    assert info.value.http_status == 504
    assert send.call_count == 1


def test_twilio_resolves_a_lost_send_from_its_message_list(hub_aws: HubAws) -> None:
    hub_aws.put_secret("demo", "twilio", TWILIO)
    sms = load_function("sms_send")
    request = {"org_id": "demo", "to": "11987654321", "body": "Seu pedido saiu", "idempotency_key": "sms-1"}
    listed = {
        "messages": [
            {
                "sid": "SM" + "a" * 32,
                "body": "Seu pedido saiu",
                "to": "+5511987654321",
                "from": TWILIO["from_number"],
                "direction": "outbound-api",
                "status": "sent",
                "date_created": format_datetime(datetime.now(UTC)),
                "messaging_service_sid": None,
            }
        ],
        "next_page_uri": None,
    }
    with respx.mock() as mock:
        create = mock.post(TWILIO_MESSAGES).mock(side_effect=httpx.ReadTimeout("slow"))
        listing = mock.get(TWILIO_MESSAGES).respond(200, json=listed)
        with pytest.raises(OutcomeUnknownError):
            sms.handler(request, FakeLambdaContext())
        result = sms.handler(request, FakeLambdaContext())
    assert result["message_id"] == "SM" + "a" * 32
    assert create.call_count == 1
    query = listing.calls.last.request.url.params
    assert query["To"] == "+5511987654321" and query["From"] == TWILIO["from_number"]


def test_the_outbox_never_resends_an_unknown_outcome(hub_aws: HubAws) -> None:
    hub_aws.put_secret("demo", "evolution", EVO)
    outbox = load_function("messages_outbox_process")
    body = json.dumps({"operation": "whatsapp.send_text", "request": payload(idempotency_key="camp-1")})
    [url] = [u for u in hub_aws.client("sqs").list_queues()["QueueUrls"] if u.endswith("messagesoutboxqueue")]
    event = hub_aws.sqs_event(url, [body])
    with respx.mock() as mock:
        send = mock.post(SEND_TEXT).mock(side_effect=httpx.ReadTimeout("slow"))
        mock.post(FIND).respond(200, json=found())
        answer = outbox.handler(event, FakeLambdaContext())
        again = outbox.handler(event, FakeLambdaContext())  # a redelivery, were there one
    # Consumed (no batch failure: SQS will not redeliver it), and sent once
    assert answer == again == {"batchItemFailures": []}
    assert send.call_count == 1


# ----- 2. idempotency keys name one request ---------------------------------------------------


def test_a_key_reused_with_another_payload_is_refused_and_sends_nothing(send_text: Any) -> None:
    sent = {"key": {"remoteJid": JID, "fromMe": True, "id": "BAE5ONE"}, "status": "PENDING"}
    with respx.mock() as mock:
        route = mock.post(SEND_TEXT).respond(201, json=sent)
        send_text.handler(payload(), FakeLambdaContext())
        with pytest.raises(IdempotencyConflictError) as info:
            send_text.handler(payload(to="21999998888"), FakeLambdaContext())
    assert "K" in info.value.message
    assert route.call_count == 1


def test_the_same_request_in_another_spelling_is_the_same_request(send_text: Any) -> None:
    sent = {"key": {"remoteJid": JID, "fromMe": True, "id": "BAE5SAME"}, "status": "PENDING"}
    with respx.mock() as mock:
        route = mock.post(SEND_TEXT).respond(201, json=sent)
        first = send_text.handler(payload(to="(11) 98765-4321"), FakeLambdaContext())
        second = send_text.handler(payload(to="(11) 98765-4321"), FakeLambdaContext())
    assert first == second and route.call_count == 1


def test_a_key_reused_while_the_first_runs_is_request_in_progress(send_text: Any) -> None:
    release = threading.Event()
    entered = threading.Event()
    sent = {"key": {"remoteJid": JID, "fromMe": True, "id": "BAE5SLOW"}, "status": "PENDING"}

    def slow(request: httpx.Request) -> httpx.Response:
        entered.set()
        release.wait(10)
        return httpx.Response(201, json=sent)

    results: list[Any] = []
    with respx.mock() as mock:
        route = mock.post(SEND_TEXT).mock(side_effect=slow)
        first = threading.Thread(target=lambda: results.append(send_text.handler(payload(), FakeLambdaContext())))
        first.start()
        assert entered.wait(10)
        try:
            with pytest.raises(RequestInProgressError) as info:
                send_text.handler(payload(), FakeLambdaContext())
        finally:
            release.set()
            first.join(10)
    assert info.value.retry_after > 0
    assert info.value.to_dict()["retry_after"] == info.value.retry_after
    assert results and results[0]["message_id"] == "BAE5SLOW"
    assert route.call_count == 1


def test_the_outbox_refuses_an_unknown_org_and_announces_it(hub_aws: HubAws) -> None:
    # Given: credentials exist for an org nobody registered
    hub_aws.put_secret("ghost", "evolution", EVO)
    tap = hub_aws.bus_tap("rejected-tap", {"detail-type": ["message.rejected"]})
    outbox = load_function("messages_outbox_process")
    body = json.dumps({"operation": "whatsapp.send_text", "request": payload(org_id="ghost", idempotency_key="g-1")})
    [url] = [u for u in hub_aws.client("sqs").list_queues()["QueueUrls"] if u.endswith("messagesoutboxqueue")]
    with respx.mock(assert_all_called=False) as mock:
        send = mock.post(SEND_TEXT).respond(201, json={})
        answer = outbox.handler(hub_aws.sqs_event(url, [body]), FakeLambdaContext())
    # Then: consumed (retrying cannot help), nothing sent, the sender told why
    assert answer == {"batchItemFailures": []}
    assert send.call_count == 0
    notes = hub_aws.client("sqs").receive_message(QueueUrl=tap, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    assert [json.loads(n["Body"])["detail"]["error"]["code"] for n in notes] == ["unknown_org"]


def test_a_transfer_whose_answer_was_lost_is_never_sent_again_blindly(hub_aws: HubAws) -> None:
    # Given: an allowlisted account, and Asaas dropping the connection after taking the transfer
    hub_aws.put_secret("demo", "asaas", {"api_key": "asaas-key", "base_url": "https://asaas.test/v3"})
    hub_aws.put_secret(
        "demo", "payments", {"transfer_allowlist": [{"name": "Conta PJ", "pix_key": "financeiro@example.com.br"}]}
    )
    transfer = load_function("transfer_create")
    request = {
        "org_id": "demo",
        "value_cents": 150_000,
        "destination": "Conta PJ",
        "requested_by": "financeiro@agency",
        "idempotency_key": "payout-2026-12",
    }
    done = {"id": "tra_1", "status": "PENDING", "value": 1500.00, "operationType": "PIX"}
    with respx.mock() as mock:
        post = mock.post("https://asaas.test/v3/transfers").mock(
            side_effect=[httpx.RemoteProtocolError("reset"), httpx.Response(200, json=done)]
        )
        # When / Then: unknown, and the same key again answers it without a second transfer
        with pytest.raises(OutcomeUnknownError):
            transfer.handler(request, FakeLambdaContext())
        with pytest.raises(OutcomeUnknownError):
            transfer.handler(request, FakeLambdaContext())
        assert post.call_count == 1
        # A different amount under the same key is another request: refused, not sent
        with pytest.raises(IdempotencyConflictError):
            transfer.handler({**request, "value_cents": 99_999_900}, FakeLambdaContext())
        # The caller checked the statement: no transfer happened; they say so explicitly
        result = transfer.handler({**request, "resend": True}, FakeLambdaContext())
    assert result["transfer_id"] == "tra_1"
    assert post.call_count == 2
    # The unknown outcome is on the audit trail, beside the request and the transfer made
    audited = hub_aws.client("dynamodb").scan(TableName=hub_aws.env["AUDIT_TABLE"])["Items"]
    actions = [item["action"]["S"] for item in audited if "action" in item]
    assert "transfer_outcome_unknown" in actions and "transfer_created" in actions
