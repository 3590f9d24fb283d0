"""SerpApiClient against SerpAPI's documented requests, responses and errors (httpx.MockTransport)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hub.errors import AuthenticationError, InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.invocation import parse_request
from hub.providers import ADAPTERS, descriptor
from hub.providers.serpapi.client import SerpApiClient, SerpApiCredentials
from hub.search.web import WebSearchRequest
from tests.helpers import AdapterFactory, FakeLambdaContext, load_function

KEY = "serp-secret-key-4f1d"
CREDS = SerpApiCredentials(api_key=SecretStr(KEY))

# https://serpapi.com/organic-results
GOOGLE_OK: dict[str, Any] = {
    "search_metadata": {"id": "64c32cfeb68f8bc186aaa013", "status": "Success"},
    "search_parameters": {"engine": "google", "q": "coffee"},
    "search_information": {"total_results": 1230000},
    "organic_results": [
        {
            "position": 1,
            "title": "Coffee",
            "link": "https://en.wikipedia.org/wiki/Coffee",
            "displayed_link": "https://en.wikipedia.org > wiki > Coffee",
            "snippet": "Coffee is a beverage prepared from roasted coffee beans.",
        },
        {"position": 2, "title": "No link here"},
        {"position": 3, "title": "x" * 2000, "link": "https://example.com/long", "snippet": "y" * 5000},
    ],
}
# https://serpapi.com/maps-local-results
MAPS_OK: dict[str, Any] = {
    "search_metadata": {"id": "maps1", "status": "Success"},
    "local_results": [
        {
            "position": 1,
            "title": "Houndstooth Coffee",
            "rating": 4.6,
            "address": "401 Congress Ave. #100c",
            "gps_coordinates": {"latitude": 30.2664, "longitude": -97.7427},
        },
        {"position": 2, "title": "No rating", "rating": "n/a", "gps_coordinates": {"latitude": "?"}},
    ],
}
# https://serpapi.com/google-news-api
NEWS_OK: dict[str, Any] = {
    "search_metadata": {"id": "news1", "status": "Success"},
    "news_results": [
        {
            "position": 1,
            "title": "Coffee prices rise",
            "source": {"name": "Reuters", "icon": "https://x/icon.png", "authors": []},
            "link": "https://reuters.com/coffee",
            "date": "12/03/2026, 08:00 AM, +0000 UTC",
        },
        {"position": 2, "highlight": {"title": "Story lead", "link": "https://g1.com/lead", "source": "G1"}},
    ],
}


client_with = AdapterFactory(SerpApiClient, CREDS)


def answering(status: int, body: Any, seen: list[httpx.Request] | None = None, **headers: str) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, json=body, headers=headers)

    return handler


def test_serpapi_is_registered_as_a_web_search_provider_with_its_monthly_quota() -> None:
    found = descriptor("serpapi")
    assert found is not None and "WebSearch" in found.capabilities
    assert found.client_class() is SerpApiClient
    assert ADAPTERS["serpapi"] is SerpApiClient  # the health check probes it
    (rule,) = found.limits
    assert (rule.name, rule.scope, rule.applies("search"), rule.applies(None)) == (
        "searches_per_month",
        "account",
        True,
        False,  # the health check (/account, free) is not counted
    )


def test_google_search_sends_the_documented_query_and_returns_bounded_results() -> None:
    seen: list[httpx.Request] = []
    results = client_with(answering(200, GOOGLE_OK, seen)).search(
        "google", "coffee", location="Austin, Texas", hl="en", gl="us", num=2, start=10, no_cache=True
    )
    (request,) = seen
    assert request.method == "GET"
    assert request.url.path == "/search"
    assert dict(request.url.params) == {
        "engine": "google",
        "q": "coffee",
        "location": "Austin, Texas",
        "hl": "en",
        "gl": "us",
        "num": "2",
        "start": "10",
        "no_cache": "true",
        "api_key": KEY,
    }
    assert results.search_id == "64c32cfeb68f8bc186aaa013"
    assert results.places is None and results.news is None
    assert results.web is not None
    # The result without a link is dropped; long fields are cut; at most num results.
    assert [r.position for r in results.web] == [1, 3]
    assert results.web[0].title == "Coffee" and results.web[0].link == "https://en.wikipedia.org/wiki/Coffee"
    assert len(results.web[1].title) == 500 and results.web[1].snippet is not None
    assert len(results.web[1].snippet) == 1000


def test_maps_search_asks_for_type_search_and_returns_places() -> None:
    seen: list[httpx.Request] = []
    results = client_with(answering(200, MAPS_OK, seen)).search("google_maps", "coffee", hl="en", num=5)
    params = dict(seen[0].url.params)
    assert params["engine"] == "google_maps" and params["type"] == "search"
    assert "num" not in params and "start" not in params  # not maps parameters
    assert results.places is not None
    first, second = results.places
    assert (first.name, first.address, first.rating) == ("Houndstooth Coffee", "401 Congress Ave. #100c", 4.6)
    assert first.gps is not None and (first.gps.latitude, first.gps.longitude) == (30.2664, -97.7427)
    assert (second.rating, second.gps) == (None, None)


def test_a_news_page_after_the_first_is_a_slice_of_googles_whole_answer() -> None:
    # Google News takes no start/num (https://serpapi.com/google-news-api): SearchNews pages it.
    seen: list[httpx.Request] = []
    results = client_with(answering(200, NEWS_OK, seen)).search("google_news", "coffee", num=1, start=1)
    assert [n.title for n in results.news or []] == ["Story lead"]
    assert "start" not in seen[0].url.params and "num" not in seen[0].url.params


def test_the_orgs_plan_sets_the_monthly_searches_quota() -> None:
    def monthly(**fields: Any) -> int:
        creds = SerpApiCredentials(api_key=SecretStr(KEY), **fields)
        [rule] = [r for r in SerpApiClient(creds).limit_rules(None) if r.name == "searches_per_month"]
        return rule.limit

    assert (monthly(), monthly(plan="free"), monthly(plan="production")) == (5_000, 100, 15_000)
    assert monthly(plan="free", monthly_searches=250) == 250  # the exact figure wins


def test_news_search_returns_title_link_source_and_date() -> None:
    results = client_with(answering(200, NEWS_OK)).search("google_news", "coffee", num=10)
    assert results.news is not None
    assert [(n.title, n.link, n.source) for n in results.news] == [
        ("Coffee prices rise", "https://reuters.com/coffee", "Reuters"),
        ("Story lead", "https://g1.com/lead", "G1"),
    ]
    assert results.news[0].date == "12/03/2026, 08:00 AM, +0000 UTC"


def test_a_200_with_error_and_no_results_is_an_empty_page_not_a_failure() -> None:
    # https://serpapi.com/search-errors: status Success, "error" explains the empty page.
    body = {
        "search_metadata": {"id": "e1", "status": "Success"},
        "search_information": {"organic_results_state": "Fully empty"},
        "error": "Google hasn't returned any results for this query.",
    }
    results = client_with(answering(200, body)).search("google", "zzqxj")
    assert results.web == []


@pytest.mark.parametrize(
    ("status", "body", "error_class", "code"),
    [
        (400, {"error": "Missing query `q` parameter."}, InvalidRequestError, None),
        (
            401,
            {"error": "Invalid API key. Your API key should be here: https://serpapi.com/manage-api-key"},
            AuthenticationError,
            None,
        ),
        (
            403,
            {"error": "The account associated with this API key doesn't have permission."},
            AuthenticationError,
            None,
        ),
        (
            429,
            {"error": "The number of requests sent using this API key exceeds the hourly throughput limit."},
            RateLimitedError,
            None,
        ),
        (429, {"error": "Your account has run out of searches."}, RateLimitedError, "searches_exhausted"),
        (
            503,
            {"search_metadata": {"status": "Error"}, "error": "We couldn't get valid results."},
            ProviderUnavailableError,
            None,
        ),
    ],
)
def test_documented_errors_map_to_the_taxonomy(status: int, body: Any, error_class: type, code: str | None) -> None:
    with pytest.raises(error_class) as caught:
        client_with(answering(status, body), attempts=1).search("google", "coffee")
    assert caught.value.http_status == status
    assert caught.value.code == code
    assert body["error"] in caught.value.message


def test_running_out_of_searches_waits_an_hour_not_a_minute() -> None:
    with pytest.raises(RateLimitedError) as caught:
        client_with(answering(429, {"error": "Your account has run out of searches."}), attempts=1).search(
            "google", "x"
        )
    assert caught.value.retry_after >= 3600


def test_the_api_key_never_reaches_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    # The key is a query parameter: httpx's own request log prints full URLs at INFO, and an
    # error body could echo it. Neither may carry it anywhere.
    caplog.set_level(logging.DEBUG)
    echo = {"error": f"Invalid API key {KEY}. Your API key should be here: https://serpapi.com/manage-api-key"}
    with pytest.raises(AuthenticationError) as caught:
        client_with(answering(401, echo), attempts=1).search("google", "coffee")
    client_with(answering(200, GOOGLE_OK)).search("google", "coffee")
    client_with(answering(200, {"api_key": KEY, "total_searches_left": 10})).health_check()

    assert KEY not in str(caught.value) and KEY not in repr(caught.value.__dict__)
    # Every record of every logger, with its extra fields (the hub's provider_call line carries
    # method and path), rendered as a handler would.
    assert "provider_call" in caplog.text
    for record in caplog.records:
        assert KEY not in record.getMessage()
        assert KEY not in repr(record.__dict__)


def test_health_check_reads_the_free_account_api() -> None:
    seen: list[httpx.Request] = []
    account = {"api_key": KEY, "plan_searches_left": 4990, "total_searches_left": 4990, "this_month_usage": 10}
    client_with(answering(200, account, seen)).health_check()
    assert seen[0].url.path == "/account.json"
    assert dict(seen[0].url.params) == {"api_key": KEY}


def test_health_check_fails_when_the_plan_has_no_searches_left() -> None:
    with pytest.raises(RateLimitedError) as caught:
        client_with(answering(200, {"total_searches_left": 0})).health_check()
    assert caught.value.code == "searches_exhausted"


def test_base_url_from_the_secret_is_used() -> None:
    seen: list[httpx.Request] = []
    creds = SerpApiCredentials(api_key=SecretStr(KEY), base_url="http://127.0.0.1:4010/serpapi/")
    http = httpx.Client(transport=httpx.MockTransport(answering(200, GOOGLE_OK, seen)))
    SerpApiClient(creds, http=http).search("google", "coffee")
    assert str(seen[0].url).startswith("http://127.0.0.1:4010/serpapi/search?")


# ----- the WebSearch request: validated strictly, before any secret is read ---------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"org_id": "demo", "engine": "bing", "q": "x"}, "engine"),
        ({"org_id": "demo", "engine": "google", "q": ""}, "q"),
        ({"org_id": "demo", "engine": "google", "q": "x" * 2049}, "q"),
        ({"org_id": "demo", "engine": "google", "q": "x", "num": 101}, "num"),
        ({"org_id": "demo", "engine": "google", "q": "x", "num": "10"}, "num"),
        ({"org_id": "demo", "engine": "google", "q": "x", "num": 0}, "num"),
        ({"org_id": "demo", "engine": "google", "q": "x", "gl": "brazil"}, "gl"),
        ({"org_id": "demo", "engine": "google", "q": "x", "api_key": "mine"}, "api_key"),
        ({"org_id": "demo", "engine": "google_news", "q": "x", "location": "Sao Paulo"}, "location"),
        ({"org_id": "demo", "engine": "google_maps", "q": "x", "start": 20}, "start"),
        ({"org_id": "demo", "engine": "google", "q": "x", "provider": "bing"}, "provider"),
        ({"org_id": " demo", "engine": "google", "q": "x"}, "org_id"),
    ],
)
def test_bad_requests_are_refused_naming_the_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_request(WebSearchRequest, payload)
    assert field in caught.value.message


def test_the_handler_refuses_bad_input_before_reading_any_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_secret(*args: Any) -> Any:
        raise AssertionError("a secret was read for an invalid request")

    monkeypatch.setattr("hub.providers.base.client.get_provider_secret", no_secret)
    handler = load_function("web_search").handler
    with pytest.raises(InvalidRequestError) as caught:
        handler({"org_id": "demo", "engine": "google", "q": "x", "num": 1000}, FakeLambdaContext())
    assert "num" in caught.value.message


def test_the_handler_returns_the_results(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hub.providers.base.client.get_provider_secret", lambda org, provider: {"api_key": KEY})
    monkeypatch.setattr(
        "hub.providers.base.client._SHARED_HTTP", httpx.Client(transport=httpx.MockTransport(answering(200, NEWS_OK)))
    )
    handler = load_function("web_search").handler
    result = handler({"org_id": "demo", "engine": "google_news", "q": "café", "num": 1}, FakeLambdaContext())
    # Every field WebSearch answered before stays; the normalised model adds url (= link), the
    # engine that found it and the page's offset.
    assert result == {
        "provider": "serpapi",
        "engine": "google_news",
        "search_id": "news1",
        "start": 0,
        "next_start": 1,  # Google News answered more stories than the page holds
        "news": [
            {
                "position": 1,
                "title": "Coffee prices rise",
                "link": "https://reuters.com/coffee",
                "url": "https://reuters.com/coffee",
                "source": "Reuters",
                "date": "12/03/2026, 08:00 AM, +0000 UTC",
                "source_engine": "serpapi",
            }
        ],
    }


# ----- the normalised model: every engine's fields, searches left ------------------------------


def test_serpapi_fills_the_normalised_model() -> None:
    # https://serpapi.com/maps-local-results (phone, website, reviews), /google-news-api (iso_date),
    # /search-api (serpapi_pagination.next)
    maps = {
        "search_metadata": {"id": "m", "status": "Success"},
        "local_results": [
            {
                "position": 1,
                "title": "Café Girondino",
                "rating": 4.5,
                "reviews": 12034,
                "phone": "(11) 3229-4574",
                "website": "https://www.girondino.com.br/",
                "address": "R. Boa Vista, 365",
                "gps_coordinates": {"latitude": -23.5466, "longitude": -46.6339},
            }
        ],
        "serpapi_pagination": {"next": "https://serpapi.com/search.json?start=20"},
    }
    (place,) = client_with(answering(200, maps)).search("google_maps", "café").places or []
    assert (place.phone, place.website, place.reviews, place.source_engine) == (
        "(11) 3229-4574",
        "https://www.girondino.com.br/",
        12034,
        "serpapi",
    )
    assert place.coordinates == place.gps and place.coordinates is not None
    following = {"next": "https://serpapi.com/search.json?engine=google&q=coffee&start=20"}
    web = client_with(answering(200, {**GOOGLE_OK, "serpapi_pagination": following})).search(
        "google", "coffee", start=10
    )
    assert (web.start, web.next_start) == (10, 20)  # the start SerpAPI's next link carries
    last = client_with(answering(200, GOOGLE_OK)).search("google", "coffee", start=10)
    assert last.next_start is None  # no next link: the last page
    assert web.web is not None and all(r.url == r.link and r.source_engine == "serpapi" for r in web.web)
    news = {**NEWS_OK, "news_results": [{**NEWS_OK["news_results"][0], "iso_date": "2026-12-03T08:00:00Z"}]}
    (item,) = client_with(answering(200, news)).search("google_news", "café").news or []
    assert item.published_at is not None and item.published_at.isoformat() == "2026-12-03T08:00:00+00:00"


def test_searches_left_reads_the_free_account_api() -> None:
    seen: list[httpx.Request] = []
    account = {"api_key": KEY, "plan_searches_left": 4990, "extra_credits": 10, "total_searches_left": 5000}
    assert client_with(answering(200, account, seen)).searches_left() == 5000
    assert (seen[0].url.path, dict(seen[0].url.params)) == ("/account.json", {"api_key": KEY})
    assert client_with(answering(200, {"total_searches_left": 0})).searches_left() == 0
    assert client_with(answering(200, {})).searches_left() is None
