"""CalendarFreeBusy: free slots of a requested length inside the org's working hours.

``POST /freeBusy`` (https://developers.google.com/calendar/api/v3/reference/freebusy/query)
answers the busy intervals of each calendar; a slot is free only when every calendar asked is
free for all of it. Working hours are the org's setting (CalendarSettingsSet), in the org's
time zone: a Monday 09:00-18:00 in ``America/Sao_Paulo`` is 12:00-21:00 UTC, and the slots are
answered in that zone. Days are built with ``zoneinfo``, so a zone with daylight saving time
has the right offsets on both sides of a change.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from hub.calendar import store
from hub.calendar.channels import watched_calendars
from hub.calendar.client import calendar_client
from hub.calendar.models import (
    WEEKDAYS,
    CalendarFreeBusyRequest,
    CalendarSettings,
    FreeSlot,
    FreeSlots,
    minutes_of,
)

if TYPE_CHECKING:
    from hub.providers.ports import Calendar

Interval = tuple[datetime, datetime]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, overlapping and touching intervals joined."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _at(day: datetime, minutes: int, zone: ZoneInfo) -> datetime:
    """``minutes`` after local midnight of ``day`` (24:00 is the next midnight), in ``zone``."""
    base = datetime.combine(day.date(), time(0, 0), tzinfo=zone)
    if minutes >= 24 * 60:
        return datetime.combine(day.date() + timedelta(days=1), time(0, 0), tzinfo=zone)
    return base.replace(hour=minutes // 60, minute=minutes % 60)


def working_periods(settings: CalendarSettings, time_min: datetime, time_max: datetime) -> list[Interval]:
    """The org's working periods that touch [time_min, time_max), as aware local datetimes."""
    zone = ZoneInfo(settings.time_zone)
    first = time_min.astimezone(zone) - timedelta(days=1)
    last = time_max.astimezone(zone) + timedelta(days=1)
    periods: list[Interval] = []
    day = first
    while day.date() <= last.date():
        for period in settings.working_hours.get(WEEKDAYS[day.weekday()], []):  # type: ignore[call-overload]
            start = _at(day, minutes_of(period.start), zone)
            end = _at(day, minutes_of(period.end), zone)
            if end > time_min and start < time_max:
                periods.append((start, end))
        day += timedelta(days=1)
    return sorted(periods)


def free_slots(
    busy: Iterable[Interval],
    periods: list[Interval],
    *,
    time_min: datetime,
    time_max: datetime,
    duration: timedelta,
    step: timedelta,
    max_slots: int,
) -> tuple[list[Interval], bool]:
    """Slots of ``duration`` starting at the period's start plus multiples of ``step``, inside a
    working period and the window, overlapping no busy interval. ``(slots, truncated)``."""
    blocked = merge(busy)
    slots: list[Interval] = []
    for local_start, local_end in periods:
        # Stepping in absolute time: a slot is ``duration`` long even across a DST change.
        period_start, period_end = local_start.astimezone(UTC), local_end.astimezone(UTC)
        end_limit = min(period_end, time_max)
        candidate = period_start
        if candidate < time_min:
            skipped = -(-(time_min - period_start) // step)  # ceil: the first aligned start in the window
            candidate = period_start + skipped * step
        while candidate + duration <= end_limit:
            slot_end = candidate + duration
            clash = next((b for b in blocked if b[0] < slot_end and b[1] > candidate), None)
            if clash is None:
                if len(slots) == max_slots:
                    return slots, True
                slots.append((candidate, slot_end))
                candidate += step
            else:
                # The first aligned start at or after the busy interval's end (> candidate).
                candidate = period_start + -(-(clash[1] - period_start) // step) * step
    return slots, False


def free_busy(request: CalendarFreeBusyRequest, client: Calendar | None = None) -> FreeSlots:
    client = client or calendar_client(request.org_id)
    settings, _ = store.get_org_settings(request.org_id)
    calendar_ids = list(request.calendar_ids or settings.calendar_ids or watched_calendars(client, request.org_id))
    busy_by_calendar = client.free_busy(calendar_ids, request.time_min, request.time_max, settings.time_zone)
    busy = [interval for intervals in busy_by_calendar.values() for interval in intervals]
    zone = ZoneInfo(settings.time_zone)
    slots, truncated = free_slots(
        busy,
        working_periods(settings, request.time_min, request.time_max),
        time_min=request.time_min,
        time_max=request.time_max,
        duration=timedelta(minutes=request.duration_minutes),
        step=timedelta(minutes=request.step_minutes),
        max_slots=request.max_slots,
    )
    return FreeSlots(
        time_zone=settings.time_zone,
        duration_minutes=request.duration_minutes,
        calendar_ids=calendar_ids,
        slots=[
            FreeSlot(start=start.astimezone(zone).isoformat(), end=end.astimezone(zone).isoformat())
            for start, end in slots
        ],
        truncated=truncated,
    )
