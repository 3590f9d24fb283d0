"""Create: one Google event per idempotency key, a Meet link, the workflow for a pending one."""

from __future__ import annotations

import re
from typing import Any

import pytest

from hub.calendar import events
from hub.calendar.models import CalendarEventCreateRequest, CalendarEventUpdateRequest
from hub.errors import IdempotencyConflictError
from tests.calendar_fake import FakeCalendar

REQUEST: dict[str, Any] = {
    "org_id": "demo",
    "calendar_id": "equipe@group.calendar.google.com",
    "summary": "Reunião de pauta",
    "start": "2026-03-02T10:00:00-03:00",
    "end": "2026-03-02T11:00:00-03:00",
    "attendees": ["ana@example.com.br"],
    "idempotency_key": "meeting-1",
}


@pytest.fixture
def workflows(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    started: list[tuple[str, str, str]] = []

    def start(org_id: str, calendar_id: str, event_id: str) -> str:
        started.append((org_id, calendar_id, event_id))
        return f"arn:aws:states:us-east-1:123456789012:execution:conf:{event_id}"

    monkeypatch.setattr(events, "start_conference_workflow", start)
    return started


def test_event_ids_are_google_base32hex_and_stable_per_key() -> None:
    first = events.event_id_for("demo", "meeting-1")
    assert re.fullmatch(r"[a-v0-9]{5,1024}", first)
    assert first == events.event_id_for("demo", "meeting-1")
    assert first != events.event_id_for("demo", "meeting-2") != events.event_id_for("acme", "meeting-1")


def test_create_sends_explicit_time_zone_and_a_meet_request(
    google: FakeCalendar, workflows: list[tuple[str, str, str]]
) -> None:
    view = events.create_event(CalendarEventCreateRequest.model_validate(REQUEST), google)
    stored = google.events[("equipe@group.calendar.google.com", view.event_id)]
    assert stored["start"] == {"dateTime": "2026-03-02T10:00:00-03:00", "timeZone": "America/Sao_Paulo"}
    assert stored["attendees"] == [{"email": "ana@example.com.br"}]
    assert stored["conferenceData"]["createRequest"]["requestId"] == view.event_id
    # The Meet link is still pending: the workflow polls it, the caller is told so
    assert view.conference_status == "pending" and view.meet_link is None
    assert workflows == [("demo", "equipe@group.calendar.google.com", view.event_id)]
    assert view.conference_workflow and view.conference_workflow.endswith(view.event_id)


def test_a_retry_after_a_lost_answer_gets_the_same_event(
    google: FakeCalendar, workflows: list[tuple[str, str, str]]
) -> None:
    first = events.create_event(CalendarEventCreateRequest.model_validate(REQUEST), google)
    again = events.create_event(CalendarEventCreateRequest.model_validate(REQUEST), google)
    assert again.event_id == first.event_id
    assert len(google.events) == 1


def test_the_same_key_for_another_event_is_refused_by_the_id(
    google: FakeCalendar, workflows: list[tuple[str, str, str]]
) -> None:
    events.create_event(CalendarEventCreateRequest.model_validate(REQUEST), google)
    other = CalendarEventCreateRequest.model_validate({**REQUEST, "summary": "Outra reunião"})
    with pytest.raises(IdempotencyConflictError):
        events.create_event(other, google)
    assert len(google.events) == 1


def test_update_patches_only_what_was_given(google: FakeCalendar, workflows: list[tuple[str, str, str]]) -> None:
    view = events.create_event(CalendarEventCreateRequest.model_validate(REQUEST), google)
    update = CalendarEventUpdateRequest.model_validate(
        {
            "org_id": "demo",
            "calendar_id": REQUEST["calendar_id"],
            "event_id": view.event_id,
            "start": "2026-03-02T14:00:00Z",
            "end": "2026-03-02T15:00:00Z",
        }
    )
    answer = events.update_event(update, google)
    assert google.calls[-1] == (
        "patch_event",
        (
            view.event_id,
            {
                "start": {"dateTime": "2026-03-02T14:00:00+00:00", "timeZone": "America/Sao_Paulo"},
                "end": {"dateTime": "2026-03-02T15:00:00+00:00", "timeZone": "America/Sao_Paulo"},
            },
        ),
    )
    assert answer.summary == "Reunião de pauta"
