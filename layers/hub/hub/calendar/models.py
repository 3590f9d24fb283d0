"""What the calendar functions take and answer (docs/calendar.md "Requests").

Validated strictly, before any side effect: times are aware datetimes (an offset or ``Z``; a
naive time is ambiguous and refused), the event's time zone is an IANA name (default
``America/Sao_Paulo``), attendees are email addresses, strings are bounded.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, Strict, field_validator, model_validator

from hub.errors import InvalidRequestError
from hub.requests import IdempotencyKey, OperationRequest, OrgId

DEFAULT_TIME_ZONE = "America/Sao_Paulo"
# Google's calendar ids are "primary" or an email-like id; path-encoded by the adapter.
CALENDAR_ID_PATTERN = r"^[\x21-\x7e]{1,255}$"
# Google event ids: base32hex for ids we choose; Google's own add "_" and upper case for the
# instances of recurring events (``abc123_20260105T120000Z``).
# https://developers.google.com/calendar/api/v3/reference/events/insert (id)
EVENT_ID_PATTERN = r"^[A-Za-z0-9_]{5,1024}$"
MAX_ATTENDEES = 100
MAX_EVENT_DAYS = 14
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")

CalendarId = Annotated[str, Strict(), Field(pattern=CALENDAR_ID_PATTERN)]
EventId = Annotated[str, Strict(), Field(pattern=EVENT_ID_PATTERN)]
Summary = Annotated[str, Strict(), Field(min_length=1, max_length=1024)]
OneLine = Annotated[str, Strict(), Field(max_length=1024)]
Description = Annotated[str, Strict(), Field(max_length=8192)]


def check_time_zone(value: str) -> str:
    """An IANA time zone name the runtime knows (``America/Sao_Paulo``), else ValueError."""
    if not isinstance(value, str) or not value or len(value) > 64 or value.startswith("/") or ".." in value:
        raise ValueError("must be an IANA time zone name such as America/Sao_Paulo")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone name such as America/Sao_Paulo") from None
    return value


TimeZoneName = Annotated[str, Strict(), Field(max_length=64)]


def _one_line(value: str | None) -> str | None:
    if value is not None and ("\n" in value or "\r" in value):
        raise ValueError("must be one line")
    return value


def _attendee_emails(values: list[str]) -> list[str]:
    from hub.emails import normalise_email

    out: list[str] = []
    for i, raw in enumerate(values):
        if not isinstance(raw, str) or len(raw) > 320:
            raise ValueError(f"attendees[{i}] is not a valid email address")
        try:
            address = normalise_email(raw, field=f"attendees[{i}]")
        except InvalidRequestError:
            raise ValueError(f"attendees[{i}] is not a valid email address") from None
        if address.lower() not in {a.lower() for a in out}:
            out.append(address)
    return out


class _EventFields(OperationRequest):
    """Fields shared by create and update (update: all optional)."""

    @field_validator("time_zone", check_fields=False)
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else check_time_zone(value)

    @field_validator("summary", "location", check_fields=False)
    @classmethod
    def _line(cls, value: str | None) -> str | None:
        return _one_line(value)

    @field_validator("attendees", check_fields=False)
    @classmethod
    def _emails(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _attendee_emails(value)


def _check_span(start: datetime, end: datetime) -> None:
    if end <= start:
        raise ValueError("end must be after start")
    if end - start > timedelta(days=MAX_EVENT_DAYS):
        raise ValueError(f"an event lasts at most {MAX_EVENT_DAYS} days")


class CalendarEventCreateRequest(_EventFields):
    """CalendarEventCreate. ``idempotency_key`` is required: the Google event id and the Meet
    ``requestId`` are derived from it, so a retry never creates a second event."""

    org_id: OrgId
    calendar_id: CalendarId = "primary"
    summary: Summary
    description: Description | None = None
    location: OneLine | None = None
    start: AwareDatetime
    end: AwareDatetime
    time_zone: TimeZoneName = DEFAULT_TIME_ZONE
    attendees: list[str] = Field(default_factory=list, max_length=MAX_ATTENDEES)
    idempotency_key: IdempotencyKey

    @model_validator(mode="after")
    def _span(self) -> CalendarEventCreateRequest:
        _check_span(self.start, self.end)
        return self


class CalendarEventUpdateRequest(_EventFields):
    """CalendarEventUpdate: the fields given replace the event's (a PATCH); ``attendees``
    replaces the whole list."""

    org_id: OrgId
    calendar_id: CalendarId = "primary"
    event_id: EventId
    summary: Summary | None = None
    description: Description | None = None
    location: OneLine | None = None
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    time_zone: TimeZoneName | None = None
    attendees: list[str] | None = Field(None, max_length=MAX_ATTENDEES)
    idempotency_key: IdempotencyKey | None = None

    @model_validator(mode="after")
    def _changes(self) -> CalendarEventUpdateRequest:
        changed = [f for f in ("summary", "description", "location", "start", "end", "time_zone", "attendees")]
        if all(getattr(self, f) is None for f in changed):
            raise ValueError("nothing to change: give at least one of " + ", ".join(changed))
        if (self.start is None) != (self.end is None):
            raise ValueError("start and end are changed together")
        if self.time_zone is not None and self.start is None:
            raise ValueError("time_zone is changed together with start and end")
        if self.start is not None and self.end is not None:
            _check_span(self.start, self.end)
        return self


class CalendarEventCancelRequest(OperationRequest):
    org_id: OrgId
    calendar_id: CalendarId = "primary"
    event_id: EventId
    idempotency_key: IdempotencyKey | None = None


class CalendarEvent(BaseModel):
    """What create/update answer: the Google event as the hub describes it."""

    event_id: str
    calendar_id: str
    status: str
    summary: str | None = None
    start: str | None = None
    end: str | None = None
    time_zone: str | None = None
    attendees: list[str] = Field(default_factory=list)
    html_link: str | None = None
    meet_link: str | None = None
    # Meet link creation: pending (the workflow polls), success, failure; None without one.
    conference_status: str | None = None
    conference_workflow: str | None = None


class CalendarEventCancelled(BaseModel):
    event_id: str
    calendar_id: str
    status: Literal["cancelled"] = "cancelled"


# ----- free/busy -------------------------------------------------------------------------------

MAX_FREE_BUSY_DAYS = 31


class CalendarFreeBusyRequest(OperationRequest):
    """CalendarFreeBusy: free slots of ``duration_minutes`` inside the org's working hours
    between ``time_min`` and ``time_max``, across ``calendar_ids`` (default: the org's setting,
    else every calendar the org can write to)."""

    org_id: OrgId
    time_min: AwareDatetime
    time_max: AwareDatetime
    duration_minutes: int = Field(strict=True, ge=5, le=12 * 60)
    # Slots start on multiples of this many minutes from the working period's start.
    step_minutes: int = Field(30, strict=True, ge=5, le=240)
    calendar_ids: list[CalendarId] | None = Field(None, min_length=1, max_length=50)
    max_slots: int = Field(20, strict=True, ge=1, le=200)

    @model_validator(mode="after")
    def _window(self) -> CalendarFreeBusyRequest:
        if self.time_max <= self.time_min:
            raise ValueError("time_max must be after time_min")
        if self.time_max - self.time_min > timedelta(days=MAX_FREE_BUSY_DAYS):
            raise ValueError(f"the window is at most {MAX_FREE_BUSY_DAYS} days")
        return self


class FreeSlot(BaseModel):
    start: str
    end: str


class FreeSlots(BaseModel):
    time_zone: str
    duration_minutes: int
    calendar_ids: list[str]
    slots: list[FreeSlot]
    truncated: bool = False


# ----- org settings ----------------------------------------------------------------------------


class WorkingPeriod(BaseModel):
    """``{"start": "09:00", "end": "12:00"}`` in the org's time zone; ``end`` may be ``24:00``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: Any) -> str:
        if not isinstance(value, str) or not _HHMM.fullmatch(value):
            raise ValueError("must be HH:MM (00:00-23:59, or 24:00 as an end)")
        return value

    @model_validator(mode="after")
    def _order(self) -> WorkingPeriod:
        if self.start == "24:00":
            raise ValueError("start must be 00:00-23:59")
        if minutes_of(self.end) <= minutes_of(self.start):
            raise ValueError("end must be after start")
        return self


