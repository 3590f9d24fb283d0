"""Calendar unit tests: no AWS. CalendarTable's sync state and event records live in a dict,
the bus is a list, the Google adapter is tests.calendar_fake.FakeCalendar."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from hub import bus
from hub.calendar import store
from hub.calendar.store import EventRecord
from tests.calendar_fake import FakeCalendar


@dataclass
class MemoryStore:
    tokens: dict[tuple[str, str], str | None] = field(default_factory=dict)
    records: dict[tuple[str, str], dict[str, EventRecord]] = field(default_factory=dict)
    published: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch) -> MemoryStore:
    mem = MemoryStore()

    def get_sync_token(org_id: str, calendar_id: str) -> tuple[bool, str | None]:
        key = (org_id, calendar_id)
        return (key in mem.tokens, mem.tokens.get(key))

    def put_sync_token(org_id: str, calendar_id: str, sync_token: str | None, *, full: bool) -> None:
        mem.tokens[(org_id, calendar_id)] = sync_token

    def event_records(org_id: str, calendar_id: str) -> dict[str, EventRecord]:
        return dict(mem.records.get((org_id, calendar_id), {}))

    def put_event_records(org_id: str, calendar_id: str, records: list[EventRecord]) -> None:
        mem.records.setdefault((org_id, calendar_id), {}).update({r.event_id: r for r in records})

    monkeypatch.setattr(store, "get_sync_token", get_sync_token)
    monkeypatch.setattr(store, "put_sync_token", put_sync_token)
    monkeypatch.setattr(store, "event_records", event_records)
    monkeypatch.setattr(store, "put_event_records", put_event_records)
    monkeypatch.setattr(bus, "put_events", lambda events: mem.published.extend(events))
    return mem


@pytest.fixture
def google() -> FakeCalendar:
    return FakeCalendar()
