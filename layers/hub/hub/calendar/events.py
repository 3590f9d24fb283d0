"""CalendarEventCreate / Update / Cancel.

Create makes one Google event per idempotency key, with a Google Meet link:
``POST /calendars/{calendarId}/events?conferenceDataVersion=1&sendUpdates=all`` with our own
event ``id`` and ``conferenceData.createRequest.requestId``, both derived from the key
(:func:`event_id_for`). A retry after a lost answer sends the same id, Google answers 409
"duplicate" and the adapter returns the event it already has (or refuses with
IdempotencyConflictError when the id holds another request): never a second event. The same
key with another payload is refused before anything is sent (hub.idempotency).

Google creates the Meet link asynchronously: while ``createRequest.status.statusCode`` is
``pending`` the answer says so and CalendarConferenceWorkflow polls (Wait states, never a
sleeping Lambda; :mod:`hub.calendar.conference`).

Sources: https://developers.google.com/calendar/api/v3/reference/events/insert (id:
base32hex, 5-1024 characters; conferenceDataVersion; sendUpdates),
https://developers.google.com/calendar/api/guides/create-events#conferencing (requestId,
``hangoutsMeet``, pending status).
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hub.calendar.client import calendar_client
from hub.calendar.models import (
    DEFAULT_TIME_ZONE,
    CalendarEvent,
    CalendarEventCancelled,
    CalendarEventCancelRequest,
    CalendarEventCreateRequest,
    CalendarEventUpdateRequest,
)
from hub.config import get_settings
from hub.observability import logger

if TYPE_CHECKING:
    from hub.providers.ports import Calendar


def event_id_for(org_id: str, idempotency_key: str) -> str:
    """The Google event id of the request with this key: base32hex (``0-9a-v``), 55 chars,
    the same for every retry. Google's rule: 5-1024 characters of ``a-v`` and ``0-9``."""
    digest = hashlib.sha256(f"calendar.event.create\x00{org_id}\x00{idempotency_key}".encode()).digest()
    return "h" + base64.b32hexencode(digest).decode("ascii").rstrip("=").lower()


def google_time(value: datetime, time_zone: str) -> dict[str, str]:
    """An event time as Google takes it: RFC 3339 with its offset, and the zone named."""
    return {"dateTime": value.isoformat(), "timeZone": time_zone}


def _attendees(emails: list[str]) -> list[dict[str, str]]:
    return [{"email": address} for address in emails]


def conference_status(event: dict[str, Any]) -> str | None:
    conference = event.get("conferenceData") or {}
    status = ((conference.get("createRequest") or {}).get("status") or {}).get("statusCode")
    if status is None and meet_link(event):
        return "success"
    return str(status) if status else None


def meet_link(event: dict[str, Any]) -> str | None:
    if event.get("hangoutLink"):
        return str(event["hangoutLink"])
    for entry in (event.get("conferenceData") or {}).get("entryPoints") or []:
        if entry.get("entryPointType") == "video" and entry.get("uri"):
            return str(entry["uri"])
    return None


def _when(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    found = value.get("dateTime") or value.get("date")
    return str(found) if found else None


def describe(event: dict[str, Any], calendar_id: str) -> CalendarEvent:
    start = event.get("start") or {}
    return CalendarEvent(
        event_id=str(event.get("id", "")),
        calendar_id=calendar_id,
        status=str(event.get("status", "confirmed")),
        summary=event.get("summary"),
        start=_when(start),
        end=_when(event.get("end")),
        time_zone=start.get("timeZone") if isinstance(start, dict) else None,
        attendees=attendee_emails(event),
        html_link=event.get("htmlLink"),
        meet_link=meet_link(event),
        conference_status=conference_status(event),
    )


def attendee_emails(event: dict[str, Any]) -> list[str]:
    return [str(a["email"]) for a in event.get("attendees") or [] if isinstance(a, dict) and a.get("email")]


def create_event(request: CalendarEventCreateRequest, client: Calendar | None = None) -> CalendarEvent:
    client = client or calendar_client(request.org_id)
    event_id = event_id_for(request.org_id, request.idempotency_key)
    body: dict[str, Any] = {
        "summary": request.summary,
        "start": google_time(request.start, request.time_zone),
        "end": google_time(request.end, request.time_zone),
        "attendees": _attendees(request.attendees),
    }
    if request.description is not None:
        body["description"] = request.description
    if request.location is not None:
        body["location"] = request.location
    answer = client.insert_event(request.calendar_id, body, event_id=event_id, request_id=event_id)
    view = describe(answer, request.calendar_id)
    if view.conference_status == "pending":
        view.conference_workflow = start_conference_workflow(request.org_id, request.calendar_id, view.event_id)
    logger.info(
        "calendar_event_created",
        extra={"org_id": request.org_id, "event_id": view.event_id, "conference": view.conference_status},
    )
    return view


def start_conference_workflow(org_id: str, calendar_id: str, event_id: str) -> str:
    """One execution per event (its name): starting it again is a no-op, so a retried create
    never polls twice. Returns the execution's ARN."""
    from botocore.exceptions import ClientError

    from hub.aws import aws_client

    machine = get_settings().require("calendar_conference_state_machine_arn")
    name = f"conf-{event_id}"[:80]
    payload = {"org_id": org_id, "calendar_id": calendar_id, "event_id": event_id, "polls": 0}
    try:
        started = aws_client("stepfunctions").start_execution(
            stateMachineArn=machine, name=name, input=json.dumps(payload)
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
            raise
        return f"{machine.replace(':stateMachine:', ':execution:')}:{name}"
    return str(started["executionArn"])


def update_event(request: CalendarEventUpdateRequest, client: Calendar | None = None) -> CalendarEvent:
    client = client or calendar_client(request.org_id)
    changes: dict[str, Any] = {}
    for field in ("summary", "description", "location"):
        value = getattr(request, field)
        if value is not None:
            changes[field] = value
    if request.start is not None and request.end is not None:
        zone = request.time_zone or DEFAULT_TIME_ZONE
        changes["start"] = google_time(request.start, zone)
        changes["end"] = google_time(request.end, zone)
    if request.attendees is not None:
        changes["attendees"] = _attendees(request.attendees)
    answer = client.patch_event(request.calendar_id, request.event_id, changes)
    return describe(answer, request.calendar_id)


def cancel_event(request: CalendarEventCancelRequest, client: Calendar | None = None) -> CalendarEventCancelled:
    """DELETE with ``sendUpdates=all`` (attendees are told); an event already deleted is a
    success (the adapter answers Google's 410 as done)."""
    client = client or calendar_client(request.org_id)
    client.cancel_event(request.calendar_id, request.event_id)
    return CalendarEventCancelled(event_id=request.event_id, calendar_id=request.calendar_id)
