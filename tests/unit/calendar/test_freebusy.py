"""Free slots inside the org's working hours, in its time zone (fixed dates, no clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.calendar import freebusy, store
from hub.calendar.models import CalendarFreeBusyRequest, CalendarSettings
from tests.calendar_fake import FakeCalendar

SP = ZoneInfo("America/Sao_Paulo")
MONDAY = datetime(2026, 3, 2, tzinfo=SP)  # a Monday


def _local(hour: int, minute: int = 0, day: datetime = MONDAY) -> datetime:
    return day.replace(hour=hour, minute=minute)


def _settings(**hours: list[dict[str, str]]) -> CalendarSettings:
    return CalendarSettings.model_validate({"time_zone": "America/Sao_Paulo", "working_hours": hours})


def _slots(settings: CalendarSettings, busy: list[tuple[datetime, datetime]], **kw: object) -> list[tuple[str, str]]:
    time_min = kw.pop("time_min", _local(0))
    time_max = kw.pop("time_max", _local(0) + timedelta(days=1))
    slots, _ = freebusy.free_slots(
        busy,
        freebusy.working_periods(settings, time_min, time_max),  # type: ignore[arg-type]
        time_min=time_min,  # type: ignore[arg-type]
        time_max=time_max,  # type: ignore[arg-type]
        duration=timedelta(minutes=int(kw.pop("minutes", 60))),  # type: ignore[call-overload]
        step=timedelta(minutes=int(kw.pop("step", 30))),  # type: ignore[call-overload]
        max_slots=int(kw.pop("max_slots", 50)),  # type: ignore[call-overload]
    )
    return [(s.astimezone(SP).strftime("%a %H:%M"), e.astimezone(SP).strftime("%H:%M")) for s, e in slots]


def test_slots_fit_the_working_periods_around_busy_time() -> None:
    # Given Monday 09:00-12:00 and 13:00-18:00, busy 10:00-11:30 (13:00-14:30 UTC)
    settings = _settings(mon=[{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "18:00"}])
    busy = [(datetime(2026, 3, 2, 13, 0, tzinfo=UTC), datetime(2026, 3, 2, 14, 30, tzinfo=UTC))]
    # Then the hour-long slots skip the meeting and lunch and end by 18:00
    assert _slots(settings, busy) == [("Mon 09:00", "10:00")] + [
        (f"Mon {h:02d}:{m:02d}", f"{h + 1:02d}:{m:02d}") for h in range(13, 17) for m in (0, 30)
    ] + [("Mon 17:00", "18:00")]


def test_busy_on_any_calendar_blocks_and_the_window_clips() -> None:
    settings = _settings(mon=[{"start": "09:00", "end": "12:00"}])
    busy = [(_local(9, 0), _local(9, 45)), (_local(9, 30), _local(10, 15))]  # two calendars, overlapping
    # Window from 09:10: the first start is aligned to the period (10:30 after the busy time)
    assert _slots(settings, busy, time_min=_local(9, 10)) == [("Mon 10:30", "11:30"), ("Mon 11:00", "12:00")]


def test_days_off_have_no_slots_and_max_slots_truncates() -> None:
    settings = _settings(tue=[{"start": "09:00", "end": "11:00"}])
    assert _slots(settings, []) == []  # Monday is not a working day
    slots, truncated = freebusy.free_slots(
        [],
        freebusy.working_periods(settings, MONDAY, MONDAY + timedelta(days=2)),
        time_min=MONDAY,
        time_max=MONDAY + timedelta(days=2),
        duration=timedelta(minutes=30),
        step=timedelta(minutes=30),
        max_slots=3,
    )
    assert truncated and [s.astimezone(SP).strftime("%a %H:%M") for s, _ in slots] == [
        "Tue 09:00",
        "Tue 09:30",
        "Tue 10:00",
    ]


def test_working_hours_follow_the_org_zone_across_daylight_saving() -> None:
    # New York moves to UTC-4 on Sunday 2026-03-08: 09:00 local is 14:00 UTC before, 13:00 after
    ny = ZoneInfo("America/New_York")
    settings = CalendarSettings.model_validate(
        {"time_zone": "America/New_York", "working_hours": {"mon": [{"start": "09:00", "end": "10:00"}]}}
    )
    start, end = datetime(2026, 3, 1, tzinfo=ny), datetime(2026, 3, 10, tzinfo=ny)
    slots, _ = freebusy.free_slots(
        [],
        freebusy.working_periods(settings, start, end),
        time_min=start,
        time_max=end,
        duration=timedelta(minutes=60),
        step=timedelta(minutes=30),
        max_slots=10,
    )
    assert [s.astimezone(UTC) for s, _ in slots] == [
        datetime(2026, 3, 2, 14, 0, tzinfo=UTC),
        datetime(2026, 3, 9, 13, 0, tzinfo=UTC),
    ]


def test_free_busy_asks_the_writable_calendars_in_the_org_zone(
    google: FakeCalendar, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given default settings (Mon-Fri 09:00-18:00, São Paulo) and a busy morning on the team calendar
    monkeypatch.setattr(store, "get_org_settings", lambda org_id: (CalendarSettings(), None))
    google.busy["equipe@group.calendar.google.com"] = [(_local(9), _local(17))]
    request = CalendarFreeBusyRequest.model_validate(
        {
            "org_id": "demo",
            "time_min": "2026-03-02T00:00:00-03:00",
            "time_max": "2026-03-03T00:00:00-03:00",
            "duration_minutes": 60,
        }
    )
    # When
    answer = freebusy.free_busy(request, google)
    # Then the holiday calendar (read-only) is not asked, and the only slot is 17:00-18:00 local
    assert answer.calendar_ids == ["primary", "equipe@group.calendar.google.com"]
    assert ("free_busy", (("primary", "equipe@group.calendar.google.com"), "America/Sao_Paulo")) in google.calls
    assert [(s.start, s.end) for s in answer.slots] == [("2026-03-02T17:00:00-03:00", "2026-03-02T18:00:00-03:00")]
