"""End to end in the local cloud with the Google sandbox (localcloud/sandboxes/google.py): a
pending Meet link polled by CalendarConferenceWorkflow (moto's Step Functions, Wait states); a
change made "in Google's UI" pushed to WebhookGoogleCalendar, one sync on the FIFO queue, one bus
event; an expired sync token (410) resynced in full; channels renewed before they expire."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hub.calendar.store import calendar_key
from localcloud import LocalCloud
from tests.conftest import register_test_orgs
from tests.e2e.conftest import booted, client, invoke
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e

ORG = "demo"
PRIMARY = "agenda@somosprodutora.com.br"  # the sandbox's primary calendar (its list gives this id)
CONNECTED = {
    "detail-type": "integration.connected",
    "source": "integrations-hub",
    "detail": {"org_id": ORG, "provider": "google"},
}


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with booted(retry_delay=1, env={"CALENDAR_CONFERENCE_POLL_SECONDS": "1"}) as running:
        orgs_table = running.template.env_value("ORGS_TABLE") if running.template else None
        assert orgs_table
        register_test_orgs(running.aws_url, orgs_table)
        yield running


def env(cloud: LocalCloud, name: str) -> str:
    value = cloud.template.env_value(name) if cloud.template else None
    assert value, name
    return str(value)


@pytest.fixture(scope="module")
def tap(cloud: LocalCloud) -> str:
    """An SQS queue subscribed to the hub's calendar.* events."""
    sqs, events = client(cloud, "sqs"), client(cloud, "events")
    url = sqs.create_queue(QueueName="e2e-calendar-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = env(cloud, "EVENT_BUS_NAME")
    pattern = {"source": ["integrations-hub"], "detail-type": [{"prefix": "calendar."}]}
    events.put_rule(Name="e2e-calendar", EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule="e2e-calendar", EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])
    return str(url)


class Bus:
    def __init__(self, cloud: LocalCloud, tap: str) -> None:
        self.cloud, self.tap = cloud, tap
        self.seen: list[dict[str, Any]] = []

    def poll(self) -> list[dict[str, Any]]:
        sqs = client(self.cloud, "sqs")
        batch = sqs.receive_message(QueueUrl=self.tap, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        for message in batch:
            self.seen.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=self.tap, ReceiptHandle=message["ReceiptHandle"])
        return self.seen

    def about(self, event_id: str, detail_type: str | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in self.poll()
            if e["detail"].get("event_id") == event_id and detail_type in (None, e["detail-type"])
        ]


@pytest.fixture(scope="module")
def bus(cloud: LocalCloud, tap: str) -> Bus:
    return Bus(cloud, tap)


def google(cloud: LocalCloud, **control: Any) -> dict[str, Any]:
    url = f"{cloud.sandbox_url}/google/_sandbox/calendar"
    answer = httpx.post(url, json=control, timeout=5) if control else httpx.get(url, timeout=5)
    answer.raise_for_status()
    state: dict[str, Any] = answer.json()
    return state


def calendar_items(cloud: LocalCloud, prefix: str) -> list[dict[str, Any]]:
    answer = client(cloud, "dynamodb").query(
        TableName=env(cloud, "CALENDAR_TABLE"),
        KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
        ExpressionAttributeValues={":pk": {"S": f"org#{ORG}"}, ":p": {"S": prefix}},
        ConsistentRead=True,
    )
    items: list[dict[str, Any]] = answer["Items"]
    return items


def synced(cloud: LocalCloud, calendar_id: str) -> dict[str, Any] | None:
    found = calendar_items(cloud, f"sync#{calendar_key(calendar_id)}")
    return found[0] if found else None


def announce(cloud: LocalCloud, detail_type: str) -> None:
    """What the OAuth callback / IntegrationDisable put on the hub's bus."""
    entry = {
        "Source": "integrations-hub",
        "DetailType": detail_type,
        "Detail": json.dumps({"org_id": ORG, "provider": "google", "at": "2030-03-01T12:00:00+00:00"}),
        "EventBusName": env(cloud, "EVENT_BUS_NAME"),
    }
    assert client(cloud, "events").put_events(Entries=[entry])["FailedEntryCount"] == 0


