"""Every search engine behind the WebSearch port, as the search chain calls it: the demo org's
adapters (secrets in moto) against the session's sandboxes, usage and cost counted per org, the
hub's own quotas (Serper sends no rate-limit headers) enforced across instances."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from hub.config import get_settings
from hub.errors import InvalidRequestError, RateLimitedError
from hub.providers import ports
from hub.providers.ports import WebSearch
from hub.search.models import ENGINES, SearchResults
from hub.usage.meter import month_of
from tests.aws.conftest import HubAws
from tests.conftest import ServedSandboxes, reset_hub_caches

ORG = "demo"
PROVIDERS = ("serpapi", "serper", "brave")


def usage(hub_aws: HubAws, provider: str) -> dict[str, int]:
    item = (
        hub_aws.client("dynamodb")
        .get_item(
            TableName=hub_aws.env["SPEND_TABLE"],
            Key={"org_id": {"S": ORG}, "sk": {"S": f"usage#{month_of()}#{provider}#search"}},
        )
        .get("Item", {})
    )
    return {name: int(value["N"]) for name, value in item.items() if "N" in value}


def test_every_engine_answers_the_same_model_and_its_searches_are_counted_and_priced(
    hub_aws: HubAws, sandboxed: ServedSandboxes
) -> None:
    # Given the demo org's three engines, asked for every kind each declares (and refusing the rest
    # before any call: the chain reads ``kinds`` without credentials and skips the engine)
    answered: dict[tuple[str, str], SearchResults] = {}
    for provider in PROVIDERS:
        kinds = ports.adapter_class(WebSearch, provider).kinds
        engine = ports.for_org(WebSearch, ORG, provider)
        for kind in ENGINES:
            if kind in kinds:
                answered[provider, kind] = engine.search(kind, "produtora de vídeo", hl="pt-br", gl="br", num=5)
            else:
                with pytest.raises(InvalidRequestError) as refused:
                    engine.search(kind, "produtora de vídeo", num=5)
                assert refused.value.code == "engine_unsupported"
    assert ("brave", "google_maps") not in answered and len(answered) == 8

    # Then each answer is one page of the normalised model, marked with the engine that found it
    for (provider, kind), results in answered.items():
        dumped = results.model_dump(mode="json", exclude_none=True)
        found = dumped[{"google": "web", "google_maps": "places", "google_news": "news"}[kind]]
        assert len(found) == 5 and {r["source_engine"] for r in found} == {provider}, (provider, kind)
        if kind != "google_maps":
            assert all(r["url"] == r["link"] for r in found)
        else:
            assert all({"coordinates", "rating", "address"} <= set(r) for r in found)
    # the request each sandbox received is the documented one
    [brave_web] = [r for r in sandboxed.app.requests_for("brave") if r["path"] == "/res/v1/web/search"]
    assert brave_web["query"]["country"] == "BR" and brave_web["headers"]["X-Subscription-Token"]
    [serper_web] = [r for r in sandboxed.app.requests_for("serper") if r["path"] == "/search"]
    assert serper_web["json"] == {"q": "produtora de vídeo", "gl": "br", "hl": "pt-br", "num": 5, "page": 1}

    # And usage is counted per org with its cost in USD (serper: the credits each answer stated)
    assert usage(hub_aws, "serpapi")["units_search"] == 3
    serper = usage(hub_aws, "serper")
    assert (serper["calls"], serper["units_credit"], serper["cost_nano_usd"]) == (3, 3, 3_000_000)
    brave = usage(hub_aws, "brave")
    assert (brave["calls"], brave["units_search"], brave["cost_nano_usd"]) == (2, 2, 10_000_000)
    assert Decimal(brave["cost_nano_usd"]) / 10**9 == Decimal("0.01")


def test_serpers_credit_budget_is_enforced_by_the_hub_across_instances(
    hub_aws: HubAws, sandboxed: ServedSandboxes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an org whose Serper budget is 5 credits (configuration: RATE_LIMIT_OVERRIDES)
    rule = {"name": "credits_per_month", "limit": 5, "window_seconds": 30 * 86400, "scope": "account"}
    monkeypatch.setenv("RATE_LIMIT_OVERRIDES", json.dumps({"serper": [{**rule, "applies_to": "search"}]}))
    reset_hub_caches()
    assert get_settings().rate_limit_overrides

    # When 8 instances search at once, each for 10 results (1 credit)
    def one(_: int) -> str:
        try:
            ports.for_org(WebSearch, ORG, "serper").search("google", "estúdio de som", num=10)
        except RateLimitedError as exc:
            return exc.code or "limited"
        return "ok"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(one, range(8)))

    # Then exactly 5 reached Serper; the rest were refused by the hub, never sent
    assert outcomes.count("ok") == 5
    assert len([r for r in sandboxed.app.requests_for("serper") if r["path"] == "/search"]) == 5
    # and a search of more than 10 results takes 2 credits of the budget: none left for it
    with pytest.raises(RateLimitedError):
        ports.for_org(WebSearch, ORG, "serper").search("google", "estúdio de som", num=20)
