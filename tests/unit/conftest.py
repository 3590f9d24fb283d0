"""Fixtures for the webhook unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import standardwebhooks.webhooks

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
