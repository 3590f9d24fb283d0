"""Meta's usage headers: at or above 90 % every Graph client backs off, refusing calls without
sending them until the estimated regain time, then calls resume (docs/social.md, "Meta rate
limits"). Unit tests run without a resilience table: the back-off is the container's; the shared
one (DynamoDB) is tests/aws/test_social_facebook.py."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hub.errors import InvalidRequestError, RateLimitedError
from hub.providers.facebook.client import FacebookClient, FacebookCredentials
from hub.providers.meta import graph
from hub.providers.meta.graph import usage_backoffs
from hub.providers.meta.whatsapp_cloud import WhatsAppCloudClient, WhatsAppCloudCredentials
from tests.helpers import client_with

WA = WhatsAppCloudCredentials(access_token=SecretStr("EAAG-secret-token"), phone_number_id="106540352242922")
FB = FacebookCredentials(base_url="https://graph.facebook.com", access_token=SecretStr("EAAuser-token-0001"))
SENT = {"messaging_product": "whatsapp", "contacts": [], "messages": [{"id": "wamid.X"}]}
NOW = 1_780_000_000.0


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The back-off's clock, frozen; tests move it by setting ``clock[0]``."""
    now = [NOW]
    monkeypatch.setattr(graph, "_clock", lambda: now[0])
    return now


def app_usage(percent: int) -> dict[str, str]:
    return {"X-App-Usage": json.dumps({"call_count": percent, "total_cputime": 10, "total_time": 12})}


def buc_usage(business: str, percent: int, minutes: int | None) -> dict[str, str]:
    entry: dict[str, Any] = {"type": "whatsapp", "call_count": 5, "total_cputime": percent, "total_time": 3}
    if minutes is not None:
        entry["estimated_time_to_regain_access"] = minutes
    return {"X-Business-Use-Case-Usage": json.dumps({business: [entry]})}


class Answers:
    """Answers each request with the next headers given (the last one from then on)."""

    def __init__(self, *headers: dict[str, str]) -> None:
        self.headers = list(headers)
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        headers = self.headers.pop(0) if len(self.headers) > 1 else self.headers[0]
        return httpx.Response(200, json=SENT, headers=headers)


def whatsapp(handler: Answers) -> WhatsAppCloudClient:
    return client_with(WhatsAppCloudClient, WA, handler, org_id="cloudorg")


def test_at_95_percent_the_next_call_is_refused_without_an_http_request(clock: list[float]) -> None:
    handler = Answers(app_usage(95))
    client = whatsapp(handler)
    client.send_text("+5511987654321", "primeira")

    with pytest.raises(RateLimitedError) as info:
        client.send_text("+5511987654321", "segunda")

    assert len(handler.seen) == 1
    assert info.value.code == "meta_usage_backoff"
    assert info.value.retry_after == 300  # META_USAGE_BACKOFF_SECONDS: X-App-Usage gives no estimate


def test_the_business_use_case_wait_is_metas_estimated_time_to_regain_access(clock: list[float]) -> None:
    handler = Answers(buc_usage("102290129340398", 96, 7))
    client = whatsapp(handler)
    client.send_text("+5511987654321", "primeira")
    with pytest.raises(RateLimitedError) as info:
        client.send_text("+5511987654321", "segunda")
    assert info.value.retry_after == 420
    assert len(handler.seen) == 1


def test_below_90_percent_there_is_no_backoff(clock: list[float]) -> None:
    handler = Answers({**app_usage(89), **buc_usage("102290129340398", 89, 30)})
    client = whatsapp(handler)
    for text in ("um", "dois", "três"):
        client.send_text("+5511987654321", text)
    assert len(handler.seen) == 3


def test_calls_resume_when_the_backoff_expires(clock: list[float]) -> None:
    handler = Answers(buc_usage("102290129340398", 100, 2), {})
    client = whatsapp(handler)
    client.send_text("+5511987654321", "primeira")

    clock[0] = NOW + 119
    with pytest.raises(RateLimitedError) as info:
        client.send_text("+5511987654321", "cedo demais")
    assert info.value.retry_after == pytest.approx(1)

    clock[0] = NOW + 121
    client.send_text("+5511987654321", "agora sim")
    assert len(handler.seen) == 2


def test_the_threshold_is_a_setting(clock: list[float], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("META_USAGE_BACKOFF_PERCENT", "50")
    handler = Answers(app_usage(60))
    client = whatsapp(handler)
    client.send_text("+5511987654321", "primeira")
    with pytest.raises(RateLimitedError):
        client.send_text("+5511987654321", "segunda")


def test_an_error_answer_is_read_too(clock: list[float]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"error": {"message": "Invalid parameter", "code": 100, "type": "OAuthException"}}
        return httpx.Response(400, json=body, headers=app_usage(97))

    client = client_with(WhatsAppCloudClient, WA, handler, org_id="cloudorg")
    with pytest.raises(InvalidRequestError):
        client.send_text("+5511987654321", "x")
    with pytest.raises(RateLimitedError) as info:
        client.send_text("+5511987654321", "y")
    assert info.value.code == "meta_usage_backoff"


def test_a_page_backing_off_does_not_stop_the_other_pages(clock: list[float]) -> None:
    """Facebook: page-token calls count against the page's business use case only."""
    pages = {
        "data": [
            {"id": "111", "access_token": "EAApage-111-token", "tasks": ["ANALYZE"]},
            {"id": "222", "access_token": "EAApage-222-token", "tasks": ["ANALYZE"]},
        ]
    }
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/me/accounts"):
            return httpx.Response(200, json=pages)
        page = request.url.path.split("/")[2]
        headers = buc_usage("111", 99, 10) if page == "111" else buc_usage("222", 20, 0)
        return httpx.Response(200, json={"data": []}, headers=headers)

    client = client_with(FacebookClient, FB, handler)
    client.post_metrics("111", [])  # no call per post: only the page token
    client.account_metrics("111", *_days())
    with pytest.raises(RateLimitedError) as info:
        client.account_metrics("111", *_days())
    assert info.value.retry_after == 600
    client.account_metrics("222", *_days())  # another page: not refused
    assert [r.url.path.split("/")[2] for r in seen if "insights" in r.url.path] == ["111", "222"]


def _days() -> tuple[Any, Any]:
    from datetime import date

    return date(2026, 11, 1), date(2026, 11, 2)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-App-Usage": "not json"}, {}),
        ({"X-App-Usage": json.dumps({"call_count": 90})}, {"app": 300.0}),
        (
            {
                "X-Business-Use-Case-Usage": json.dumps(
                    {"1": [{"total_time": 91, "estimated_time_to_regain_access": 0}]}
                )
            },
            {"b_1": 300.0},
        ),
        ({"X-Business-Use-Case-Usage": json.dumps({"1": {"call_count": 100}})}, {"b_1": 300.0}),
        ({"X-Business-Use-Case-Usage": json.dumps(["odd"])}, {}),
    ],
)
def test_usage_headers_parse_defensively(headers: dict[str, str], expected: dict[str, float]) -> None:
    assert usage_backoffs(httpx.Headers(headers), threshold=90, default_seconds=300) == expected