@pytest.fixture(scope="module")
def watched(cloud: LocalCloud) -> list[str]:
    """The demo org connected Google (integration.connected on the bus, as the OAuth callback
    announces it): the rule runs CalendarChannelsRenew, which watches its writable calendars and
    queues their baseline syncs."""
    announce(cloud, "integration.connected")
    items = wait_until(lambda: (lambda found: found if len(found) == 2 else None)(calendar_items(cloud, "channel#")))
    calendars = sorted(item["calendar_id"]["S"] for item in items)
    wait_until(lambda: all(synced(cloud, c) for c in calendars), timeout=15, interval=0.3)
    return calendars


def test_a_pending_meet_link_is_polled_until_ready(cloud: LocalCloud, bus: Bus) -> None:
    google(cloud, conference_pending_polls=2, conference_outcome="success")
    payload = {
        "org_id": ORG,
        "summary": "Reunião de pauta (e2e)",
        "start": "2030-03-04T10:00:00-03:00",
        "end": "2030-03-04T11:00:00-03:00",
        "attendees": ["ana@example.com.br"],
        "idempotency_key": f"e2e-meet-{time.time_ns()}",
    }
    created = invoke(cloud, "CalendarEventCreate", payload)
    assert created["conference_status"] == "pending" and "meet_link" not in created
    # A retry of the same request is the same event, not a second one
    assert invoke(cloud, "CalendarEventCreate", payload)["event_id"] == created["event_id"]
    assert [e["id"] for e in google(cloud)["events"]].count(created["event_id"]) == 1
    # The workflow polls in Wait states until Google has the link, then announces it
    [ready] = wait_until(lambda: bus.about(created["event_id"], "calendar.conference.ready"), timeout=18, interval=0.2)
    assert ready["detail"]["meet_link"].startswith("https://meet.google.com/")
    assert ready["detail"]["attendees"] == ["ana@example.com.br"]


def test_an_external_change_is_pushed_synced_once_and_published(
    cloud: LocalCloud, bus: Bus, watched: list[str]
) -> None:
    assert PRIMARY in watched
    primary = PRIMARY
    before = synced(cloud, primary)
    # When someone creates an event in Google's UI
    made = google(
        cloud,
        external_change={
            "calendar_id": primary,
            "action": "create",
            "event": {
                "summary": "Visita do cliente",
                "start": {"dateTime": "2030-03-05T15:00:00-03:00", "timeZone": "America/Sao_Paulo"},
                "end": {"dateTime": "2030-03-05T16:00:00-03:00", "timeZone": "America/Sao_Paulo"},
                "attendees": [{"email": "bruno@example.com"}, {"email": "carla@example.com.br"}],
            },
        },
    )
    event_id = next(e["id"] for e in made["events"] if e.get("summary") == "Visita do cliente")
    # Then Google's notification reaches the hub, one sync runs and the bus hears of it
    [created] = wait_until(lambda: bus.about(event_id, "calendar.event.created"), timeout=15, interval=0.2)
    assert created["detail"]["attendees"] == ["bruno@example.com", "carla@example.com.br"]
    assert created["detail"]["calendar_id"] == primary
    # The sync stores its token after publishing: once it moved on, everything it had is on the bus
    assert before
    wait_until(lambda: (synced(cloud, primary) or before)["synced_at"]["S"] > before["synced_at"]["S"], timeout=10)
    # Exactly once: the sync is finished (token stored after publishing) and nothing more came
    assert len(bus.about(event_id)) == 1


def test_an_event_deleted_in_google_is_announced_with_its_attendees(
    cloud: LocalCloud, bus: Bus, watched: list[str]
) -> None:
    event = {"summary": "Cancelada", "attendees": [{"email": "dora@example.com"}]}
    made = google(cloud, external_change={"calendar_id": PRIMARY, "action": "create", "event": event})
    event_id = next(e["id"] for e in made["events"] if e.get("summary") == "Cancelada")
    wait_until(lambda: bus.about(event_id, "calendar.event.created"), timeout=15, interval=0.2)
    google(cloud, external_change={"calendar_id": PRIMARY, "action": "cancel", "event_id": event_id})
    [cancelled] = wait_until(lambda: bus.about(event_id, "calendar.event.cancelled"), timeout=15, interval=0.2)
    assert cancelled["detail"]["attendees"] == ["dora@example.com"]
    assert cancelled["detail"]["summary"] == "Cancelada"


