"""BraveClient against the Brave Search API's documented requests, answers, rate-limit headers and
errors (httpx.MockTransport), and against its sandbox (served in-process, as at /brave)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hub.errors import AuthenticationError, InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.providers import descriptor
from hub.providers.brave.client import BraveClient, BraveCredentials
from hub.retry import RetryPolicy
from localcloud import demo
from localcloud.sandboxes import SandboxServer, all_sandboxes
from localcloud.sandboxes.base import Fault
from localcloud.sandboxes.brave import DEMO_API_KEY, BraveSandbox
from tests.helpers import AdapterFactory

KEY = "BSA-brave-secret-token-77c1"
CREDS = BraveCredentials(api_key=SecretStr(KEY))
client_with = AdapterFactory(BraveClient, CREDS)

# https://api.search.brave.com/app/documentation/web-search/responses
WEB_OK: dict[str, Any] = {
    "type": "search",
    "query": {"original": "café", "more_results_available": True},
    "web": {
        "type": "search",
        "results": [
            {
                "title": "Café - Wikipédia",
                "url": "https://pt.wikipedia.org/wiki/Caf%C3%A9",
                "description": "Bebida feita de grãos torrados.",
                "age": "3 de março de 2026",
                "meta_url": {"hostname": "pt.wikipedia.org"},
            },
            {"title": "Sem url"},
            {"title": "Padaria", "url": "https://padaria.com.br/"},
        ],
    },
}
# https://api-dashboard.search.brave.com/app/documentation/news-search/responses
NEWS_OK: dict[str, Any] = {
    "type": "news",
    "query": {"original": "café"},
    "results": [
        {
            "type": "news_result",
            "title": "Preço do café sobe",
            "url": "https://g1.globo.com/cafe",
            "description": "A saca passou de...",
            "age": "2 horas atrás",
            "page_age": "2026-12-03T08:00:00",
            "meta_url": {"hostname": "g1.globo.com"},
        }
    ],
}
HEADERS = {"X-RateLimit-Limit": "50, 1000", "X-RateLimit-Policy": "50;w=1, 1000;w=2592000"}


def answering(status: int, body: Any, seen: list[httpx.Request] | None = None, **headers: str) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, json=body, headers=headers)

    return handler


def brave_error(status: int, code: str, detail: str) -> dict[str, Any]:
    return {"type": "ErrorResponse", "error": {"id": "e1", "status": status, "code": code, "detail": detail}}


def test_brave_is_a_web_search_provider_without_places_and_with_a_monthly_budget() -> None:
    found = descriptor("brave")
    assert found is not None and "WebSearch" in found.capabilities
    assert found.client_class() is BraveClient
    assert BraveClient.kinds == {"google", "google_news"}
    assert not found.health_check  # no free endpoint: the platform probe would spend searches
    rules = {rule.name: rule for rule in found.limits}
    assert rules["searches_per_month"].applies("search") and not rules["searches_per_month"].applies("health")


def test_web_search_sends_the_documented_query_and_headers() -> None:
    seen: list[httpx.Request] = []
    results = client_with(answering(200, WEB_OK, seen)).search("google", "café", num=10)
    (request,) = seen
    assert (request.method, request.url.host, request.url.path) == ("GET", "api.search.brave.com", "/res/v1/web/search")
    assert request.headers["X-Subscription-Token"] == KEY
    assert request.headers["Accept"] == "application/json"
    assert "cache-control" not in request.headers
    assert dict(request.url.params) == {
        "q": "café",
        "country": "BR",
        "search_lang": "pt-br",
        "ui_lang": "pt-BR",
        "count": "10",
        "offset": "0",
        "text_decorations": "false",
    }
    assert results.web is not None
    assert [(r.position, r.title, r.url, r.link, r.snippet, r.source_engine) for r in results.web] == [
        (
            1,
            "Café - Wikipédia",
            "https://pt.wikipedia.org/wiki/Caf%C3%A9",
            "https://pt.wikipedia.org/wiki/Caf%C3%A9",
            "Bebida feita de grãos torrados.",
            "brave",
        ),
        (3, "Padaria", "https://padaria.com.br/", "https://padaria.com.br/", None, "brave"),
    ]
    assert (results.start, results.next_start) == (0, 10)  # more_results_available


def test_start_is_brave_offset_in_pages_and_count_is_capped_at_twenty() -> None:
    seen: list[httpx.Request] = []
    last = {**WEB_OK, "query": {"original": "x", "more_results_available": False}}
    results = client_with(answering(200, last, seen)).search(
        "google", "x", hl="en-us", gl="us", num=50, start=40, no_cache=True
    )
    params = dict(seen[0].url.params)
    assert (params["count"], params["offset"], params["country"], params["search_lang"], params["ui_lang"]) == (
        "20",
        "2",
        "US",
        "en-us",
        "en-US",
    )
    assert seen[0].headers["Cache-Control"] == "no-cache"
    assert results.web is not None and results.web[0].position == 41
    assert (results.start, results.next_start) == (40, None)


def test_news_map_title_url_source_age_and_the_exact_instant() -> None:
    seen: list[httpx.Request] = []
    results = client_with(answering(200, NEWS_OK, seen)).search("google_news", "café", num=30)
    assert seen[0].url.path == "/res/v1/news/search" and seen[0].url.params["count"] == "30"
    assert "text_decorations" not in seen[0].url.params
    assert results.news is not None
    (item,) = results.news
    assert (item.title, item.url, item.source, item.date, item.snippet) == (
        "Preço do café sobe",
        "https://g1.globo.com/cafe",
        "g1.globo.com",
        "2 horas atrás",
        "A saca passou de...",
    )
    assert item.published_at == datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(("engine", "start"), [("google_maps", 0), ("google", 200)])
def test_what_brave_cannot_do_is_refused_before_any_call(engine: Any, start: int) -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(InvalidRequestError) as caught:
        client_with(answering(200, WEB_OK, seen)).search(engine, "café", start=start)
    assert caught.value.code == "engine_unsupported"
    assert seen == []


@pytest.mark.parametrize(
    ("status", "body", "error_class", "code"),
    [
        (
            422,
            brave_error(422, "SUBSCRIPTION_TOKEN_INVALID", "The provided subscription token is invalid."),
            AuthenticationError,
            "SUBSCRIPTION_TOKEN_INVALID",
        ),
        (401, brave_error(401, "UNAUTHORIZED", "Unauthorized"), AuthenticationError, "UNAUTHORIZED"),
        (403, brave_error(403, "FORBIDDEN", "Plan does not allow it"), AuthenticationError, "FORBIDDEN"),
        (
            422,
            brave_error(422, "VALIDATION", "Unable to validate request parameter(s)"),
            InvalidRequestError,
            "VALIDATION",
        ),
        (500, brave_error(500, "INTERNAL", "Internal Server Error"), ProviderUnavailableError, "INTERNAL"),
        (503, {"message": "upstream down"}, ProviderUnavailableError, None),
    ],
)
def test_braves_errors_map_to_the_taxonomy(status: int, body: Any, error_class: type, code: str | None) -> None:
    with pytest.raises(error_class) as caught:
        client_with(answering(status, body), attempts=1).search("google", "café")
    assert (caught.value.http_status, caught.value.code) == (status, code)


@pytest.mark.parametrize(
    ("remaining", "reset", "wait", "code"),
    [
        ("0, 500", "1, 1419704", 1.0, "RATE_LIMITED"),  # the second's window: wait a second
        ("12, 0", "1, 1419704", 1419704.0, "credits_exhausted"),  # the month's credit is spent
    ],
)
def test_a_429_waits_for_the_spent_windows_reset(remaining: str, reset: str, wait: float, code: str) -> None:
    headers = {**HEADERS, "X-RateLimit-Remaining": remaining, "X-RateLimit-Reset": reset}
    body = brave_error(429, "RATE_LIMITED", "Request rate limit exceeded for plan.")
    with pytest.raises(RateLimitedError) as caught:
        client_with(answering(429, body, **headers), attempts=1).search("google", "café")
    assert (caught.value.retry_after, caught.value.code) == (wait, code)


def test_the_token_never_reaches_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    echo = brave_error(422, "SUBSCRIPTION_TOKEN_INVALID", f"The provided subscription token {KEY} is invalid.")
    with pytest.raises(AuthenticationError) as caught:
        client_with(answering(422, echo), attempts=1).search("google", "x")
    assert KEY not in str(caught.value) and KEY not in repr(caught.value.__dict__)
    for record in caplog.records:
        assert KEY not in record.getMessage() and KEY not in repr(record.__dict__)


# ----- the sandbox keeps Brave's contract, and the adapter works against it ----------------------


def sandbox_client(sandbox: BraveSandbox | None = None, key: str | None = None) -> tuple[SandboxServer, BraveClient]:
    server = SandboxServer([sandbox or BraveSandbox()])
    http = httpx.Client(transport=httpx.WSGITransport(app=server))
    secret = demo.demo_secret_values("http://sandbox")["brave"] | ({"api_key": key} if key else {})
    creds = BraveClient.parse_credentials(secret)
    return server, BraveClient(creds, http=http, retry_policy=RetryPolicy(max_attempts=1, sleep=lambda _: None))


def test_the_sandbox_registers_itself_with_its_demo_secret() -> None:
    assert any(isinstance(s, BraveSandbox) for s in all_sandboxes())
    assert demo.demo_secret_values("http://127.0.0.1:4010")["brave"] == {
        "base_url": "http://127.0.0.1:4010/brave",
        "api_key": DEMO_API_KEY,
    }


def test_the_sandbox_validates_as_brave_does() -> None:
    server, _ = sandbox_client()
    http = httpx.Client(transport=httpx.WSGITransport(app=server), base_url="http://sandbox/brave")
    missing = http.get("/res/v1/web/search", params={"q": "x"})
    assert missing.status_code == 422 and missing.json()["error"]["meta"]["errors"][0]["loc"] == [
        "header",
        "x-subscription-token",
    ]
    token = {"X-Subscription-Token": DEMO_API_KEY}
    for params in ({"q": ""}, {"q": "x", "count": "21"}, {"q": "x", "offset": "10"}, {"q": "x", "country": "XX"}):
        answer = http.get("/res/v1/web/search", params=params, headers=token)
        assert (answer.status_code, answer.json()["error"]["code"]) == (422, "VALIDATION"), params
    assert http.get("/res/v1/news/search", params={"q": "x", "count": "50"}, headers=token).status_code == 200


def test_the_adapter_against_the_sandbox_pages_reads_limits_and_faults() -> None:
    server, client = sandbox_client(BraveSandbox(per_month=3))
    page = client.search("google", "produtora de vídeo", num=20)
    assert page.web is not None and len(page.web) == 20 and page.next_start == 20
    news = client.search("google_news", "produtora de vídeo", num=5)
    assert news.news is not None and all(n.published_at and n.source for n in news.news)
    last = client.search("google", "produtora de vídeo", num=20, start=40)  # 60 in all: the last page
    assert last.web is not None and last.web[-1].position == 60 and last.next_start is None

    # The month's 3 searches are spent: Brave's 429 with its headers -> wait for the month's reset.
    with pytest.raises(RateLimitedError) as spent:
        client.search("google", "mais uma")
    assert spent.value.code == "credits_exhausted" and spent.value.retry_after >= 3600

    _, wrong = sandbox_client(key="BSA-wrong-token-000000")
    with pytest.raises(AuthenticationError):
        wrong.health_check()
    server.set_fault("brave", Fault(mode="error", status=503, times=1))
    with pytest.raises(ProviderUnavailableError):
        client.search("google", "x")
