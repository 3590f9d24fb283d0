"""ResendClient driven against the Resend sandbox, served alone on a free port."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from hub.errors import AuthenticationError, InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.providers.outbound import EmailAttachment, OutboundEmail
from hub.providers.resend.client import ResendClient
from hub.retry import RetryPolicy
from localcloud.sandboxes.resend import DEMO_API_KEY, DEMO_SENDING_ONLY_API_KEY, ResendSandbox
from tests.conftest import ServedSandboxes

NO_RETRY = RetryPolicy(max_attempts=1, sleep=lambda _: None)
SENDER = "Somos Produtora <contato@somosprodutora.com.br>"


@pytest.fixture
def sandbox_url(sandboxes: ServedSandboxes) -> str:
    return sandboxes.url  # sent emails, idempotency keys and faults are reset around every test


@pytest.fixture
def sandbox(sandboxes: ServedSandboxes) -> ResendSandbox:
    sandbox: ResendSandbox = sandboxes["resend"]
    return sandbox


def resend(sandbox_url: str, api_key: str = DEMO_API_KEY) -> ResendClient:
    creds = ResendClient.parse_credentials({"base_url": f"{sandbox_url}/resend", "api_key": api_key})
    return ResendClient(creds, retry_policy=NO_RETRY)


def outbound(**overrides: Any) -> OutboundEmail:
    values: dict[str, Any] = {
        "from_address": SENDER,
        "to": ["cliente@example.com"],
        "subject": "Sua proposta",
        "html": "<p>Olá!</p>",
    }
    values.update(overrides)
    return OutboundEmail(**values)


def post(sandbox_url: str, path: str, body: Any, key: str = DEMO_API_KEY, **headers: str) -> httpx.Response:
    return httpx.post(f"{sandbox_url}/resend{path}", json=body, headers={"Authorization": f"Bearer {key}", **headers})


def raw_email(**overrides: Any) -> dict[str, Any]:
    return {"from": SENDER, "to": ["cliente@example.com"], "subject": "Oi", "text": "Oi", **overrides}


def test_send_email_is_recorded_and_can_be_retrieved(sandbox_url: str, sandbox: ResendSandbox) -> None:
    client = resend(sandbox_url)
    client.health_check()
    message = outbound(
        text="Olá!",
        tags={"category": "proposal"},
        attachments=[EmailAttachment(filename="proposta.pdf", content=b"%PDF", content_type="application/pdf")],
    )
    sent = client.send_email(message, idempotency_key="proposal/lead-42")

    assert len(sandbox.sent) == 1 and sandbox.sent[0]["id"] == sent.email_id
    assert sandbox.sent[0]["request"]["attachments"] == [
        {"filename": "proposta.pdf", "content": "JVBERg==", "content_type": "application/pdf"}
    ]
    got = httpx.get(f"{sandbox_url}/resend/emails/{sent.email_id}", headers={"Authorization": f"Bearer {DEMO_API_KEY}"})
    assert got.status_code == 200
    body = got.json()
    assert (body["object"], body["id"], body["from"], body["to"]) == (
        "email",
        sent.email_id,
        SENDER,
        ["cliente@example.com"],
    )
    assert body["tags"] == [{"name": "category", "value": "proposal"}]
    assert body["last_event"] == "sent"


def test_same_idempotency_key_and_body_returns_the_original_email(sandbox_url: str, sandbox: ResendSandbox) -> None:
    client = resend(sandbox_url)
    first = client.send_email(outbound(), idempotency_key="welcome/lead-7")
    again = client.send_email(outbound(), idempotency_key="welcome/lead-7")
    assert again.email_id == first.email_id
    assert len(sandbox.sent) == 1

    with pytest.raises(InvalidRequestError) as info:
        client.send_email(outbound(subject="Outro assunto"), idempotency_key="welcome/lead-7")
    assert info.value.code == "invalid_idempotent_request"
    assert info.value.http_status == 409
    assert len(sandbox.sent) == 1

    other = client.send_email(outbound(), idempotency_key="welcome/lead-8")
    assert other.email_id != first.email_id and len(sandbox.sent) == 2


def test_idempotency_keys_are_scoped_per_endpoint(sandbox_url: str, sandbox: ResendSandbox) -> None:
    client = resend(sandbox_url)
    client.send_email(outbound(), idempotency_key="shared")
    client.send_batch([outbound(), outbound()], idempotency_key="shared")
    assert len(sandbox.sent) == 3


def test_an_overlong_idempotency_key_is_rejected(sandbox_url: str) -> None:
    resp = post(sandbox_url, "/emails", raw_email(), **{"Idempotency-Key": "k" * 257})
    assert resp.status_code == 400
    assert resp.json()["name"] == "invalid_idempotency_key"


def test_send_batch_returns_ids_in_order(sandbox_url: str, sandbox: ResendSandbox) -> None:
    client = resend(sandbox_url)
    emails = [outbound(to=[f"lead{i}@example.com"]) for i in range(3)]
    sent = client.send_batch(emails, idempotency_key="batch/1")
    assert [s.to for s in sent] == [["lead0@example.com"], ["lead1@example.com"], ["lead2@example.com"]]
    assert [s.email_id for s in sent] == [e["id"] for e in sandbox.sent]
    again = client.send_batch(emails, idempotency_key="batch/1")
    assert [s.email_id for s in again] == [s.email_id for s in sent] and len(sandbox.sent) == 3


def test_strict_batch_rejects_everything_and_permissive_sends_the_valid(
    sandbox_url: str, sandbox: ResendSandbox
) -> None:
    batch = [raw_email(), raw_email(to=["not-an-address"]), raw_email()]
    strict = post(sandbox_url, "/emails/batch", batch, **{"x-batch-validation": "strict"})
    assert strict.status_code == 422
    assert strict.json()["name"] == "validation_error"
    assert sandbox.sent == []

    permissive = post(sandbox_url, "/emails/batch", batch, **{"x-batch-validation": "permissive"})
    assert permissive.status_code == 200
    body = permissive.json()
    assert len(body["data"]) == 2
    assert [e["index"] for e in body["errors"]] == [1]
    assert len(sandbox.sent) == 2


@pytest.mark.parametrize(
    ("body", "status", "name"),
    [
        ([], 422, "validation_error"),
        ([raw_email()] * 101, 422, "validation_error"),
        (
            [raw_email(attachments=[{"filename": "a.txt", "content": "b2s="}])],
            422,
            "validation_error",
        ),
    ],
)
def test_batch_limits(sandbox_url: str, body: Any, status: int, name: str) -> None:
    resp = post(sandbox_url, "/emails/batch", body)
    assert resp.status_code == status
    assert resp.json()["name"] == name
    assert resp.json()["statusCode"] == status


@pytest.mark.parametrize(
    ("overrides", "status", "name"),
    [
        ({"from": None}, 422, "missing_required_field"),
        ({"subject": ""}, 422, "missing_required_field"),
        ({"text": None}, 422, "missing_required_field"),
        ({"to": []}, 422, "missing_required_field"),
        ({"to": [f"lead{i}@example.com" for i in range(51)]}, 422, "validation_error"),
        ({"from": "not an address"}, 422, "validation_error"),
        ({"from": "Acme <vendas@not-verified.example>"}, 403, "validation_error"),
        ({"tags": [{"name": "black friday", "value": "x"}]}, 422, "validation_error"),
        ({"attachments": [{"filename": "a.pdf"}]}, 422, "invalid_attachment"),
        ({"attachments": [{"filename": "a.pdf", "content": "not base64!"}]}, 422, "invalid_attachment"),
    ],
)
def test_send_validation_answers_resend_errors(
    sandbox_url: str, overrides: dict[str, Any], status: int, name: str
) -> None:
    body = {k: v for k, v in raw_email(**overrides).items() if v is not None}
    resp = post(sandbox_url, "/emails", body)
    assert resp.status_code == status
    error = resp.json()
    assert error["statusCode"] == status and error["name"] == name and error["message"]


def test_accepted_recipients_include_resend_test_addresses(sandbox_url: str, sandbox: ResendSandbox) -> None:
    body = raw_email(to=["bounced@resend.dev", "Ana <complained@resend.dev>"], **{"from": "onboarding@resend.dev"})
    resp = post(sandbox_url, "/emails", body)
    assert resp.status_code == 200 and len(sandbox.sent) == 1


def test_errors_reach_the_client_in_the_taxonomy(sandbox_url: str) -> None:
    with pytest.raises(AuthenticationError) as wrong:
        resend(sandbox_url, api_key="re_wrong").send_email(outbound(), idempotency_key="k")
    assert (wrong.value.http_status, wrong.value.code) == (403, "invalid_api_key")
    with pytest.raises(AuthenticationError):
        resend(sandbox_url, api_key="re_wrong").health_check()

    with pytest.raises(InvalidRequestError) as unverified:
        resend(sandbox_url).send_email(outbound(from_address="x@not-verified.example"), idempotency_key="k")
    assert (unverified.value.http_status, unverified.value.code) == (403, "validation_error")

    missing = httpx.post(f"{sandbox_url}/resend/emails", json=raw_email())
    assert missing.status_code == 401 and missing.json()["name"] == "missing_api_key"


def test_a_sending_only_key_sends_and_is_healthy(sandbox_url: str) -> None:
    client = resend(sandbox_url, api_key=DEMO_SENDING_ONLY_API_KEY)
    client.health_check()  # 401 restricted_api_key on /domains is healthy
    raw = httpx.get(f"{sandbox_url}/resend/domains", headers={"Authorization": f"Bearer {DEMO_SENDING_ONLY_API_KEY}"})
    assert raw.status_code == 401 and raw.json()["name"] == "restricted_api_key"
    assert client.send_email(outbound(), idempotency_key="k").email_id


def test_domains_and_unknown_emails(sandbox_url: str) -> None:
    headers = {"Authorization": f"Bearer {DEMO_API_KEY}"}
    domains = httpx.get(f"{sandbox_url}/resend/domains", headers=headers).json()
    assert domains["object"] == "list"
    assert {d["name"] for d in domains["data"]} == {"somosprodutora.com.br", "resend.dev"}
    assert all(d["status"] == "verified" for d in domains["data"])
    one = httpx.get(f"{sandbox_url}/resend/domains", params={"limit": 1}, headers=headers).json()
    assert len(one["data"]) == 1 and one["has_more"] is True
    missing = httpx.get(f"{sandbox_url}/resend/emails/00000000-0000-0000-0000-000000000000", headers=headers)
    assert missing.status_code == 404 and missing.json()["name"] == "not_found"


def test_faults_use_resends_error_bodies(sandbox_url: str) -> None:
    client = resend(sandbox_url)
    spec = {"mode": "rate_limited", "retry_after": 4, "times": 1}
    assert httpx.put(f"{sandbox_url}/__sandbox/faults/resend", json=spec).status_code == 200
    with pytest.raises(RateLimitedError) as limited:
        client.send_email(outbound(), idempotency_key="k")
    assert (limited.value.code, limited.value.retry_after) == ("rate_limit_exceeded", 4.0)

    spec = {"mode": "error", "status": 503, "times": 1}
    assert httpx.put(f"{sandbox_url}/__sandbox/faults/resend", json=spec).status_code == 200
    with pytest.raises(ProviderUnavailableError) as down:
        client.send_email(outbound(), idempotency_key="k")
    assert down.value.code == "service_unavailable"


def test_reset_forgets_emails_and_keys(sandbox_url: str, sandbox: ResendSandbox) -> None:
    client = resend(sandbox_url)
    first = client.send_email(outbound(), idempotency_key="k")
    assert httpx.delete(f"{sandbox_url}/__sandbox/requests").status_code == 204
    assert sandbox.sent == []
    assert client.send_email(outbound(subject="novo"), idempotency_key="k").email_id != first.email_id
