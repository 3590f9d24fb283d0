"""The Twilio sandbox: its HTTP contract, and the Twilio adapter driven against it."""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from hub.errors import AuthenticationError, InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.providers.twilio.client import TwilioClient
from hub.retry import RetryPolicy
from localcloud.sandboxes.twilio import (
    DEMO_ACCOUNT_SID,
    DEMO_API_KEY_SECRET,
    DEMO_API_KEY_SID,
    DEMO_AUTH_TOKEN,
    DEMO_FROM_NUMBER,
    DEMO_MESSAGING_SERVICE_SID,
    TwilioSandbox,
    num_segments,
)
from tests.conftest import ServedSandboxes

NO_SLEEP = RetryPolicy(sleep=lambda _: None)
AUTH = (DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN)


@pytest.fixture
def sandbox(sandboxes: ServedSandboxes) -> TwilioSandbox:
    sandbox: TwilioSandbox = sandboxes["twilio"]
    return sandbox


@pytest.fixture
def sandbox_url(sandboxes: ServedSandboxes) -> str:
    return sandboxes.url  # sent messages and faults are reset around every test


def messages_url(sandbox_url: str, account_sid: str = DEMO_ACCOUNT_SID) -> str:
    return f"{sandbox_url}/twilio/2010-04-01/Accounts/{account_sid}/Messages.json"


def client(sandbox_url: str, **overrides: Any) -> TwilioClient:
    secret = {
        "base_url": f"{sandbox_url}/twilio",
        "account_sid": DEMO_ACCOUNT_SID,
        "auth_token": DEMO_AUTH_TOKEN,
        "from_number": DEMO_FROM_NUMBER,
        **overrides,
    }
    return TwilioClient(TwilioClient.parse_credentials(secret), retry_policy=NO_SLEEP)


def test_send_returns_a_realistic_message_resource(sandbox_url: str, sandbox: TwilioSandbox) -> None:
    form = {
        "To": "+5511987654321",
        "From": DEMO_FROM_NUMBER,
        "Body": "Olá! Seu pedido saiu para entrega.",
        "StatusCallback": "http://127.0.0.1:1/never-called",
    }
    resp = httpx.post(messages_url(sandbox_url), data=form, auth=AUTH)
    assert resp.status_code == 201
    body = resp.json()
    assert re.fullmatch(r"SM[0-9a-f]{32}", body["sid"])
    assert body["status"] == "queued"
    assert body["to"] == "+5511987654321" and body["from"] == DEMO_FROM_NUMBER
    assert body["body"] == form["Body"]
    assert body["num_segments"] == "1" and body["num_media"] == "0"
    assert body["direction"] == "outbound-api" and body["api_version"] == "2010-04-01"
    assert body["account_sid"] == DEMO_ACCOUNT_SID
    assert body["uri"] == f"/2010-04-01/Accounts/{DEMO_ACCOUNT_SID}/Messages/{body['sid']}.json"
    assert email.utils.parsedate_to_datetime(body["date_created"]).tzinfo is not None
    assert body["error_code"] is None and body["price"] is None

    # Recorded, and the status callback is recorded but never called.
    [record] = sandbox.sent
    assert record["status_callback"] == "http://127.0.0.1:1/never-called"
    assert record["response"]["sid"] == body["sid"]

    fetched = httpx.get(f"{sandbox_url}/twilio{body['uri']}", auth=AUTH)
    assert fetched.status_code == 200 and fetched.json() == body


def test_a_messaging_service_message_is_accepted_without_a_sender(sandbox_url: str) -> None:
    form = {"To": "+5511987654321", "MessagingServiceSid": DEMO_MESSAGING_SERVICE_SID, "Body": "oi"}
    body = httpx.post(messages_url(sandbox_url), data=form, auth=AUTH).json()
    assert body["status"] == "accepted"
    assert body["from"] is None and body["messaging_service_sid"] == DEMO_MESSAGING_SERVICE_SID


def test_api_key_authenticates_too(sandbox_url: str) -> None:
    form = {"To": "+5511987654321", "From": DEMO_FROM_NUMBER, "Body": "oi"}
    resp = httpx.post(messages_url(sandbox_url), data=form, auth=(DEMO_API_KEY_SID, DEMO_API_KEY_SECRET))
    assert resp.status_code == 201


@pytest.mark.parametrize(
    "auth", [None, (DEMO_ACCOUNT_SID, "wrong"), (DEMO_API_KEY_SID, DEMO_AUTH_TOKEN), ("ACnobody", DEMO_AUTH_TOKEN)]
)
def test_wrong_credentials_answer_twilios_401(sandbox_url: str, auth: tuple[str, str] | None) -> None:
    resp = httpx.post(messages_url(sandbox_url), data={"To": "+5511987654321", "Body": "oi"}, auth=auth)
    assert resp.status_code == 401
    assert resp.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }


