"""Fixtures for the webhook unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import standardwebhooks.webhooks

from hub import orgs
from tests.conftest import TEST_ORGS

# The documented samples in events/ are signed at this instant (stale on purpose).
SAMPLE_TIMESTAMP = 1763812800


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Stop the Standard Webhooks library's clock at the samples' timestamp, so they verify."""

    class FrozenDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> FrozenDatetime:
            return cls.fromtimestamp(SAMPLE_TIMESTAMP + 1, tz=tz)

    monkeypatch.setattr(standardwebhooks.webhooks, "datetime", FrozenDatetime)
    yield


@pytest.fixture(autouse=True)
def registered_orgs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests have no AWS: the org registry answers :data:`tests.conftest.TEST_ORGS`."""

    def get_org(org_id: str) -> orgs.Org | None:
        name = TEST_ORGS.get(org_id)
        return orgs.Org(org_id=org_id, name=name, created_at=datetime(2026, 1, 1)) if name else None

    monkeypatch.setattr(orgs, "get_org", get_org)
