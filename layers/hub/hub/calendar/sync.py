"""CalendarSync: a calendar's changes since the last sync, as ``calendar.event.*`` bus events.

Google's incremental sync (https://developers.google.com/calendar/api/guides/sync): list the
events with the ``syncToken`` the previous listing ended with; every page but the last has a
``nextPageToken``, the last a ``nextSyncToken`` for next time. A token Google no longer
accepts answers ``410 Gone`` (the adapter raises SyncTokenExpiredError): the stored records
are dropped from consideration and the calendar is listed in full again; what changed while
the token was dead becomes events, and a known event absent from the full listing counts as
cancelled. Unchanged events are not published again.

* The first sync of a calendar (when its channel is created) is a baseline: it records what is
  there and publishes nothing.
* ``calendar.event.created``: an event the hub has not seen; ``updated``: a new ``etag``;
  ``cancelled``: ``status: cancelled`` (incremental listings with ``showDeleted``) of a known
  event. Each carries the attendees' emails.
* Order: publish, then record the versions, then store the token. A crash in between syncs the
  same changes again and publishes the same events with the same ``id`` (deterministic:
  subscribers dedupe on it); nothing is lost.

One sync at a time per org and calendar: CalendarSyncQueue is FIFO, grouped by both.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from hub.calendar import store
from hub.calendar.events import attendee_emails, meet_link
from hub.calendar.models import CalendarId
from hub.calendar.store import EventRecord
from hub.errors import AuthenticationError, InvalidRequestError, ProviderUnavailableError, SyncTokenExpiredError
from hub.observability import logger, metrics
from hub.requests import OperationRequest, OrgId

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

    from hub.providers.ports import Calendar

Change = Literal["created", "updated", "cancelled"]
DETAIL_TYPES: dict[Change, str] = {
    "created": "calendar.event.created",
    "updated": "calendar.event.updated",
    "cancelled": "calendar.event.cancelled",
}
_ID_NAMESPACE = uuid.UUID("5b0c3f4e-1c2d-4e8a-9d7b-6a1f0e2c3b4d")
# A runaway listing (a token loop) stops here instead of paging forever.
MAX_PAGES = 400


@dataclass
class SyncReport:
    org_id: str
    calendar_id: str
    mode: Literal["baseline", "incremental", "full_resync"]
    published: dict[str, int] = field(default_factory=dict)
    seen: int = 0


def _list_all(client: Calendar, calendar_id: str, sync_token: str | None) -> tuple[list[dict[str, Any]], str]:
    items: list[dict[str, Any]] = []
    page_token: str | None = None
    for _page in range(MAX_PAGES):
        page, page_token, next_sync = client.list_events(calendar_id, sync_token=sync_token, page_token=page_token)
        items.extend(page)
        if page_token is None:
            if not next_sync:
                raise ProviderUnavailableError("Google's last events page carried no nextSyncToken", provider="google")
            return items, next_sync
    raise ProviderUnavailableError(f"events listing of a calendar ran past {MAX_PAGES} pages", provider="google")


def bus_event_id(org_id: str, calendar_id: str, event_id: str, etag: str, change: Change) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, f"{org_id}\x00{calendar_id}\x00{event_id}\x00{etag}\x00{change}"))


def _detail(org_id: str, calendar_id: str, item: dict[str, Any], change: Change) -> dict[str, Any]:
    organizer = item.get("organizer") or {}
    return {
        "id": bus_event_id(org_id, calendar_id, str(item["id"]), str(item.get("etag", "")), change),
        "org_id": org_id,
        "provider": "google",
        "calendar_id": calendar_id,
        "event_id": item["id"],
        "status": item.get("status"),
        "summary": item.get("summary"),
        "start": item.get("start"),
        "end": item.get("end"),
        "attendees": attendee_emails(item),
        "organizer": organizer.get("email") if isinstance(organizer, dict) else None,
        "html_link": item.get("htmlLink"),
        "meet_link": meet_link(item),
        "updated": item.get("updated"),
        "recurring_event_id": item.get("recurringEventId"),
    }


def _classify(item: dict[str, Any], known: EventRecord | None) -> Change | None:
    cancelled = item.get("status") == "cancelled"
    if cancelled:
        return "cancelled" if known is not None and known.status != "cancelled" else None
    if known is None or known.status == "cancelled":
        return "created"
    return "updated" if known.etag != str(item.get("etag", "")) else None


def _with_record(item: dict[str, Any], record: EventRecord) -> dict[str, Any]:
    """A cancelled item completed with what the hub last saw of the event."""
    known: dict[str, Any] = {
        "summary": record.summary,
        "start": record.start,
        "end": record.end,
        "attendees": [{"email": a} for a in record.attendees],
    }
    return {**{k: v for k, v in known.items() if v}, **{k: v for k, v in item.items() if v}}


def sync_calendar(client: Calendar, org_id: str, calendar_id: str) -> SyncReport:
    """One sync of one calendar (see the module's docstring). Raises what the adapter raises
    (RateLimitedError, ProviderUnavailableError: the queue retries) and ProviderUnavailableError
    when the bus refuses an event."""
    from hub.bus import put_events

    synced_before, token = store.get_sync_token(org_id, calendar_id)
    mode: Literal["baseline", "incremental", "full_resync"]
    if not synced_before or token is None:
        mode = "baseline" if not synced_before else "full_resync"
        items, next_sync = _list_all(client, calendar_id, None)
    else:
        mode = "incremental"
        try:
            items, next_sync = _list_all(client, calendar_id, token)
        except SyncTokenExpiredError:
            logger.warning("calendar_sync_token_expired", extra={"org_id": org_id, "calendar": _cal(calendar_id)})
            metrics.add_metric(name="CalendarFullResync", unit="Count", value=1)
            mode = "full_resync"
            items, next_sync = _list_all(client, calendar_id, None)

    known = store.event_records(org_id, calendar_id) if mode != "baseline" else {}
    latest: dict[str, dict[str, Any]] = {}
    for item in items:
        if isinstance(item, dict) and item.get("id"):
            latest[str(item["id"])] = item  # a later page's version of the same event wins
    changes: list[tuple[Change, dict[str, Any]]] = []
    if mode != "baseline":
        for event_id, item in list(latest.items()):
            change = _classify(item, known.get(event_id))
            if change == "cancelled":
                # A deleted event comes back with little more than its id: say what was cancelled.
                latest[event_id] = item = _with_record(item, known[event_id])
            if change is not None:
                changes.append((change, item))
        if mode == "full_resync":
            # Deleted while the token was dead: a full listing may no longer return them.
            for event_id, record in known.items():
                if event_id not in latest and record.status != "cancelled":
                    gone = _with_record({"id": event_id, "etag": f"{record.etag}:gone", "status": "cancelled"}, record)
                    latest[event_id] = gone
                    changes.append(("cancelled", gone))

    put_events((DETAIL_TYPES[change], _detail(org_id, calendar_id, item, change)) for change, item in changes)
    records = [
        EventRecord(
            event_id,
            str(item.get("etag", "")),
            str(item.get("status", "confirmed")),
            summary=item.get("summary"),
            start=item.get("start"),
            end=item.get("end"),
            attendees=tuple(attendee_emails(item)),
        )
        for event_id, item in latest.items()
    ]
    store.put_event_records(org_id, calendar_id, records)
    store.put_sync_token(org_id, calendar_id, next_sync, full=mode != "incremental")

    report = SyncReport(org_id=org_id, calendar_id=calendar_id, mode=mode, seen=len(latest))
    for change, _item in changes:
        report.published[change] = report.published.get(change, 0) + 1
    logger.info(
        "calendar_synced",
        extra={
            "org_id": org_id,
            "calendar": _cal(calendar_id),
            "mode": mode,
            "seen": len(latest),
            "published": dict(report.published),
        },
    )
    return report


def _cal(calendar_id: str) -> str:
    # Calendar ids are often the owner's email address: logs carry a hash of it.
    return store.calendar_key(calendar_id)[:12]


# ----- the queue ---------------------------------------------------------------------------------


def sync_group(org_id: str, calendar_id: str) -> str:
    """The FIFO message group of a calendar: one sync at a time per org and calendar."""
    return f"{org_id}.{store.calendar_key(calendar_id)}"


def enqueue_sync(org_id: str, calendar_id: str, *, reason: str, dedupe: str) -> None:
    """One CalendarSync message. ``dedupe`` is the FIFO deduplication id (a notification's
    channel and number): SQS drops a copy sent within its 5-minute window."""
    from hub.aws import aws_client
    from hub.config import get_settings

    body = {"org_id": org_id, "calendar_id": calendar_id, "reason": reason, "at": datetime.now(UTC).isoformat()}
    aws_client("sqs").send_message(
        QueueUrl=get_settings().require("calendar_sync_queue_url"),
        MessageBody=json.dumps(body),
        MessageGroupId=sync_group(org_id, calendar_id),
        MessageDeduplicationId=hashlib.sha256(dedupe.encode("utf-8")).hexdigest(),
    )


# ----- the consumer ------------------------------------------------------------------------------


class SyncMessage(OperationRequest):
    org_id: OrgId
    calendar_id: CalendarId
    reason: str = Field("push", max_length=40)
    at: str | None = Field(None, max_length=64)


def sync_record(body: str, client_for: Callable[[str], Calendar] | None = None) -> SyncReport | None:
    """One CalendarSyncQueue message. Errors retrying cannot fix (a revoked grant, an org gone,
    a malformed message) are logged and the message consumed; the others raise and SQS
    delivers it again after the visibility timeout (after maxReceiveCount: the DLQ)."""
    from hub.calendar.client import calendar_client
    from hub.invocation import parse_request
    from hub.orgs import require_org

    try:
        message = parse_request(SyncMessage, json.loads(body))
        require_org(message.org_id)
        client = (client_for or calendar_client)(message.org_id)
        return sync_calendar(client, message.org_id, message.calendar_id)
    except (ValueError, AuthenticationError, InvalidRequestError) as exc:
        code = getattr(exc, "code", None)
        logger.error("calendar_sync_rejected", extra={"error": type(exc).__name__, "code": code})
        metrics.add_metric(name="RecordRejected", unit="Count", value=1)
        return None


def process_batch(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """CalendarSync: FIFO batches; a failed record fails the rest of its group too (Powertools
    ``SqsFifoPartialProcessor(skip_group_on_error=True)``), so a calendar's syncs stay in order
    while other calendars of the batch go on."""
    # Imported here: the push receiver imports this module for enqueue_sync only (cold start).
    from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response

    if not event.get("Records"):
        return {"batchItemFailures": []}
    processor = SqsFifoPartialProcessor(skip_group_on_error=True)
    return process_partial_response(
        event=event, record_handler=lambda record: sync_record(record.body), processor=processor, context=context
    )
