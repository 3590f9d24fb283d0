"""The SerpAPI sandbox keeps SerpAPI's published contract, and the adapter works against it.

Served in-process (httpx's WSGI transport), as the local cloud serves it at /serpapi."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from hub.errors import AuthenticationError, InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.providers.serpapi.client import SerpApiClient
from hub.retry import RetryPolicy
from localcloud import demo
from localcloud.sandboxes import SandboxServer, all_sandboxes
from localcloud.sandboxes.base import Fault
from localcloud.sandboxes.serpapi import DEMO_API_KEY, SerpApiSandbox

BASE = "http://sandbox/serpapi"


def serve(sandbox: SerpApiSandbox | None = None) -> tuple[SandboxServer, httpx.Client]:
    server = SandboxServer([sandbox or SerpApiSandbox()])
    return server, httpx.Client(transport=httpx.WSGITransport(app=server))


def get(http: httpx.Client, path: str, **params: Any) -> httpx.Response:
    return http.get(f"{BASE}{path}", params=params)


def adapter(http: httpx.Client) -> SerpApiClient:
    creds = SerpApiClient.parse_credentials(demo.demo_secret_values("http://sandbox")["serpapi"])
    return SerpApiClient(creds, http=http, retry_policy=RetryPolicy(max_attempts=1, sleep=lambda _: None))


def test_the_sandbox_registers_itself_with_its_demo_secret() -> None:
    assert any(isinstance(s, SerpApiSandbox) for s in all_sandboxes())
    assert demo.demo_secret_values("http://127.0.0.1:4010")["serpapi"] == {
        "base_url": "http://127.0.0.1:4010/serpapi",
        "api_key": DEMO_API_KEY,
    }


@pytest.mark.parametrize("key", [None, "wrong"])
def test_a_missing_or_wrong_key_is_401_with_serpapis_error(key: str | None) -> None:
    _, http = serve()
    params = {"engine": "google", "q": "coffee"} | ({"api_key": key} if key else {})
    for path in ("/search", "/account.json"):
        response = get(http, path, **params)
        assert response.status_code == 401
        assert response.json() == {
            "error": "Invalid API key. Your API key should be here: https://serpapi.com/manage-api-key"
        }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"engine": "google"}, "Missing query `q` parameter."),
        ({"engine": "bing", "q": "x"}, "Unsupported `bing` search engine."),
        ({"engine": "google", "q": "x", "num": "abc"}, "Invalid `num`"),
        ({"engine": "google", "q": "x", "num": "101"}, "Invalid `num`"),
        ({"engine": "google_maps", "q": "x"}, "`type`"),
        ({"engine": "google_maps", "q": "x", "type": "search", "start": "20"}, "`ll`"),
    ],
)
def test_invalid_requests_are_400_naming_the_parameter(params: dict[str, str], message: str) -> None:
    _, http = serve()
    response = get(http, "/search", api_key=DEMO_API_KEY, **params)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_results_have_serpapis_shape_and_never_echo_the_key() -> None:
    _, http = serve()
    body = get(http, "/search", api_key=DEMO_API_KEY, engine="google", q="café", num="3").json()
    assert body["search_metadata"]["status"] == "Success" and body["search_metadata"]["id"]
    assert body["search_parameters"] == {"engine": "google", "q": "café", "num": "3"}
    assert [r["position"] for r in body["organic_results"]] == [1, 2, 3]
    assert {"title", "link", "snippet"} <= set(body["organic_results"][0])
    assert DEMO_API_KEY not in str(body)


def test_the_plan_runs_out_and_cached_searches_are_free() -> None:
    _, http = serve(SerpApiSandbox(searches_per_month=2))
    assert get(http, "/search", api_key=DEMO_API_KEY, q="a").status_code == 200
    first = get(http, "/search", api_key=DEMO_API_KEY, q="b").json()
    # The same search again comes from the cache: free, the same id, not counted.
    again = get(http, "/search", api_key=DEMO_API_KEY, q="b")
    assert again.status_code == 200 and again.json()["search_metadata"]["id"] == first["search_metadata"]["id"]
    spent = get(http, "/search", api_key=DEMO_API_KEY, q="c")
    assert spent.status_code == 429
    assert spent.json() == {"error": "Your account has run out of searches."}
    # no_cache forces a fresh (counted) search, refused too now.
    assert get(http, "/search", api_key=DEMO_API_KEY, q="b", no_cache="true").status_code == 429
    account = get(http, "/account.json", api_key=DEMO_API_KEY).json()
    assert (account["this_month_usage"], account["total_searches_left"]) == (2, 0)


def test_the_adapter_against_the_sandbox_for_every_engine() -> None:
    _, http = serve()
    client = adapter(http)
    web = client.search("google", "produtora de vídeo", hl="pt-BR", gl="br", num=3)
    places = client.search("google_maps", "produtora de vídeo", num=5)
    news = client.search("google_news", "produtora de vídeo", num=2)
    assert web.web is not None and len(web.web) == 3
    assert places.places is not None and len(places.places) == 5
    assert places.places[0].gps is not None and places.places[0].rating is not None
    assert news.news is not None and [n.source for n in news.news] == ["Jornal 1", "Jornal 2"]
    empty = client.search("google", "[[empty]] nada")
    assert empty.web == []
    client.health_check()


def test_the_adapter_maps_the_sandboxs_errors_and_faults() -> None:
    server, http = serve(SerpApiSandbox(searches_per_month=1))
    client = adapter(http)
    client.search("google", "one")
    with pytest.raises(RateLimitedError) as exhausted:
        client.search("google", "two")
    assert exhausted.value.code == "searches_exhausted"
    with pytest.raises(RateLimitedError):
        client.health_check()  # no searches left: unhealthy

    server.set_fault("serpapi", Fault(mode="error", status=503, times=1))
    with pytest.raises(ProviderUnavailableError):
        client.search("google", "one")
    server.set_fault("serpapi", Fault(mode="rate_limited", retry_after=7, times=1))
    with pytest.raises(RateLimitedError) as throttled:
        client.search("google", "one")
    assert throttled.value.retry_after == 7

    wrong = SerpApiClient(
        SerpApiClient.parse_credentials({"api_key": "nope", "base_url": BASE}),
        http=http,
        retry_policy=RetryPolicy(max_attempts=1),
    )
    with pytest.raises(AuthenticationError):
        wrong.health_check()
    with pytest.raises(InvalidRequestError):
        client.search("google_maps", "x", start=20)  # SerpAPI: pagination needs ll
