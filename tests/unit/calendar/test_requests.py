"""Requests are refused before any side effect, naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from hub.calendar.models import CalendarEventCreateRequest, CalendarEventUpdateRequest, CalendarSettingsSetRequest
from hub.errors import InvalidRequestError
from hub.invocation import parse_request

GOOD: dict[str, Any] = {
    "org_id": "demo",
    "summary": "Reunião de pauta",
    "start": "2026-03-02T10:00:00-03:00",
    "end": "2026-03-02T11:00:00-03:00",
    "attendees": ["Ana@Example.COM.br"],
    "idempotency_key": "meeting-1",
}


def test_a_good_request_defaults_to_sao_paulo_and_normalises_attendees() -> None:
    request = parse_request(CalendarEventCreateRequest, GOOD)
    assert request.time_zone == "America/Sao_Paulo" and request.calendar_id == "primary"
    assert request.attendees == ["Ana@example.com.br"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"start": "2026-03-02T10:00:00"}, "start"),  # naive: ambiguous
        ({"end": "2026-03-02T09:00:00-03:00"}, "end must be after start"),
        ({"end": "2026-03-20T09:00:00-03:00"}, "at most 14 days"),
        ({"attendees": ["ana@example.com", "not-an-email"]}, "attendees[1]"),
        ({"time_zone": "America/Sao Paulo"}, "time_zone"),
        ({"time_zone": "../../etc/passwd"}, "time_zone"),
        ({"summary": ""}, "summary"),
        ({"summary": "x" * 1025}, "summary"),
        ({"summary": "line\nBcc: evil"}, "summary"),
        ({"idempotency_key": None}, "idempotency_key"),
        ({"org_id": " demo"}, "org_id"),
        ({"calendar_id": "has space"}, "calendar_id"),
        ({"color": "red"}, "color"),
    ],
)
def test_bad_fields_are_named(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_request(CalendarEventCreateRequest, {**GOOD, **change})
    assert field in caught.value.message
    assert "not-an-email" not in caught.value.message  # values are never echoed


def test_update_needs_a_change_and_moves_start_and_end_together() -> None:
    base = {"org_id": "demo", "event_id": "habc123def"}
    with pytest.raises(InvalidRequestError, match="nothing to change"):
        parse_request(CalendarEventUpdateRequest, base)
    with pytest.raises(InvalidRequestError, match="together"):
        parse_request(CalendarEventUpdateRequest, {**base, "start": "2026-03-02T10:00:00-03:00"})
    with pytest.raises(InvalidRequestError, match="event_id"):
        parse_request(CalendarEventUpdateRequest, {**base, "event_id": "../x", "summary": "s"})


@pytest.mark.parametrize(
    ("hours", "problem"),
    [
        ({"mon": [{"start": "09:00", "end": "08:00"}]}, "end must be after start"),
        ({"mon": [{"start": "9:00", "end": "18:00"}]}, "HH:MM"),
        ({"mon": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]}, "overlap"),
        ({"holiday": [{"start": "09:00", "end": "12:00"}]}, "working_hours.holiday"),
    ],
)
def test_working_hours_are_checked(hours: dict[str, Any], problem: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_request(CalendarSettingsSetRequest, {"org_id": "demo", "working_hours": hours})
    assert problem in caught.value.message


def test_working_hours_until_midnight_are_allowed() -> None:
    request = parse_request(
        CalendarSettingsSetRequest,
        {
            "org_id": "demo",
            "time_zone": "America/Manaus",
            "working_hours": {"sat": [{"start": "18:00", "end": "24:00"}]},
        },
    )
    assert request.settings().working_hours["sat"][0].end == "24:00"
