"""Incremental sync: changes become calendar.event.* exactly once, a 410 resyncs in full."""

from __future__ import annotations

from hub.calendar.sync import sync_calendar
from tests.calendar_fake import FakeCalendar
from tests.unit.calendar.conftest import MemoryStore

ORG, CAL = "demo", "equipe@group.calendar.google.com"


def _types(mem: MemoryStore) -> list[tuple[str, str]]:
    return [(detail_type, detail["event_id"]) for detail_type, detail in mem.published]


def _seed(google: FakeCalendar, *ids: str) -> None:
    for event_id in ids:
        google.external_change(
            CAL,
            event_id,
            summary=f"Reunião {event_id}",
            start={"dateTime": "2026-03-02T10:00:00-03:00", "timeZone": "America/Sao_Paulo"},
            attendees=[{"email": "ana@example.com.br"}, {"email": "bruno@example.com"}],
        )


def test_first_sync_is_a_silent_baseline_over_every_page(google: FakeCalendar, memory: MemoryStore) -> None:
    # Given three events (two pages of two)
    _seed(google, "evt1", "evt2", "evt3")
    # When the calendar is synced for the first time
    report = sync_calendar(google, ORG, CAL)
    # Then nothing is published, everything is recorded and a sync token kept
    assert report.mode == "baseline" and report.seen == 3
    assert memory.published == []
    assert set(memory.records[(ORG, CAL)]) == {"evt1", "evt2", "evt3"}
    assert memory.tokens[(ORG, CAL)] == google.token()
    assert [c for c in google.calls if c[0] == "list_events"] == [
        ("list_events", (None, None)),
        ("list_events", (None, "2")),
    ]


def test_incremental_sync_publishes_each_change_once_with_attendees(google: FakeCalendar, memory: MemoryStore) -> None:
    _seed(google, "evt1", "evt2")
    sync_calendar(google, ORG, CAL)
    token = memory.tokens[(ORG, CAL)]
    # Given one new, one edited and one deleted event
    _seed(google, "evt3")
    google.external_change(CAL, "evt1", summary="Reunião remarcada")
    google.external_change(CAL, "evt2", cancel=True)
    # When synced
    report = sync_calendar(google, ORG, CAL)
    # Then the listing started from the stored token and three events are published
    assert ("list_events", (token, None)) in google.calls
    assert report.mode == "incremental"
    assert sorted(_types(memory)) == [
        ("calendar.event.cancelled", "evt2"),
        ("calendar.event.created", "evt3"),
        ("calendar.event.updated", "evt1"),
    ]
    created = next(d for t, d in memory.published if t == "calendar.event.created")
    assert created["attendees"] == ["ana@example.com.br", "bruno@example.com"]
    # Google lists the deleted event by id only: the cancellation still says who was invited, and when
    cancelled = next(d for t, d in memory.published if t == "calendar.event.cancelled")
    assert cancelled["attendees"] == ["ana@example.com.br", "bruno@example.com"]
    assert cancelled["summary"] == "Reunião evt2" and cancelled["start"]["dateTime"] == "2026-03-02T10:00:00-03:00"
    assert created["org_id"] == ORG and created["calendar_id"] == CAL
    # And syncing again with nothing changed publishes nothing more
    memory.published.clear()
    again = sync_calendar(google, ORG, CAL)
    assert again.seen == 0 and memory.published == []


def test_a_change_seen_twice_is_published_once(google: FakeCalendar, memory: MemoryStore) -> None:
    _seed(google, "evt1")
    sync_calendar(google, ORG, CAL)
    google.external_change(CAL, "evt1", summary="Nova pauta")
    sync_calendar(google, ORG, CAL)
    # The same version listed again (a token stored before a crash, say) is no change
    memory.tokens[(ORG, CAL)] = "0:1"
    sync_calendar(google, ORG, CAL)
    assert _types(memory) == [("calendar.event.updated", "evt1")]


def test_expired_token_410_resyncs_in_full_and_publishes_only_what_changed(
    google: FakeCalendar, memory: MemoryStore
) -> None:
    _seed(google, "evt1", "evt2", "evt3")
    sync_calendar(google, ORG, CAL)
    # Given changes while the token died: evt1 edited, evt2 deleted long ago (gone from
    # Google's full listing), evt4 created; evt3 unchanged
    google.external_change(CAL, "evt1", summary="Editada")
    google.external_change(CAL, "evt2", cancel=True)
    google.purge_cancelled(CAL)
    _seed(google, "evt4")
    google.expire_tokens()
    # When synced
    report = sync_calendar(google, ORG, CAL)
    # Then the incremental listing answered 410 and the calendar was listed in full
    assert report.mode == "full_resync"
    lists = [c[1] for c in google.calls if c[0] == "list_events"]
    assert lists[-3][0] is not None and lists[-2] == (None, None)
    assert sorted(_types(memory)) == [
        ("calendar.event.cancelled", "evt2"),
        ("calendar.event.created", "evt4"),
        ("calendar.event.updated", "evt1"),
    ]
    gone = next(d for t, d in memory.published if t == "calendar.event.cancelled")
    assert gone["attendees"] == ["ana@example.com.br", "bruno@example.com"]
    # And the next sync is incremental again from the new token
    memory.published.clear()
    assert sync_calendar(google, ORG, CAL).mode == "incremental"
    assert memory.published == []


def test_bus_event_ids_are_stable_for_one_version(google: FakeCalendar, memory: MemoryStore) -> None:
    _seed(google, "evt1")
    sync_calendar(google, ORG, CAL)
    google.external_change(CAL, "evt1", summary="x")
    sync_calendar(google, ORG, CAL)
    first = memory.published[-1][1]["id"]
    # A crash after publishing but before recording: the same version syncs again
    memory.records[(ORG, CAL)]["evt1"] = memory.records[(ORG, CAL)]["evt1"].__class__("evt1", "old", "confirmed")
    memory.tokens[(ORG, CAL)] = "0:1"
    sync_calendar(google, ORG, CAL)
    assert memory.published[-1][1]["id"] == first  # subscribers dedupe on it
