"""Fixtures for the provider unit tests."""

from __future__ import annotations

import pytest

from hub import credentials
from tests.helpers import FakeSecrets


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> FakeSecrets:
    """The org secrets ``hub.credentials`` reads, empty until a test stores some."""
    fake = FakeSecrets({})
    monkeypatch.setattr(credentials, "_secrets", lambda: fake)
    return fake
