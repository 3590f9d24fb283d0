"""End to end: a provider call through the booted local cloud shows up in UsageReport (calls,
cost in USD and BRL, the plan's searches quota), with no dates: the current month."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from localcloud import LocalCloud
from tests.e2e.conftest import client

pytestmark = pytest.mark.e2e


def invoke(cloud: LocalCloud, name: str, payload: dict[str, Any]) -> dict[str, Any]:
    result = client(cloud, "lambda").invoke(FunctionName=name, Payload=json.dumps(payload))
    body: dict[str, Any] = json.loads(result["Payload"].read())
    assert result.get("FunctionError") is None, body
    return body


def search_line(report: dict[str, Any]) -> dict[str, Any]:
    lines = [p for p in report["providers"] if (p["provider"], p["operation"]) == ("serpapi", "search")]
    return lines[0] if lines else {"calls": 0, "units": 0, "cost_usd": None}


def test_a_search_is_counted_priced_and_reported_for_the_current_month(cloud: LocalCloud) -> None:
    before = search_line(invoke(cloud, "UsageReport", {"org_id": "demo"}))
    invoke(cloud, "WebSearch", {"org_id": "demo", "engine": "google", "q": "produtora de vídeo", "num": 3})
    report = invoke(cloud, "UsageReport", {"org_id": "demo"})
    after = search_line(report)
    assert (after["calls"] - before["calls"], after["units"] - before["units"]) == (1, 1)
    spent = Decimal(after["cost_usd"]) - Decimal(before["cost_usd"] or "0")
    assert spent == Decimal("0.015")
    assert report["start"].endswith("-01") and report["months"] == [report["start"][:7]]
    assert Decimal(report["grand_total_brl"]) >= Decimal(after["cost_brl"])
    quota = next(q for q in report["quotas"] if q["rule"] == "searches_per_month")
    assert quota["provider"] == "serpapi" and quota["limit"] == 5_000 and quota["used"] >= 1
