"""Fixtures for the webhook unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from hub import orgs
from tests.conftest import TEST_ORGS
from tests.signing import freeze_standard_webhooks_clock

# The documented samples in events/ are signed at this instant (stale on purpose).
SAMPLE_TIMESTAMP = 1763812800


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Stop the Standard Webhooks library's clock at the samples' timestamp, so they verify."""
    freeze_standard_webhooks_clock(monkeypatch, SAMPLE_TIMESTAMP + 1)
    yield


@pytest.fixture(autouse=True)
def registered_orgs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests have no AWS: the org registry answers :data:`tests.conftest.TEST_ORGS`."""

    def get_org(org_id: str) -> orgs.Org | None:
        name = TEST_ORGS.get(org_id)
        return orgs.Org(org_id=org_id, name=name, created_at=datetime(2026, 1, 1)) if name else None

    monkeypatch.setattr(orgs, "get_org", get_org)
