"""CalendarConferenceWorkflow's step: is the Meet link of a new event ready?

Google creates the conference asynchronously (``conferenceData.createRequest.status``:
``pending`` → ``success`` | ``failure``; https://developers.google.com/calendar/api/guides/create-events#conferencing).
The workflow (statemachines/calendar_conference.py) calls :func:`advance` and waits in a Wait
state for ``wait_seconds`` while it is pending — nothing sleeps in a Lambda. When it is settled
the step publishes ``calendar.conference.ready`` (with the Meet link) or
``calendar.conference.failed`` (Google's failure, or still pending after
``CALENDAR_CONFERENCE_MAX_POLLS`` polls) on the hub's bus.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import Field

from hub.calendar.client import calendar_client
from hub.calendar.events import attendee_emails, conference_status, meet_link
from hub.calendar.models import CalendarId, EventId
from hub.config import get_settings
from hub.observability import logger
from hub.requests import OperationRequest, OrgId

if TYPE_CHECKING:
    from hub.providers.ports import Calendar


class ConferenceStepRequest(OperationRequest):
    org_id: OrgId
    calendar_id: CalendarId
    event_id: EventId
    polls: int = Field(0, strict=True, ge=0, le=10_000)


def advance(request: ConferenceStepRequest, client: Calendar | None = None) -> dict[str, Any]:
    """``{"wait_seconds", "polls"}`` while pending, else ``{"done": true, "status", "meet_link"?}``."""
    from hub.bus import put_event

    settings = get_settings()
    client = client or calendar_client(request.org_id)
    event = client.get_event(request.calendar_id, request.event_id)
    status = conference_status(event) or "none"
    polls = request.polls + 1
    if status == "pending" and polls < settings.calendar_conference_max_polls:
        return {"wait_seconds": settings.calendar_conference_poll_seconds, "polls": polls}
    link = meet_link(event)
    ready = status == "success" and link is not None
    detail = {
        "id": f"conference:{request.org_id}:{request.event_id}",
        "org_id": request.org_id,
        "provider": "google",
        "calendar_id": request.calendar_id,
        "event_id": request.event_id,
        "status": status if status != "pending" else "timeout",
        "meet_link": link,
        "html_link": event.get("htmlLink"),
        "attendees": attendee_emails(event),
        "polls": polls,
        "at": datetime.now(UTC).isoformat(),
    }
    put_event("calendar.conference.ready" if ready else "calendar.conference.failed", detail)
    logger.info(
        "calendar_conference_settled", extra={"org_id": request.org_id, "status": detail["status"], "polls": polls}
    )
    out: dict[str, Any] = {"done": True, "status": detail["status"], "polls": polls}
    if link:
        out["meet_link"] = link
    return out
