"""Fixtures for the webhook unit tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from hub import orgs
from hub.events import HubEvent
from hub.webhooks import ingress
from tests.conftest import TEST_ORGS
from tests.signing import freeze_standard_webhooks_clock

# ``offline_ingress(secret)`` installs the pipeline's fakes and returns the published events.
OfflineIngress = Callable[[dict[str, Any]], list[HubEvent]]

# The documented samples in events/ are signed at this instant (stale on purpose).
SAMPLE_TIMESTAMP = 1763812800


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Stop the Standard Webhooks library's clock at the samples' timestamp, so they verify."""
    freeze_standard_webhooks_clock(monkeypatch, SAMPLE_TIMESTAMP + 1)
    yield


@pytest.fixture
def offline_ingress(monkeypatch: pytest.MonkeyPatch) -> OfflineIngress:
    """``offline_ingress(secret)``: the webhook ingress pipeline with no AWS. The org's provider
    secret is ``secret``, archiving answers a key, and what it publishes is collected in the
    list returned."""

    def install(secret: dict[str, Any]) -> list[HubEvent]:
        published: list[HubEvent] = []
        monkeypatch.setattr(ingress, "get_provider_secret", lambda org, provider: secret)
        monkeypatch.setattr(ingress, "archive_raw", lambda request, key=None: key)
        monkeypatch.setattr(ingress, "split_delivered", lambda events: (list(events), 0))
        monkeypatch.setattr(ingress, "enqueue", published.extend)
        monkeypatch.setattr(
            ingress, "send_carrying_archive", lambda event, key, document: published.append(event) or True
        )
        return published

    return install


@pytest.fixture(autouse=True)
def registered_orgs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests have no AWS: the org registry answers :data:`tests.conftest.TEST_ORGS`."""

    def get_org(org_id: str) -> orgs.Org | None:
        name = TEST_ORGS.get(org_id)
        return orgs.Org(org_id=org_id, name=name, created_at=datetime(2026, 1, 1)) if name else None

    monkeypatch.setattr(orgs, "get_org", get_org)