def test_an_expired_sync_token_resyncs_in_full(cloud: LocalCloud, bus: Bus, watched: list[str]) -> None:
    assert PRIMARY in watched
    primary = PRIMARY
    made = google(cloud, external_change={"calendar_id": primary, "action": "create", "event": {"summary": "Antes"}})
    event_id = next(e["id"] for e in made["events"] if e.get("summary") == "Antes")
    wait_until(lambda: bus.about(event_id, "calendar.event.created"), timeout=15, interval=0.2)
    # Given Google invalidated the sync tokens
    google(cloud, expire_sync_tokens=True)
    # When the event is edited in Google's UI
    google(
        cloud,
        external_change={
            "calendar_id": primary,
            "action": "update",
            "event_id": event_id,
            "event": {"summary": "Depois"},
        },
    )
    # Then the 410 led to a full listing, and only the edit was published
    [updated] = wait_until(lambda: bus.about(event_id, "calendar.event.updated"), timeout=15, interval=0.2)
    assert updated["detail"]["summary"] == "Depois"
    state = synced(cloud, primary)
    assert state and state.get("full_synced_at", {}).get("S") == state["synced_at"]["S"]
    assert len(bus.about(event_id)) == 2  # created, updated: nothing republished by the full listing


def test_channels_are_renewed_before_they_expire(cloud: LocalCloud, watched: list[str]) -> None:
    table = env(cloud, "CALENDAR_TABLE")
    ddb = client(cloud, "dynamodb")
    old = calendar_items(cloud, "channel#")
    soon = int(time.time()) + 600  # within the renewal horizon (1 day)
    for item in old:
        ddb.update_item(
            TableName=table,
            Key={"pk": item["pk"], "sk": item["sk"]},
            UpdateExpression="SET expiration = :e",
            ExpressionAttributeValues={":e": {"N": str(soon)}},
        )
    scheduled = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}
    report = invoke(cloud, "CalendarChannelsRenew", scheduled)
    assert len(report["renewed"]) == len(old) and not report["failed"], report
    current = {i["channel_id"]["S"] for i in calendar_items(cloud, "channel#")}
    assert current == set(report["renewed"])
    stopped = {c["id"] for c in google(cloud)["channels"] if c["stopped"]}
    assert {i["channel_id"]["S"] for i in old} <= stopped
    # Nothing left to renew
    assert invoke(cloud, "CalendarChannelsRenew", scheduled)["renewed"] == []


def test_disconnecting_stops_the_channels(cloud: LocalCloud, watched: list[str]) -> None:
    live = {i["channel_id"]["S"] for i in calendar_items(cloud, "channel#")}
    assert live
    # When the integration is disabled (IntegrationDisable, or a rejected grant)
    announce(cloud, "integration.disabled")
    # Then its channels are stopped at Google and forgotten by the hub
    wait_until(lambda: calendar_items(cloud, "channel#") == [], timeout=15, interval=0.3)
    stopped = {c["id"] for c in google(cloud)["channels"] if c["stopped"]}
    assert live <= stopped


def test_free_slots_skip_busy_time_in_the_org_working_hours(cloud: LocalCloud) -> None:
    # Given Mondays 09:00-12:00 and 13:00-15:00 in São Paulo, and a meeting 09:30-10:30 on the primary calendar
    hours = {"mon": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "15:00"}]}
    invoke(cloud, "CalendarSettingsSet", {"org_id": ORG, "time_zone": "America/Sao_Paulo", "working_hours": hours})
    meeting = {
        "summary": "Ocupado",
        "start": {"dateTime": "2030-03-11T09:30:00-03:00", "timeZone": "America/Sao_Paulo"},
        "end": {"dateTime": "2030-03-11T10:30:00-03:00", "timeZone": "America/Sao_Paulo"},
    }
    google(cloud, external_change={"calendar_id": PRIMARY, "action": "create", "event": meeting})
    # When a one-hour slot is asked for that Monday
    answer = invoke(
        cloud,
        "CalendarFreeBusy",
        {
            "org_id": ORG,
            "time_min": "2030-03-11T00:00:00-03:00",
            "time_max": "2030-03-12T00:00:00-03:00",
            "duration_minutes": 60,
        },
    )
    # Then Google's busy block and the lunch break are skipped
    assert answer["time_zone"] == "America/Sao_Paulo"
    assert [s["start"][11:16] for s in answer["slots"]] == ["10:30", "11:00", "13:00", "13:30", "14:00"]
