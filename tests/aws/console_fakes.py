"""An in-memory stand-in for hub.eventlog (contract section 1) until the event log lands: the
models and the read functions the console calls, over a list of EventDetail the test fills."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from types import ModuleType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.errors import InvalidRequestError
from hub.requests import OrgId


class ProviderCall(BaseModel):
    provider: str
    method: str
    path: str
    status: int | None
    latency_ms: int
    error_class: str | None = None


class Attempt(BaseModel):
    at: datetime
    outcome: str
    error_class: str | None = None
    message: str | None = None


class EventSummary(BaseModel):
    record_id: str
    direction: Literal["inbound", "outbound"]
    org_id: str
    provider: str
    type: str
    status: str
    at: datetime
    error_class: str | None = None


class EventDetail(EventSummary):
    raw_ref: str | None = None
    event: dict[str, Any] | None = None
    attempts: list[Attempt] = Field(default_factory=list)
    error_message: str | None = None
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    calls: list[ProviderCall] = Field(default_factory=list)


class EventQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    org_id: OrgId
    provider: str | None = None
    type: str | None = None
    status: str | None = None
    direction: Literal["inbound", "outbound"] | None = None
    start: datetime | None = None
    end: datetime | None = None
    limit: int = Field(50, ge=1, le=200)
    cursor: str | None = None


class EventPage(BaseModel):
    items: list[EventSummary]
    cursor: str | None = None


class Issue(BaseModel):
    org_id: str
    provider: str
    error_class: str
    first_seen: datetime
    last_seen: datetime
    count: int
    status: Literal["open", "acknowledged", "resolved"]
    last_message: str | None = None
    last_record_id: str | None = None


class FakeEventLog(ModuleType):
    """Module-shaped: ``monkeypatch.setitem(sys.modules, "hub.eventlog", FakeEventLog())``."""

    EventQuery = EventQuery
    EventSummary = EventSummary
    EventDetail = EventDetail

    def __init__(self) -> None:
        super().__init__("hub.eventlog")
        self.details: list[EventDetail] = []
        self.issues: list[Issue] = []
        self.issue_changes: list[tuple[str, str, str, str, str]] = []

    def _matches(self, query: EventQuery) -> list[EventDetail]:
        found = [
            d
            for d in self.details
            if d.org_id == query.org_id
            and all(
                getattr(query, name) in (None, getattr(d, name)) for name in ("provider", "type", "status", "direction")
            )
            and (query.start is None or d.at >= query.start)
            and (query.end is None or d.at <= query.end)
        ]
        return sorted(found, key=lambda d: d.at, reverse=True)

    def query_events(self, query: EventQuery) -> EventPage:
        matches = self._matches(query)
        start = 0
        if query.cursor:
            try:
                bound = json.loads(base64.b64decode(query.cursor, validate=True))
            except ValueError:
                raise InvalidRequestError("cursor: not one this query gave", code="invalid_cursor") from None
            if bound["q"] != query.model_dump_json(exclude={"cursor"}):
                raise InvalidRequestError("cursor: belongs to another query", code="invalid_cursor")
            start = bound["at"]
        page = matches[start : start + query.limit]
        more = start + query.limit < len(matches)
        cursor = (
            base64.b64encode(
                json.dumps({"q": query.model_dump_json(exclude={"cursor"}), "at": start + query.limit}).encode()
            ).decode()
            if more
            else None
        )
        return EventPage(
            items=[EventSummary(**d.model_dump(include=set(EventSummary.model_fields))) for d in page], cursor=cursor
        )

    def iter_events(self, query: EventQuery) -> Iterator[EventSummary]:
        while True:
            page = self.query_events(query)
            yield from page.items
            if page.cursor is None:
                return
            query = query.model_copy(update={"cursor": page.cursor})

    def get_event(self, record_id: str) -> EventDetail | None:
        return next((d for d in self.details if d.record_id == record_id), None)

    def list_issues(self, *, status: str | None = None, org_id: str | None = None) -> list[Issue]:
        found = [i for i in self.issues if status in (None, i.status) and org_id in (None, i.org_id)]
        return sorted(found, key=lambda i: i.last_seen, reverse=True)

    def set_issue_status(self, org_id: str, provider: str, error_class: str, status: str, *, actor: str) -> Issue:
        for n, issue in enumerate(self.issues):
            if (issue.org_id, issue.provider, issue.error_class) == (org_id, provider, error_class):
                self.issues[n] = issue.model_copy(update={"status": status})
                self.issue_changes.append((org_id, provider, error_class, status, actor))
                return self.issues[n]
        raise InvalidRequestError("issue: unknown", code="not_found")


def inbound(
    record_id: str, raw_ref: str | None, event_id: str | None, *, org: str = "acme", at: datetime
) -> EventDetail:
    return EventDetail(
        record_id=record_id,
        direction="inbound",
        org_id=org,
        provider="evolution",
        type="message.received",
        status="delivered",
        at=at,
        raw_ref=raw_ref,
        event={"event_id": event_id} if event_id else None,
    )


def now_utc() -> datetime:
    return datetime.now(UTC)
