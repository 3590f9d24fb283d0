"""SocialInsightsSync against each network's sandbox through its real adapter: the days since the
cursor are read with the network's current metric names, stored once, and a second run reads
nothing new."""

from __future__ import annotations

from typing import Any

import pytest

from hub.config import get_settings
from tests.aws.conftest import HubAws
from tests.conftest import ServedSandboxes
from tests.helpers import FakeLambdaContext, load_function

ACCOUNTS = {
    "linkedin": ("urn:li:organization:2414183", "impressionCount"),
    "instagram": ("17841400000000001", "views"),  # not "impressions": removed in 2025
    "facebook": ("102030405060708", "page_total_media_view_unique"),  # the 2025 rename
    "youtube": ("UCsomosProdutora0000demo", "views"),
}


def sync(payload: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = load_function("social_insights_sync").handler(
        payload, FakeLambdaContext("SocialInsightsSync", timeout_ms=600_000)
    )
    return answer


@pytest.mark.parametrize("network", sorted(ACCOUNTS))
def test_a_networks_days_are_synced_once_with_its_current_metric_names(
    network: str, hub_aws: HubAws, sandboxed: ServedSandboxes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCIAL_INSIGHTS_BACKFILL_DAYS", "3")
    monkeypatch.setenv("SOCIAL_INSIGHTS_SETTLE_DAYS", "0")
    get_settings.cache_clear()
    account, metric = ACCOUNTS[network]

    first = sync({"org_id": "demo", "network": network, "account": account})
    again = sync({"org_id": "demo", "network": network, "account": account})

    [synced] = first["accounts"]
    assert synced["status"] == "synced", synced
    assert len(synced["days"]) == 3
    assert again["accounts"][0]["days"] == []
    stored = load_function("social_insights_get").handler(
        {"org_id": "demo", "network": network, "account": account, "from": synced["days"][0], "to": synced["days"][-1]},
        FakeLambdaContext("SocialInsightsGet"),
    )
    assert [d["day"] for d in stored["days"]] == synced["days"]
    assert all(metric in d["metrics"] for d in stored["days"]), stored["days"]