def test_another_accounts_path_is_not_found(sandbox_url: str) -> None:
    resp = httpx.post(messages_url(sandbox_url, "AC" + "0" * 32), data={"To": "+5511987654321"}, auth=AUTH)
    assert resp.status_code == 404
    assert resp.json()["code"] == 20404


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"From": DEMO_FROM_NUMBER, "Body": "oi"}, 21604),
        ({"To": "11987654321", "From": DEMO_FROM_NUMBER, "Body": "oi"}, 21211),
        ({"To": "+5500123456789", "From": DEMO_FROM_NUMBER, "Body": "oi"}, 21211),
        ({"To": "+5501123456789", "From": DEMO_FROM_NUMBER, "Body": "oi"}, 21610),
        ({"To": "+5511987654321", "Body": "oi"}, 21603),
        ({"To": "+5511987654321", "From": "+5511900000001", "Body": "oi"}, 21606),
        ({"To": "+5511987654321", "From": DEMO_FROM_NUMBER}, 21602),
        ({"To": "+5511987654321", "From": DEMO_FROM_NUMBER, "Body": "x" * 1601}, 21617),
    ],
)
def test_invalid_messages_answer_twilios_error_codes(sandbox_url: str, form: dict[str, str], code: int) -> None:
    resp = httpx.post(messages_url(sandbox_url), data=form, auth=AUTH)
    assert resp.status_code == 400
    body = resp.json()
    assert body["code"] == code and body["status"] == 400
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"


def test_segments_follow_gsm7_and_ucs2_limits() -> None:
    assert num_segments("a" * 160) == 1
    assert num_segments("a" * 161) == 2  # 153 per concatenated part
    assert num_segments("€" * 80) == 1  # extension characters count two septets
    assert num_segments("€" * 81) == 2
    assert num_segments("ã" * 70) == 1  # not GSM-7: UCS-2
    assert num_segments("ã" * 71) == 2


def test_the_adapter_sends_and_checks_health_against_the_sandbox(sandbox_url: str, sandbox: TwilioSandbox) -> None:
    twilio = client(sandbox_url)
    twilio.health_check()
    sent = twilio.send_sms("+5511987654321", "Sua consulta é amanhã às 10h", status_callback="https://h/cb")
    assert re.fullmatch(r"SM[0-9a-f]{32}", sent.message_id)
    assert sent.status == "queued"
    [record] = sandbox.sent
    assert record["request"] == {
        "To": "+5511987654321",
        "From": DEMO_FROM_NUMBER,
        "Body": "Sua consulta é amanhã às 10h",
        "StatusCallback": "https://h/cb",
    }

    keyed = client(sandbox_url, api_key_sid=DEMO_API_KEY_SID, api_key_secret=DEMO_API_KEY_SECRET)
    assert keyed.send_sms("+5511987654321", "oi").message_id != sent.message_id


def test_the_adapter_maps_the_sandbox_errors(sandbox_url: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        client(sandbox_url).send_sms("+5500123456789", "oi")
    assert info.value.code == "21211"
    with pytest.raises(InvalidRequestError) as info:
        client(sandbox_url).send_sms("+5501123456789", "oi")
    assert info.value.code == "21610"
    with pytest.raises(AuthenticationError):
        client(sandbox_url, auth_token="wrong").send_sms("+5511987654321", "oi")


def test_faults_answer_in_twilios_format(sandbox_url: str) -> None:
    fault = httpx.put(
        f"{sandbox_url}/__sandbox/faults/twilio", json={"mode": "rate_limited", "retry_after": 4, "times": 1}
    )
    assert fault.status_code == 200
    with pytest.raises(RateLimitedError) as limited:
        client(sandbox_url).send_sms("+5511987654321", "oi")
    assert limited.value.retry_after == 4 and limited.value.code == "20429"

    httpx.put(f"{sandbox_url}/__sandbox/faults/twilio", json={"mode": "error", "status": 503, "times": 3})
    with pytest.raises(ProviderUnavailableError) as down:
        client(sandbox_url).health_check()
    assert down.value.code == "20503"


def test_list_messages_contract_and_the_adapter_finding_its_send(sandbox_url: str) -> None:
    # Given: two SMS to one number, one to another
    since = datetime.now(UTC) - timedelta(seconds=1)
    sms = client(sandbox_url)
    first = sms.send_sms("+5511987654321", "Seu código é 1234")
    sms.send_sms("+5511987654321", "Outro aviso")
    sms.send_sms("+5521999998888", "Seu código é 1234")
    # When: the account's messages to that number are listed
    listed = httpx.get(messages_url(sandbox_url), params={"To": "+5511987654321", "PageSize": 1}, auth=AUTH).json()
    # Then: Twilio's list envelope, most recent first, filtered
    assert listed["page_size"] == 1 and [m["body"] for m in listed["messages"]] == ["Outro aviso"]
    assert httpx.get(messages_url(sandbox_url), params={"PageSize": 0}, auth=AUTH).status_code == 400
    assert httpx.get(messages_url(sandbox_url), auth=(DEMO_ACCOUNT_SID, "wrong")).status_code == 401
    # And the adapter finds exactly its own send
    found = sms.find_sent("+5511987654321", "Seu código é 1234", since)
    assert found is not None and found.message_id == first.message_id
    assert sms.find_sent("+5511987654321", "nunca enviado", since) is None
