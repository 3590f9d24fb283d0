"""The Meet link workflow's step: wait while pending, then announce the link once settled."""

from __future__ import annotations

from typing import Any

import pytest

from hub import bus
from hub.calendar import conference, events
from hub.calendar.conference import ConferenceStepRequest
from hub.calendar.models import CalendarEventCreateRequest
from hub.config import get_settings
from tests.calendar_fake import FakeCalendar


@pytest.fixture
def announced(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(bus, "put_event", lambda detail_type, detail: out.append((detail_type, detail)))
    monkeypatch.setattr(events, "start_conference_workflow", lambda *args: "arn:execution")
    return out


def _created(google: FakeCalendar) -> str:
    request = CalendarEventCreateRequest.model_validate(
        {
            "org_id": "demo",
            "summary": "Kickoff",
            "start": "2026-03-02T10:00:00-03:00",
            "end": "2026-03-02T11:00:00-03:00",
            "attendees": ["ana@example.com.br"],
            "idempotency_key": "k1",
        }
    )
    return events.create_event(request, google).event_id


def test_pending_waits_then_the_link_is_announced(
    google: FakeCalendar, announced: list[tuple[str, dict[str, Any]]]
) -> None:
    event_id = _created(google)  # pending for 2 reads
    step = {"org_id": "demo", "calendar_id": "primary", "event_id": event_id, "polls": 0}
    first = conference.advance(ConferenceStepRequest.model_validate(step), google)
    assert first == {"wait_seconds": 2, "polls": 1}
    second = conference.advance(ConferenceStepRequest.model_validate({**step, "polls": 1}), google)
    assert second == {"wait_seconds": 2, "polls": 2}
    assert announced == []
    done = conference.advance(ConferenceStepRequest.model_validate({**step, "polls": 2}), google)
    assert done == {"done": True, "status": "success", "polls": 3, "meet_link": "https://meet.google.com/abc-defg-hij"}
    [(detail_type, detail)] = announced
    assert detail_type == "calendar.conference.ready"
    assert detail["attendees"] == ["ana@example.com.br"] and detail["event_id"] == event_id


def test_still_pending_after_the_last_poll_is_a_failure(
    google: FakeCalendar, announced: list[tuple[str, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALENDAR_CONFERENCE_MAX_POLLS", "2")
    get_settings.cache_clear()
    google.pending_reads = 100
    event_id = _created(google)
    step = {"org_id": "demo", "calendar_id": "primary", "event_id": event_id, "polls": 1}
    done = conference.advance(ConferenceStepRequest.model_validate(step), google)
    assert done == {"done": True, "status": "timeout", "polls": 2}
    assert [t for t, _ in announced] == ["calendar.conference.failed"]
