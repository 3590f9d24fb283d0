"""ResendClient against Resend's documented requests, responses and error bodies.

Send: https://resend.com/docs/api-reference/emails/send-email; batch:
https://resend.com/docs/api-reference/emails/send-batch-emails; idempotency:
https://resend.com/docs/dashboard/emails/idempotency-keys; errors:
https://resend.com/docs/api-reference/errors; limits: https://resend.com/docs/api-reference/rate-limit.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hub.errors import AuthenticationError, InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.providers.outbound import EmailAttachment, OutboundEmail
from hub.providers.resend.client import (
    MONTHLY_QUOTA_RETRY_AFTER,
    ResendClient,
    ResendCredentials,
    seconds_until_next_utc_midnight,
)
from tests.helpers import AdapterFactory, recording, recording_json

CREDS = ResendCredentials(api_key=SecretStr("re_test_123"))
EMAIL_ID = "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"
PDF = b"%PDF-1.4 proposta comercial \x00\xff"


def email(**overrides: Any) -> OutboundEmail:
    values: dict[str, Any] = {
        "from_address": "Somos Produtora <contato@somosprodutora.com.br>",
        "to": ["cliente@example.com"],
        "subject": "Sua proposta",
        "html": "<p>Olá!</p>",
    }
    values.update(overrides)
    return OutboundEmail(**values)


client_with = AdapterFactory(ResendClient, CREDS, attempts=1)


def resend_error(status: int, name: str, message: str) -> dict[str, Any]:
    return {"statusCode": status, "message": message, "name": name}


def test_send_email_posts_the_documented_request() -> None:
    seen, handler = recording(httpx.Response(200, json={"id": EMAIL_ID}))

    message = email(
        text="Olá!",
        cc=["socio@example.com"],
        bcc=["arquivo@somosprodutora.com.br"],
        reply_to=["vendas@somosprodutora.com.br"],
        headers={"X-Entity-Ref-ID": "lead-42"},
        tags={"category": "proposal", "lead_id": "lead-42"},
        attachments=[
            EmailAttachment(filename="proposta.pdf", content=PDF, content_type="application/pdf"),
            EmailAttachment(filename="notas.txt", content=b"ok"),
        ],
    )
    sent = client_with(handler).send_email(message, idempotency_key="proposal/lead-42")

    request = seen[0]
    assert (request.method, str(request.url)) == ("POST", "https://api.resend.com/emails")
    assert request.headers["authorization"] == "Bearer re_test_123"
    assert request.headers["idempotency-key"] == "proposal/lead-42"
    assert json.loads(request.content) == {
        "from": "Somos Produtora <contato@somosprodutora.com.br>",
        "to": ["cliente@example.com"],
        "subject": "Sua proposta",
        "cc": ["socio@example.com"],
        "bcc": ["arquivo@somosprodutora.com.br"],
        "reply_to": ["vendas@somosprodutora.com.br"],
        "html": "<p>Olá!</p>",
        "text": "Olá!",
        "headers": {"X-Entity-Ref-ID": "lead-42"},
        "tags": [{"name": "category", "value": "proposal"}, {"name": "lead_id", "value": "lead-42"}],
        "attachments": [
            {"filename": "proposta.pdf", "content": base64.b64encode(PDF).decode(), "content_type": "application/pdf"},
            {"filename": "notas.txt", "content": "b2s="},
        ],
    }
    assert (sent.provider, sent.email_id, sent.to) == ("resend", EMAIL_ID, ["cliente@example.com"])


def test_a_minimal_email_sends_only_what_is_set() -> None:
    bodies, handler = recording_json(httpx.Response(200, json={"id": EMAIL_ID}))

    client_with(handler).send_email(email(html=None, text="Oi"), idempotency_key="k1")
    assert bodies == [
        {
            "from": "Somos Produtora <contato@somosprodutora.com.br>",
            "to": ["cliente@example.com"],
            "subject": "Sua proposta",
            "text": "Oi",
        }
    ]


def test_base_url_from_the_secret_is_used() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"id": EMAIL_ID})

    creds = ResendCredentials(api_key=SecretStr("re_x"), base_url="http://127.0.0.1:4010/resend/")
    ResendClient(creds, http=httpx.Client(transport=httpx.MockTransport(handler))).send_email(
        email(), idempotency_key="k"
    )
    assert seen == ["http://127.0.0.1:4010/resend/emails"]


def test_a_retried_send_reuses_the_callers_idempotency_key() -> None:
    keys: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers["idempotency-key"])
        if len(keys) == 1:
            return httpx.Response(500, json=resend_error(500, "application_error", "An unexpected error occurred."))
        return httpx.Response(200, json={"id": EMAIL_ID})

    sent = client_with(handler, attempts=3).send_email(email(), idempotency_key="welcome/lead-7")
    assert keys == ["welcome/lead-7", "welcome/lead-7"]
    assert sent.email_id == EMAIL_ID


def test_a_webhook_only_secret_cannot_send() -> None:
    calls: list[httpx.Request] = []
    creds = ResendClient.parse_credentials({"webhook_secret": "whsec_ZGVtbw=="})
    http = httpx.Client(transport=httpx.MockTransport(lambda r: calls.append(r) or httpx.Response(200)))
    with pytest.raises(AuthenticationError) as info:
        ResendClient(creds, http=http).send_email(email(), idempotency_key="k")
    assert info.value.code == "missing_api_key"
    assert info.value.http_status is None  # our configuration, not a provider answer
    assert calls == []


@pytest.mark.parametrize(
    ("overrides", "key", "code"),
    [
        ({"html": None, "text": None}, "k", "missing_body"),
        # Tags (and headers) are refused when the OutboundEmail is built, before any adapter.
        ({"tags": {"lead id": "42"}}, "k", "invalid_tag"),
        ({"tags": {"campaign": "black friday"}}, "k", "invalid_tag"),
        ({}, "", "invalid_idempotency_key"),
        ({}, "k" * 257, "invalid_idempotency_key"),
    ],
)
def test_invalid_input_is_refused_before_calling_resend(overrides: dict[str, Any], key: str, code: str) -> None:
    calls: list[httpx.Request] = []
    client = client_with(lambda r: calls.append(r) or httpx.Response(200, json={"id": EMAIL_ID}))
    with pytest.raises(InvalidRequestError) as info:
        client.send_email(email(**overrides), idempotency_key=key)
    assert info.value.code == code
    assert calls == []


def test_the_longest_documented_idempotency_key_is_accepted() -> None:
    keys: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers["idempotency-key"])
        return httpx.Response(200, json={"id": EMAIL_ID})

    client_with(handler).send_email(email(), idempotency_key="k" * 256)
    assert keys == ["k" * 256]


# ----- batch ----------------------------------------------------------------------------------


def test_send_batch_posts_strict_batch_and_keeps_the_order() -> None:
    seen: list[httpx.Request] = []
    ids = ["ae2014de-c168-4c61-8267-70d2662a1ce1", "faccb7a5-8a28-4e9a-ac64-8da1cc3bc1cb"]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": [{"id": i} for i in ids]})

    emails = [
        email(to=["a@example.com"], tags={"campaign": "launch"}),
        email(to=["b@example.com"], subject="Outra"),
    ]
    sent = client_with(handler).send_batch(emails, idempotency_key="batch-launch/2026-11")

    request = seen[0]
    assert (request.method, str(request.url)) == ("POST", "https://api.resend.com/emails/batch")
    assert request.headers["authorization"] == "Bearer re_test_123"
    assert request.headers["idempotency-key"] == "batch-launch/2026-11"
    assert request.headers["x-batch-validation"] == "strict"
    body = json.loads(request.content)
    assert [b["to"] for b in body] == [["a@example.com"], ["b@example.com"]]
    assert body[0]["tags"] == [{"name": "campaign", "value": "launch"}]  # tags are supported in batches
    assert [(s.email_id, s.to) for s in sent] == [(ids[0], ["a@example.com"]), (ids[1], ["b@example.com"])]


@pytest.mark.parametrize(
    ("emails", "code"),
    [
        ([], "invalid_batch_size"),
        ([email()] * 101, "invalid_batch_size"),
        ([email(), email(attachments=[EmailAttachment(filename="a.pdf", content=PDF)])], "attachments_not_supported"),
    ],
)
def test_batch_limits_are_checked_before_calling_resend(emails: list[OutboundEmail], code: str) -> None:
    calls: list[httpx.Request] = []
    client = client_with(lambda r: calls.append(r) or httpx.Response(200, json={"data": []}))
    with pytest.raises(InvalidRequestError) as info:
        client.send_batch(emails, idempotency_key="b")
    assert info.value.code == code
    assert calls == []


def test_a_batch_of_one_hundred_is_sent() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": [{"id": f"id-{i}"} for i in range(len(json.loads(request.content)))]})

    sent = client_with(handler).send_batch([email()] * 100, idempotency_key="b")
    assert [s.email_id for s in sent] == [f"id-{i}" for i in range(100)]


@pytest.mark.parametrize(
    "answer",
    [
        {"data": [{"id": "only-one"}]},
        # Permissive-mode shape (https://resend.com/docs/dashboard/emails/batch-validation-modes)
        {"data": [{"id": "a"}, {"id": "b"}], "errors": [{"index": 2, "message": "The `to` field is missing."}]},
    ],
)
def test_a_batch_answer_that_does_not_match_the_request_is_not_trusted(answer: dict[str, Any]) -> None:
    client = client_with(lambda r: httpx.Response(200, json=answer))
    with pytest.raises(ProviderUnavailableError):
        client.send_batch([email(), email()] + ([email()] if "errors" in answer else []), idempotency_key="b")


# ----- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "name", "message", "error"),
    [
        (400, "invalid_idempotency_key", "The key must be between 1-256 chars.", InvalidRequestError),
        (400, "validation_error", "We found an error with one or more fields in the request.", InvalidRequestError),
        (401, "missing_api_key", "Missing API key in the authorization header.", AuthenticationError),
        (401, "restricted_api_key", "This API key is restricted to only send emails.", AuthenticationError),
        (403, "invalid_api_key", "API key is invalid.", AuthenticationError),
        (403, "restricted_api_key", "API key is not active", AuthenticationError),
        (403, "suspended_api_key", "This API key is suspended", AuthenticationError),
        (
            403,
            "validation_error",
            "The `example.com` domain is not verified. Please, add and verify your domain.",
            InvalidRequestError,
        ),
        (
            403,
            "validation_error",
            "You can only send testing emails to your own email address (youremail@domain.com).",
            InvalidRequestError,
        ),
        (404, "not_found", "The requested endpoint does not exist.", InvalidRequestError),
        (
            409,
            "invalid_idempotent_request",
            "This idempotency key has been used with this HTTP method and endpoint within the last 24 hours, "
            "but the request body was modified and doesn't match the original request.",
            InvalidRequestError,
        ),
        (
            409,
            "concurrent_idempotent_requests",
            "There is another request in progress with the same idempotency key.",
            InvalidRequestError,
        ),
        (422, "invalid_attachment", "Attachment must have either a `content` or `path`.", InvalidRequestError),
        (
            422,
            "missing_required_field",
            "The request body is missing one or more required fields.",
            InvalidRequestError,
        ),
        (
            422,
            "validation_error",
            "Invalid `to` field. The email address needs to follow the `email@example.com` format.",
            InvalidRequestError,
        ),
        (
            429,
            "rate_limit_exceeded",
            "Too many requests. Please limit the number of requests per second.",
            RateLimitedError,
        ),
        (429, "daily_quota_exceeded", "You have exceeded your daily email sending quota.", RateLimitedError),
        (429, "monthly_quota_exceeded", "You have exceeded your monthly email sending quota.", RateLimitedError),
        (500, "application_error", "An unexpected error occurred.", ProviderUnavailableError),
        (503, "service_unavailable", "API is temporarily unavailable", ProviderUnavailableError),
    ],
)
def test_documented_errors_map_to_the_taxonomy(status: int, name: str, message: str, error: type[Exception]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=resend_error(status, name, message), headers={"retry-after": "1"})

    with pytest.raises(error) as info:
        client_with(handler).send_email(email(), idempotency_key="k")
    raised = info.value
    assert isinstance(raised, (InvalidRequestError, AuthenticationError, RateLimitedError, ProviderUnavailableError))
    assert raised.code == name
    assert raised.http_status == status
    assert message[:40] in raised.message
    assert "re_test_123" not in raised.message


def test_a_non_json_error_page_still_maps_by_status() -> None:
    # Cloudflare answers 403 (error 1010) with HTML when the User-Agent is missing.
    client = client_with(lambda r: httpx.Response(403, text="<html>error code: 1010</html>"))
    with pytest.raises(AuthenticationError) as info:
        client.send_email(email(), idempotency_key="k")
    assert info.value.code is None


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({"retry-after": "7"}, 7.0), ({"ratelimit-reset": "2"}, 2.0), ({}, 1.0)],
)
def test_rate_limit_retry_after_comes_from_the_headers(headers: dict[str, str], expected: float) -> None:
    body = resend_error(429, "rate_limit_exceeded", "Too many requests.")
    client = client_with(lambda r: httpx.Response(429, json=body, headers=headers))
    with pytest.raises(RateLimitedError) as info:
        client.send_email(email(), idempotency_key="k")
    assert info.value.retry_after == expected


def test_rate_limit_is_retried_after_the_wait_resend_asks_for() -> None:
    sleeps: list[float] = []
    answers = iter(
        [
            httpx.Response(
                429, json=resend_error(429, "rate_limit_exceeded", "slow down"), headers={"retry-after": "1"}
            ),
            httpx.Response(200, json={"id": EMAIL_ID}),
        ]
    )
    sent = client_with(lambda r: next(answers), attempts=3, sleeps=sleeps).send_email(email(), idempotency_key="k")
    assert sent.email_id == EMAIL_ID
    assert sleeps == [1.0]


def test_daily_quota_waits_until_midnight_utc() -> None:
    assert seconds_until_next_utc_midnight(datetime(2026, 11, 23, 21, 30, tzinfo=UTC)) == 2.5 * 3600
    assert seconds_until_next_utc_midnight(datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)) == 1.0

    body = resend_error(429, "daily_quota_exceeded", "You have exceeded your daily email sending quota.")
    sleeps: list[float] = []
    client = client_with(lambda r: httpx.Response(429, json=body), attempts=3, sleeps=sleeps)
    before = seconds_until_next_utc_midnight()
    with pytest.raises(RateLimitedError) as info:
        client.send_email(email(), idempotency_key="k")
    assert before - 5 <= info.value.retry_after <= before
    assert sleeps == []  # far beyond the in-invocation retry budget: not retried now


def test_monthly_quota_checks_back_in_a_day() -> None:
    body = resend_error(429, "monthly_quota_exceeded", "You have exceeded your monthly email sending quota.")
    with pytest.raises(RateLimitedError) as info:
        client_with(lambda r: httpx.Response(429, json=body)).send_email(email(), idempotency_key="k")
    assert info.value.retry_after == MONTHLY_QUOTA_RETRY_AFTER == 86_400.0


# ----- health ---------------------------------------------------------------------------------


def test_health_check_lists_one_domain() -> None:
    seen, handler = recording(httpx.Response(200, json={"object": "list", "has_more": False, "data": []}))

    client_with(handler).health_check()
    assert seen[0].method == "GET"
    assert str(seen[0].url) == "https://api.resend.com/domains?limit=1"
    assert seen[0].headers["authorization"] == "Bearer re_test_123"


def test_a_sending_only_key_is_healthy() -> None:
    body = resend_error(401, "restricted_api_key", "This API key is restricted to only send emails.")
    client_with(lambda r: httpx.Response(401, json=body)).health_check()  # no error


@pytest.mark.parametrize(
    ("status", "name"), [(403, "invalid_api_key"), (403, "restricted_api_key"), (401, "missing_api_key")]
)
def test_a_bad_key_is_unhealthy(status: int, name: str) -> None:
    body = resend_error(status, name, "nope")
    with pytest.raises(AuthenticationError):
        client_with(lambda r: httpx.Response(status, json=body)).health_check()


def test_restricted_key_answers_elsewhere_stay_authentication_errors() -> None:
    body = resend_error(401, "restricted_api_key", "This API key is restricted to only send emails.")
    with pytest.raises(AuthenticationError):
        client_with(lambda r: httpx.Response(401, json=body)).send_email(email(), idempotency_key="k")


def test_webhook_only_and_full_secrets_both_parse() -> None:
    webhook_only = ResendClient.parse_credentials({"webhook_secret": "whsec_ZGVtbw=="})
    full = ResendClient.parse_credentials({"api_key": "re_abc", "webhook_secret": "whsec_ZGVtbw=="})
    assert isinstance(webhook_only, ResendCredentials) and webhook_only.api_key is None
    assert isinstance(full, ResendCredentials) and full.api_key is not None
    assert "re_abc" not in repr(full)
    assert ResendClient(full).base_url == "https://api.resend.com"
