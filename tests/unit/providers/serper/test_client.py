"""SerperClient against Serper.dev's documented requests, answers and errors (httpx.MockTransport),
and against its sandbox (served in-process, as the local cloud serves it at /serper)."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hub.errors import AuthenticationError, InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.providers import descriptor
from hub.providers.serper.client import SerperClient, SerperCredentials
from hub.retry import RetryPolicy
from localcloud import demo
from localcloud.sandboxes import SandboxServer, all_sandboxes
from localcloud.sandboxes.base import Fault
from localcloud.sandboxes.serper import DEMO_API_KEY, SerperSandbox
from tests.helpers import AdapterFactory

KEY = "serper-secret-key-9a7b"
CREDS = SerperCredentials(api_key=SecretStr(KEY))
client_with = AdapterFactory(SerperClient, CREDS)

# https://serper.dev/playground: the answers' shapes.
SEARCH_OK: dict[str, Any] = {
    "searchParameters": {"q": "café", "gl": "br", "hl": "pt-br", "type": "search", "engine": "google"},
    "organic": [
        {
            "title": "Café - Wikipédia",
            "link": "https://pt.wikipedia.org/wiki/Caf%C3%A9",
            "snippet": "Bebida.",
            "position": 1,
        },
        {"title": "Sem link", "position": 2},
        {"title": "Padaria", "link": "https://padaria.com.br/", "position": 3},
    ],
    "credits": 1,
}
PLACES_OK: dict[str, Any] = {
    "places": [
        {
            "position": 1,
            "title": "Café Girondino",
            "address": "R. Boa Vista, 365 - Centro, São Paulo - SP",
            "latitude": -23.5466,
            "longitude": -46.6339,
            "rating": 4.5,
            "ratingCount": 12034,
            "category": "Cafeteria",
            "phoneNumber": "(11) 3229-4574",
            "website": "https://www.girondino.com.br/",
            "cid": "1234",
        },
        {"position": 2, "title": "Sem nota", "latitude": "x", "rating": True},
    ],
    "credits": 1,
}
NEWS_OK: dict[str, Any] = {
    "news": [
        {
            "title": "Preço do café sobe",
            "link": "https://g1.globo.com/cafe",
            "snippet": "A saca passou de...",
            "date": "2 horas atrás",
            "source": "g1",
            "position": 1,
        }
    ],
    "credits": 1,
}


def answering(status: int, body: Any, seen: list[httpx.Request] | None = None, **headers: str) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, json=body, headers=headers)

    return handler


def test_serper_is_a_web_search_provider_with_a_credit_budget_counted_by_the_hub() -> None:
    found = descriptor("serper")
    assert found is not None and "WebSearch" in found.capabilities
    assert found.client_class() is SerperClient
    assert SerperClient.kinds == {"google", "google_maps", "google_news"}
    rules = {rule.name: rule for rule in found.limits}
    assert rules["credits_per_month"].applies("search") and not rules["credits_per_month"].applies("account")


def test_web_search_posts_the_documented_body_with_the_key_header() -> None:
    seen: list[httpx.Request] = []
    results = client_with(answering(200, SEARCH_OK, seen)).search("google", "café", location="São Paulo", num=10)
    (request,) = seen
    assert (request.method, str(request.url)) == ("POST", "https://google.serper.dev/search")
    assert request.headers["X-API-KEY"] == KEY
    assert request.headers["Content-Type"] == "application/json"
    # Brazil and Brazilian Portuguese unless asked otherwise; page 1 of 10.
    assert json.loads(request.content) == {
        "q": "café",
        "gl": "br",
        "hl": "pt-br",
        "num": 10,
        "page": 1,
        "location": "São Paulo",
    }
    assert results.provider == "serper" and results.engine == "google"
    assert results.web is not None
    assert [(r.position, r.title, r.url, r.link, r.source_engine) for r in results.web] == [
        (
            1,
            "Café - Wikipédia",
            "https://pt.wikipedia.org/wiki/Caf%C3%A9",
            "https://pt.wikipedia.org/wiki/Caf%C3%A9",
            "serper",
        ),
        (3, "Padaria", "https://padaria.com.br/", "https://padaria.com.br/", "serper"),  # its rank kept
    ]
    assert results.next_start is None  # fewer than a page: no next page


def test_start_becomes_serpers_page_and_positions_stay_ranks() -> None:
    seen: list[httpx.Request] = []
    full = {"organic": [{"title": f"r{i}", "link": f"https://r{i}.br/"} for i in range(1, 6)], "credits": 1}
    results = client_with(answering(200, full, seen)).search("google", "x", hl="en", gl="US", num=5, start=10)
    assert json.loads(seen[0].content) == {"q": "x", "gl": "us", "hl": "en", "num": 5, "page": 3}
    assert results.web is not None and [r.position for r in results.web] == [11, 12, 13, 14, 15]
    assert (results.start, results.next_start) == (10, 15)


def test_places_map_to_the_normalised_model() -> None:
    seen: list[httpx.Request] = []
    results = client_with(answering(200, PLACES_OK, seen)).search("google_maps", "café", num=5)
    assert str(seen[0].url) == "https://google.serper.dev/places"
    assert results.places is not None
    first, second = results.places
    assert (first.name, first.address, first.phone, first.website, first.rating, first.reviews) == (
        "Café Girondino",
        "R. Boa Vista, 365 - Centro, São Paulo - SP",
        "(11) 3229-4574",
        "https://www.girondino.com.br/",
        4.5,
        12034,
    )
    assert first.coordinates is not None and first.coordinates == first.gps
    assert (first.coordinates.latitude, first.coordinates.longitude) == (-23.5466, -46.6339)
    assert (second.rating, second.coordinates, second.reviews) == (None, None, None)


def test_a_map_point_searches_maps_around_it() -> None:
    seen: list[httpx.Request] = []
    client_with(answering(200, PLACES_OK, seen)).search("google_maps", "café", ll="@-23.55,-46.63,14z")
    assert str(seen[0].url) == "https://google.serper.dev/maps"
    assert json.loads(seen[0].content)["ll"] == "@-23.55,-46.63,14z"


def test_news_map_title_url_source_date_and_snippet() -> None:
    seen: list[httpx.Request] = []
    results = client_with(answering(200, NEWS_OK, seen)).search("google_news", "café")
    assert str(seen[0].url) == "https://google.serper.dev/news"
    assert results.news is not None
    (item,) = results.news
    assert (item.title, item.url, item.source, item.date, item.snippet) == (
        "Preço do café sobe",
        "https://g1.globo.com/cafe",
        "g1",
        "2 horas atrás",
        "A saca passou de...",
    )


def test_more_than_ten_results_cost_two_credits_as_the_answer_states() -> None:
    seen: list[httpx.Request] = []
    client = client_with(answering(200, {**SEARCH_OK, "credits": 2}, seen))
    client.search("google", "café", num=20)
    assert json.loads(seen[0].content)["num"] == 20
    billing = client.billed("search", httpx.Response(200, json={"credits": 2}))
    assert billing is not None and (billing.units, billing.tariff) == (2, "credit")
    assert client.billed("account", httpx.Response(200, json={"balance": 3})) is None


@pytest.mark.parametrize(
    ("status", "body", "error_class", "code"),
    [
        (403, {"message": "Unauthorized.", "statusCode": 403}, AuthenticationError, None),
        (400, {"message": "Not enough credits", "statusCode": 400}, RateLimitedError, "credits_exhausted"),
        (400, {"message": "Query is required.", "statusCode": 400}, InvalidRequestError, None),
        (429, {"message": "Too many requests.", "statusCode": 429}, RateLimitedError, None),
        (500, {"message": "Internal Server Error", "statusCode": 500}, ProviderUnavailableError, None),
        (503, {"message": "Service Unavailable", "statusCode": 503}, ProviderUnavailableError, None),
    ],
)
def test_serpers_errors_map_to_the_taxonomy(status: int, body: Any, error_class: type, code: str | None) -> None:
    with pytest.raises(error_class) as caught:
        client_with(answering(status, body, **{"Retry-After": "5"}), attempts=1).search("google", "café")
    assert caught.value.http_status == status
    assert caught.value.code == code
    assert body["message"] in caught.value.message
    if status == 429:
        assert caught.value.retry_after == 5


def test_the_key_never_reaches_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthenticationError) as caught:
        client_with(answering(403, {"message": f"Unauthorized key {KEY}."}), attempts=1).search("google", "x")
    assert KEY not in str(caught.value) and KEY not in repr(caught.value.__dict__)
    for record in caplog.records:
        assert KEY not in record.getMessage() and KEY not in repr(record.__dict__)


def test_health_check_reads_the_free_balance_and_fails_when_it_is_spent() -> None:
    seen: list[httpx.Request] = []
    client_with(answering(200, {"balance": 2480, "rateLimit": 50}, seen)).health_check()
    assert (seen[0].method, str(seen[0].url)) == ("GET", "https://google.serper.dev/account")
    assert client_with(answering(200, {"balance": 2480})).credits_left() == 2480
    with pytest.raises(RateLimitedError) as caught:
        client_with(answering(200, {"balance": 0})).health_check()
    assert caught.value.code == "credits_exhausted"


# ----- the sandbox keeps Serper's contract, and the adapter works against it ---------------------


def sandbox_client(sandbox: SerperSandbox | None = None) -> tuple[SandboxServer, SerperClient]:
    server = SandboxServer([sandbox or SerperSandbox()])
    http = httpx.Client(transport=httpx.WSGITransport(app=server))
    creds = SerperClient.parse_credentials(demo.demo_secret_values("http://sandbox")["serper"])
    return server, SerperClient(creds, http=http, retry_policy=RetryPolicy(max_attempts=1, sleep=lambda _: None))


def test_the_sandbox_registers_itself_with_its_demo_secret() -> None:
    assert any(isinstance(s, SerperSandbox) for s in all_sandboxes())
    assert demo.demo_secret_values("http://127.0.0.1:4010")["serper"] == {
        "base_url": "http://127.0.0.1:4010/serper",
        "api_key": DEMO_API_KEY,
    }


def test_the_sandbox_refuses_a_wrong_key_and_bad_bodies_as_serper_does() -> None:
    server, _ = sandbox_client()
    http = httpx.Client(transport=httpx.WSGITransport(app=server), base_url="http://sandbox/serper")
    wrong = http.post("/search", json={"q": "x"}, headers={"X-API-KEY": "nope"})
    assert (wrong.status_code, wrong.json()) == (403, {"message": "Unauthorized.", "statusCode": 403})
    for body in ({}, {"q": " "}, {"q": "x", "num": 0}, {"q": "x", "page": "2"}):
        assert http.post("/search", json=body, headers={"X-API-KEY": DEMO_API_KEY}).status_code == 400, body
    assert http.post("/maps", json={"q": "x"}, headers={"X-API-KEY": DEMO_API_KEY}).status_code == 400  # needs ll


def test_the_adapter_against_the_sandbox_pages_and_spends_credits_until_none_are_left() -> None:
    server, client = sandbox_client(SerperSandbox(credits=4))
    first = client.search("google", "produtora de vídeo", num=10)
    again = client.search("google", "produtora de vídeo", num=10)
    assert first == again  # deterministic per query
    second = client.search("google", "produtora de vídeo", num=10, start=first.next_start or 0)
    assert first.web is not None and second.web is not None
    assert [r.position for r in second.web] == list(range(11, 21))
    assert client.credits_left() == 1
    with pytest.raises(RateLimitedError) as spent:
        client.search("google_maps", "estúdio", num=11)  # 2 credits: more than are left
    assert spent.value.code == "credits_exhausted"
    places = client.search("google_maps", "estúdio", num=3)  # the last credit
    assert places.places is not None and len(places.places) == 3
    assert all(p.coordinates and p.rating and p.reviews and p.phone and p.website for p in places.places)
    with pytest.raises(RateLimitedError):
        client.health_check()  # no credits left: unhealthy

    server.set_fault("serper", Fault(mode="error", status=503, times=1))
    with pytest.raises(ProviderUnavailableError):
        client.credits_left()
    server.set_fault("serper", Fault(mode="rate_limited", retry_after=7, times=1))
    with pytest.raises(RateLimitedError) as throttled:
        client.credits_left()
    assert throttled.value.retry_after == 7
