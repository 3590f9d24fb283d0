"""An in-memory Google Calendar behind the methods of the Calendar port (hub.providers.ports.Calendar), with
Google's semantics where the domain depends on them: our own event ids (409 on a duplicate,
the first event answered for the same request), Meet links pending for N reads, sync tokens
over a change log (410 once expired), deleted events listed as ``cancelled`` to incremental
listings only, channels with expirations. Used by tests/unit/calendar and tests/aws."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.errors import IdempotencyConflictError, InvalidRequestError, SyncTokenExpiredError


@dataclass
class FakeCalendar:
    calendars: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"id": "primary", "summary": "Agenda", "accessRole": "owner", "primary": True},
            {"id": "equipe@group.calendar.google.com", "summary": "Equipe", "accessRole": "writer"},
            {"id": "pt.brazilian#holiday@group.v.calendar.google.com", "summary": "Feriados", "accessRole": "reader"},
        ]
    )
    pending_reads: int = 2  # a new Meet link stays pending for this many get_event calls
    page_size: int = 2
    now: float | None = None  # Google's clock (None: the real one)
    busy: dict[str, list[tuple[datetime, datetime]]] = field(default_factory=dict)
    events: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    log: list[tuple[str, str]] = field(default_factory=list)  # (calendar, event id) per change
    generation: int = 0  # sync tokens of an older generation answer 410
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    stopped: list[str] = field(default_factory=list)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    _reads: dict[str, int] = field(default_factory=dict)
    _etags: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # ----- helpers for tests (as if changed in Google's UI) -------------------------------------
    def _touch(self, calendar_id: str, event: dict[str, Any]) -> dict[str, Any]:
        event["etag"] = f'"{next(self._etags)}"'
        self.events[(calendar_id, event["id"])] = event
        self.log.append((calendar_id, event["id"]))
        return event

    def external_change(
        self, calendar_id: str, event_id: str, *, summary: str | None = None, cancel: bool = False, **extra: Any
    ) -> dict[str, Any]:
        event = dict(self.events.get((calendar_id, event_id)) or {"id": event_id, "status": "confirmed"})
        if summary is not None:
            event["summary"] = summary
        if cancel:
            event["status"] = "cancelled"
        event.update(extra)
        return self._touch(calendar_id, event)

    def expire_tokens(self) -> None:
        self.generation += 1

    def token(self) -> str:
        return f"{self.generation}:{len(self.log)}"

    def purge_cancelled(self, calendar_id: str) -> None:
        """Google no longer returns old deleted events in a full listing."""
        for key in [k for k, e in self.events.items() if k[0] == calendar_id and e["status"] == "cancelled"]:
            del self.events[key]

    # ----- Calendar (port) ---------------------------------------------------------------------
    def list_calendars(self) -> list[dict[str, Any]]:
        self.calls.append(("list_calendars", None))
        return list(self.calendars)

    def insert_event(
        self, calendar_id: str, event: dict[str, Any], *, event_id: str, request_id: str
    ) -> dict[str, Any]:
        self.calls.append(("insert_event", event_id))
        existing = self.events.get((calendar_id, event_id))
        if existing is not None:
            if existing["summary"] == event["summary"] and existing["start"] == event["start"]:
                return existing
            raise IdempotencyConflictError("event id taken by another request", code="event_id_taken")
        created = {
            **event,
            "id": event_id,
            "status": "confirmed",
            "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}",
            "conferenceData": {
                "createRequest": {
                    "requestId": request_id,
                    "conferenceSolutionKey": {"type": "hangoutsMeet"},
                    "status": {"statusCode": "pending"},
                }
            },
        }
        self._reads[event_id] = 0
        return dict(self._touch(calendar_id, created))

    def get_event(self, calendar_id: str, event_id: str) -> dict[str, Any]:
        self.calls.append(("get_event", event_id))
        event = self.events.get((calendar_id, event_id))
        if event is None or event["status"] == "cancelled":
            raise InvalidRequestError("event not found", code="event_not_found", http_status=404)
        if event_id in self._reads:
            self._reads[event_id] += 1
            create = event["conferenceData"]["createRequest"]
            if self._reads[event_id] > self.pending_reads and create["status"]["statusCode"] == "pending":
                create["status"]["statusCode"] = "success"
                event["hangoutLink"] = "https://meet.google.com/abc-defg-hij"
                self._touch(calendar_id, event)
        return dict(event)

    def patch_event(self, calendar_id: str, event_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("patch_event", (event_id, changes)))
        event = self.events.get((calendar_id, event_id))
        if event is None or event["status"] == "cancelled":
            raise InvalidRequestError("event not found", code="event_not_found", http_status=404)
        return dict(self._touch(calendar_id, {**event, **changes}))

    def cancel_event(self, calendar_id: str, event_id: str) -> None:
        self.calls.append(("cancel_event", event_id))
        event = self.events.get((calendar_id, event_id))
        if event is not None and event["status"] != "cancelled":
            self._touch(calendar_id, {**event, "status": "cancelled"})

    def free_busy(
        self, calendar_ids: list[str], time_min: datetime, time_max: datetime, time_zone: str
    ) -> dict[str, list[tuple[datetime, datetime]]]:
        self.calls.append(("free_busy", (tuple(calendar_ids), time_zone)))
        return {c: [(s, e) for s, e in self.busy.get(c, []) if e > time_min and s < time_max] for c in calendar_ids}

    def list_events(
        self, calendar_id: str, *, sync_token: str | None = None, page_token: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None, str | None]:
        self.calls.append(("list_events", (sync_token, page_token)))
        if sync_token is not None and int(sync_token.split(":")[0]) != self.generation:
            raise SyncTokenExpiredError("sync token expired", code="sync_token_expired", http_status=410)
        if sync_token is None:
            # A full listing: what exists now (Google omits long-deleted events).
            ids = [eid for (cal, eid) in self.events if cal == calendar_id]
        else:
            since = int(sync_token.split(":")[1])
            ids = list(dict.fromkeys(eid for cal, eid in self.log[since:] if cal == calendar_id))
        items = [self._listed(self.events[(calendar_id, eid)]) for eid in ids if (calendar_id, eid) in self.events]
        start = int(page_token or 0)
        page = items[start : start + self.page_size]
        if start + self.page_size < len(items):
            return page, str(start + self.page_size), None
        return page, None, self.token()

    @staticmethod
    def _listed(event: dict[str, Any]) -> dict[str, Any]:
        """Google lists a deleted event with little more than its id."""
        if event.get("status") == "cancelled":
            return {"kind": "calendar#event", "id": event["id"], "etag": event["etag"], "status": "cancelled"}
        return dict(event)

    def watch_events(
        self, calendar_id: str, *, channel_id: str, token: str, address: str, ttl_seconds: int
    ) -> dict[str, Any]:
        self.calls.append(("watch_events", calendar_id))
        resource_id = f"res-{len(self.channels) + 1}"
        self.channels[channel_id] = {"calendar_id": calendar_id, "token": token, "address": address}
        return {
            "id": channel_id,
            "resourceId": resource_id,
            "resourceUri": f"https://www.googleapis.com/calendar/v3/calendars/{calendar_id}/events",
            # What Google grants: the ttl from now (ms since the epoch, a string).
            "expiration": str((int(self.now if self.now is not None else time.time()) + ttl_seconds) * 1000),
        }

    def stop_channel(self, channel_id: str, resource_id: str) -> None:
        self.calls.append(("stop_channel", channel_id))
        self.stopped.append(channel_id)
