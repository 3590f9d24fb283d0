"""A sink's events are sent in requests within its limits (events and bytes per request)."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.analytics.forward import REQUEST_OVERHEAD_BYTES, batches, event_size
from hub.analytics.models import AnalyticsEvent

OCCURRED = datetime(2026, 11, 20, 14, 3, 10, tzinfo=UTC)


def event(n: int, text: str = "") -> AnalyticsEvent:
    return AnalyticsEvent(
        event_id=f"evt-{n:05d}",
        name="message_delivered",
        distinct_id="acme",
        occurred_at=OCCURRED,
        properties={"channel": "whatsapp", **({"note": text} if text else {})},
    )


def test_ga4s_25_events_per_request_make_three_requests_of_60_events_in_order() -> None:
    events = [event(n) for n in range(60)]

    requests, too_large = batches(events, max_events=25, max_bytes=130_000)

    assert [len(r) for r in requests] == [25, 25, 10]
    assert [e.event_id for r in requests for e in r] == [e.event_id for e in events]
    assert too_large == []


def test_the_byte_limit_closes_a_request_before_the_event_limit() -> None:
    events = [event(n, "x" * 900) for n in range(10)]
    one = event_size(events[0])
    limit = REQUEST_OVERHEAD_BYTES + 3 * one + one // 2  # room for three and a half

    requests, _ = batches(events, max_events=2_000, max_bytes=limit)

    assert [len(r) for r in requests] == [3, 3, 3, 1]
    assert all(sum(event_size(e) for e in r) + REQUEST_OVERHEAD_BYTES <= limit for r in requests)


def test_an_event_larger_than_a_whole_request_is_set_aside_not_sent() -> None:
    small, huge = event(1), event(2, "y" * 1_000)

    requests, too_large = batches([small, huge, event(3)], max_events=10, max_bytes=REQUEST_OVERHEAD_BYTES + 600)

    assert too_large == [huge]
    assert [[e.event_id for e in r] for r in requests] == [["evt-00001", "evt-00003"]]
