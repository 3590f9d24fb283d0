"""What the forwarder takes from a bus event: its id (stable across redeliveries), org and time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from hub.analytics.forward import parse_bus_event, retry_delay
from hub.errors import ProviderUnavailableError, RateLimitedError


def envelope(detail: Any, **extra: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "7b9f5c1e-2d4a-4f8b-9c3e-5a6d7e8f9a0b",
        "detail-type": "payment.received",
        "source": "integrations-hub",
        "time": "2026-11-20T14:03:11Z",
        "detail": detail,
        **extra,
    }


def test_a_webhook_event_keeps_its_own_id_and_occurrence_time() -> None:
    event = parse_bus_event(
        envelope({"event_id": "c0a8012e", "org_id": "acme", "occurred_at": "2026-11-20T13:00:00-03:00"})
    )

    assert event is not None
    assert (event.event_id, event.org_id, event.type) == ("c0a8012e", "acme", "payment.received")
    assert event.occurred_at == datetime(2026, 11, 20, 16, 0, tzinfo=UTC)


def test_the_hubs_own_events_are_identified_by_the_bus_event() -> None:
    event = parse_bus_event(envelope({"org_id": "acme", "charge_id": "chg-1"}))

    assert event is not None
    assert event.event_id == "7b9f5c1e-2d4a-4f8b-9c3e-5a6d7e8f9a0b"
    assert event.occurred_at == datetime(2026, 11, 20, 14, 3, 11, tzinfo=UTC)


@pytest.mark.parametrize("detail", [{"charge_id": "chg-1"}, {"org_id": ""}, {"org_id": 7}, "text", None])
def test_an_event_naming_no_org_is_not_forwardable(detail: Any) -> None:
    assert parse_bus_event(envelope(detail)) is None


def test_a_rate_limit_waits_its_retry_after_within_sqs_delay_ceiling_others_the_setting() -> None:
    assert retry_delay(RateLimitedError("429", retry_after=120, provider="posthog")) == 120
    assert retry_delay(RateLimitedError("429", retry_after=86_400, provider="posthog")) == 900
    assert retry_delay(ProviderUnavailableError("503", provider="posthog")) == 30