def minutes_of(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _default_hours() -> dict[Weekday, list[WorkingPeriod]]:
    nine_to_six = [WorkingPeriod(start="09:00", end="18:00")]
    return {day: list(nine_to_six) for day in ("mon", "tue", "wed", "thu", "fri")}


class CalendarSettings(BaseModel):
    """An org's calendar settings (CalendarTable): working hours per weekday in ``time_zone``,
    and the calendars free/busy looks at (None: every calendar the org can write to)."""

    model_config = ConfigDict(extra="forbid")

    time_zone: TimeZoneName = DEFAULT_TIME_ZONE
    working_hours: dict[Weekday, list[WorkingPeriod]] = Field(default_factory=_default_hours)
    calendar_ids: list[CalendarId] | None = Field(None, min_length=1, max_length=50)

    @field_validator("time_zone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return check_time_zone(value)

    @field_validator("working_hours")
    @classmethod
    def _no_overlap(cls, value: dict[Weekday, list[WorkingPeriod]]) -> dict[Weekday, list[WorkingPeriod]]:
        for day, periods in value.items():
            if len(periods) > 6:
                raise ValueError(f"{day}: at most 6 periods a day")
            ordered = sorted(periods, key=lambda p: minutes_of(p.start))
            for before, after in pairwise(ordered):
                if minutes_of(after.start) < minutes_of(before.end):
                    raise ValueError(f"{day}: periods overlap")
            value[day] = ordered
        return value


class CalendarSettingsSetRequest(CalendarSettings):
    """CalendarSettingsSet: replaces the org's settings."""

    model_config = ConfigDict(extra="forbid", str_max_length=4096)

    org_id: OrgId
    idempotency_key: IdempotencyKey | None = None

    def settings(self) -> CalendarSettings:
        return CalendarSettings.model_validate(self.model_dump(exclude={"org_id", "idempotency_key"}))


class CalendarSettingsView(CalendarSettings):
    org_id: str
    updated_at: str | None = None
