"""End to end: WebSearch invoked as services call it (boto3 at the Lambda invoke endpoint),
through the SerpAPI sandbox of the booted local cloud."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from localcloud import LocalCloud
from localcloud.sandboxes.serpapi import DEMO_API_KEY
from tests.e2e.conftest import client, fault
from tests.helpers import sample_event

pytestmark = pytest.mark.e2e


def invoke(cloud: LocalCloud, payload: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    result = client(cloud, "lambda").invoke(FunctionName="WebSearch", Payload=json.dumps(payload))
    return result.get("FunctionError"), json.loads(result["Payload"].read())


def test_the_sample_event_searches_google_through_the_sandbox(cloud: LocalCloud) -> None:
    httpx.delete(f"{cloud.sandbox_url}/__sandbox/requests", timeout=5)
    error, result = invoke(cloud, sample_event("web_search"))
    assert error is None, result
    assert (result["provider"], result["engine"]) == ("serpapi", "google")
    assert len(result["web"]) == 5
    assert {"position", "title", "link", "snippet"} <= set(result["web"][0])

    [sent] = httpx.get(f"{cloud.sandbox_url}/__sandbox/requests", params={"provider": "serpapi"}, timeout=5).json()
    assert (sent["method"], sent["path"]) == ("GET", "/search")
    assert sent["query"]["api_key"] == DEMO_API_KEY
    assert sent["query"]["q"] == "produtora de vídeo institucional São Paulo"
    assert DEMO_API_KEY not in json.dumps(result)


def test_maps_and_news_answer_their_own_shapes(cloud: LocalCloud) -> None:
    error, places = invoke(cloud, {"org_id": "demo", "engine": "google_maps", "q": "estúdio de gravação", "num": 3})
    assert error is None, places
    # the fields WebSearch always answered, and the normalised model's (coordinates = gps)
    assert {"address", "gps", "name", "position", "rating"} <= set(places["places"][0])
    assert places["places"][0]["coordinates"] == places["places"][0]["gps"]
    assert places["places"][0]["source_engine"] == "serpapi"
    error, news = invoke(cloud, {"org_id": "demo", "engine": "google_news", "q": "marketing digital", "num": 2})
    assert error is None, news
    assert [n["source"] for n in news["news"]] == ["Jornal 1", "Jornal 2"]


def test_bad_input_and_provider_refusals_carry_the_taxonomy_name(cloud: LocalCloud) -> None:
    httpx.delete(f"{cloud.sandbox_url}/__sandbox/requests", timeout=5)
    error, body = invoke(cloud, {"org_id": "demo", "engine": "bing", "q": "x"})
    assert (error, body["errorType"]) == ("Unhandled", "InvalidRequestError")
    assert "engine" in body["errorMessage"]
    error, body = invoke(cloud, {"org_id": "nobody", "engine": "google", "q": "x"})
    assert body["errorType"] == "InvalidRequestError" and "nobody" in body["errorMessage"]
    # Nothing reached SerpAPI for refused input.
    assert httpx.get(f"{cloud.sandbox_url}/__sandbox/requests", params={"provider": "serpapi"}, timeout=5).json() == []

    fault(cloud, "serpapi", mode="rate_limited", retry_after=30, times=3)
    try:
        error, body = invoke(cloud, {"org_id": "demo", "engine": "google", "q": "limite", "no_cache": True})
    finally:
        httpx.delete(f"{cloud.sandbox_url}/__sandbox/faults/serpapi", timeout=5)
    assert body["errorType"] == "RateLimitedError", body
    assert DEMO_API_KEY not in json.dumps(body)


def test_search_web_answers_through_the_chain_then_the_cache_then_the_next_link(cloud: LocalCloud) -> None:
    """SearchWeb as make dev runs it (SearchCacheTable, the demo org's chain): an engine answers,
    the same query again comes from the cache, and with SerpApi down the next link answers
    (another engine of the chain, or the cache marked stale) instead of an error."""
    httpx.delete(f"{cloud.sandbox_url}/__sandbox/requests", timeout=5)
    payload = {**sample_event("search_web"), "q": "estúdio de podcast em Curitiba"}
    error, first = invoke_function(cloud, "SearchWeb", payload)
    assert error is None, first
    assert (first["provider"], first["cached"], len(first["web"])) == ("serpapi", False, 5)
    assert first["next"] == {"page": 2, "start": 5}
    error, again = invoke_function(cloud, "SearchWeb", {**payload, "q": "Estúdio de  PODCAST em curitiba"})
    assert error is None and again["cached"] is True and again["web"] == first["web"]
    fault(cloud, "serpapi", mode="error", status=503)
    try:
        error, fallback = invoke_function(cloud, "SearchWeb", {**payload, "fresh": True})
    finally:
        httpx.delete(f"{cloud.sandbox_url}/__sandbox/faults/serpapi", timeout=5)
    assert error is None, fallback
    assert fallback["failed"][0]["provider"] == "serpapi"
    assert fallback["provider"] != "serpapi" or fallback["stale"] is True
    sent = httpx.get(f"{cloud.sandbox_url}/__sandbox/requests", params={"provider": "serpapi"}, timeout=5).json()
    assert DEMO_API_KEY not in json.dumps([first, again, fallback])
    assert len([s for s in sent if s["path"] == "/search" and s["fault"] is None]) == 1


def invoke_function(cloud: LocalCloud, function: str, payload: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    result = client(cloud, "lambda").invoke(FunctionName=function, Payload=json.dumps(payload))
    return result.get("FunctionError"), json.loads(result["Payload"].read())
