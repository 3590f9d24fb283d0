"""The search chain against moto (SearchCacheTable, ResilienceTable, SpendTable, the bus from
template.yaml) and the SerpApi sandbox: the cache round trip, stale answers when the engines are
down, the manual request on the bus, the org's plan as an exact quota under concurrency, and the
usage report's search lines."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from hub.ai.spend import current_month, usage_report
from hub.errors import ProviderUnavailableError, RateLimitedError
from hub.providers.serpapi.client import SerpApiClient
from hub.search import cache as search_cache_module
from localcloud.sandboxes.serpapi import DEMO_API_KEY
from localcloud.servers import free_port
from tests.aws.conftest import HubAws
from tests.conftest import ServedSandboxes
from tests.helpers import FakeLambdaContext, load_function

ORG = "acme"


class Clock:
    now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(search_cache_module, "clock", clock)
    return clock


@pytest.fixture
def engines(hub_aws: HubAws, sandboxes: ServedSandboxes, monkeypatch: pytest.MonkeyPatch) -> ServedSandboxes:
    """acme: SerpApi (the sandbox, the Free plan's 100 searches) then Serper and Brave, which it
    has not connected (their secrets are absent: each falls through)."""
    monkeypatch.setenv("SEARCH_CACHE_TABLE", hub_aws.template.resolve({"Ref": "SearchCacheTable"}))
    from hub.config import get_settings

    get_settings.cache_clear()
    hub_aws.put_secret(
        ORG, "serpapi", {"api_key": DEMO_API_KEY, "base_url": f"{sandboxes.url}/serpapi", "plan": "free"}
    )
    hub_aws.put_secret(ORG, "search", {"chain": ["serpapi", "serper", "brave"]})
    return sandboxes


def searches(sandboxes: ServedSandboxes) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = httpx.get(
        f"{sandboxes.url}/__sandbox/requests", params={"provider": "serpapi"}, timeout=5
    ).json()
    return [s for s in sent if s["path"] == "/search"]


def invoke(function: str, payload: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = load_function(function).handler({"org_id": ORG, **payload}, FakeLambdaContext())
    return result


def test_a_search_is_cached_counted_once_then_served_stale_when_every_engine_is_down(
    hub_aws: HubAws, engines: ServedSandboxes, clock: Clock
) -> None:
    # Given one search through SerpApi
    first = invoke("search_web", {"q": "produtora de vídeo em Campinas", "num": 5})
    assert (first["provider"], first["cached"], len(first["web"])) == ("serpapi", False, 5)
    # When it is asked again an hour later, written differently: the cache answers, no search spent
    clock.now += 3600
    again = invoke("search_web", {"q": "Produtora de  VÍDEO em campinas", "num": 5})
    assert (again["cached"], again["stale"], again["age_seconds"]) == (True, False, 3600)
    assert again["web"] == first["web"] and len(searches(engines)) == 1
    # The usage report counts the one search (not the cache hit) against the org's Free plan
    report = usage_report(ORG, *current_month())
    [line] = [line for line in report.providers if line.provider == "serpapi"]
    assert (line.operation, line.calls, line.units) == ("search", 1, 1)
    assert line.cost_usd is not None and line.cost_usd > 0
    quota = next(q for q in report.quotas if (q.provider, q.rule) == ("serpapi", "searches_per_month"))
    assert (quota.used, quota.limit) == (1, 100)
    # When SerpApi is down and the caller wants a fresh answer: the entry, marked stale
    httpx.put(f"{engines.url}/__sandbox/faults/serpapi", json={"mode": "error", "status": 503}, timeout=5)
    stale = invoke("search_web", {"q": "produtora de vídeo em campinas", "num": 5, "fresh": True})
    assert (stale["cached"], stale["stale"], stale["age_seconds"]) == (True, True, 3600)
    assert [f["provider"] for f in stale["failed"]] == ["serpapi", "serper", "brave"]
    assert stale["failed"][0]["error"] == "ProviderUnavailableError"
    # Past the TTL (24 h): never served; a clear error
    clock.now += 86400
    with pytest.raises(ProviderUnavailableError, match="serpapi: ProviderUnavailableError"):
        invoke("search_web", {"q": "produtora de vídeo em campinas", "num": 5})


def test_the_orgs_plan_is_an_exact_quota_under_concurrency_then_every_engine_fails(
    hub_aws: HubAws, engines: ServedSandboxes
) -> None:
    # Given a plan of 5 searches a month, 3 of them spent
    hub_aws.client("secretsmanager").put_secret_value(
        SecretId=f"hub/{ORG}/serpapi",
        SecretString=json.dumps({"api_key": DEMO_API_KEY, "base_url": f"{engines.url}/serpapi", "monthly_searches": 5}),
    )
    for i in range(3):
        SerpApiClient.for_org(ORG).search("google", f"aquecimento {i}")
    barrier = threading.Barrier(8)

    def contend(i: int) -> str:
        barrier.wait()
        try:
            SerpApiClient.for_org(ORG).search("google", f"concorrente {i}")
        except RateLimitedError as exc:
            return exc.code or "rate_limited"
        return "searched"

    # When 8 instances race for the last 2
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(contend, range(8)))
    # Then exactly 2 searched; SerpApi saw exactly 5 searches
    assert outcomes.count("searched") == 2
    assert outcomes.count("quota_exceeded") == 6
    assert len(searches(engines)) == 5
    # When the plan is spent and no other engine is connected, nothing is cached: the caller
    # asked for a manual search, so it is on the bus with the request id (never the key)
    tap = hub_aws.bus_tap("manual-search-tap", {"detail-type": ["search.manual_requested"]})
    context = FakeLambdaContext("SearchNews")
    with pytest.raises(ProviderUnavailableError) as raised:
        load_function("search_news").handler(
            {"org_id": ORG, "q": "feira de franquias", "manual_if_unavailable": True}, context
        )
    assert raised.value.details["manual_requested"] is True
    assert "serpapi: RateLimitedError (quota_exceeded)" in raised.value.message
    [message] = hub_aws.client("sqs").receive_message(QueueUrl=tap, WaitTimeSeconds=1)["Messages"]
    event = json.loads(message["Body"])
    assert event["detail"]["request_id"] == context.aws_request_id
    assert event["detail"]["query"]["q"] == "feira de franquias"
    assert DEMO_API_KEY not in message["Body"]
    assert len(searches(engines)) == 5

    # A refused connection (nothing listens on SerpApi's port) falls through the same way
    hub_aws.client("secretsmanager").put_secret_value(
        SecretId=f"hub/{ORG}/serpapi",
        SecretString=json.dumps({"api_key": DEMO_API_KEY, "base_url": f"http://127.0.0.1:{free_port()}"}),
    )
    with pytest.raises(ProviderUnavailableError) as raised:
        invoke("search_places", {"q": "padaria em pinheiros"})
    assert raised.value.details["failed"][0]["provider"] == "serpapi"
    assert raised.value.details["failed"][0]["error"] == "ProviderUnavailableError"
    assert raised.value.details["manual_requested"] is False
