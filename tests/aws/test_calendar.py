"""Google Calendar against moto: the push receiver (channel token, dedupe, exactly one sync
enqueued), the sync consumer publishing on the bus, channel renewal and create under retries.
Google is tests.calendar_fake.FakeCalendar (the real adapter and sandbox: tests/e2e)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hub.calendar import channels, client, conference, events, freebusy, store
from hub.calendar.store import Channel
from hub.calendar.sync import enqueue_sync
from hub.config import get_settings
from hub.errors import AuthenticationError, OutcomeUnknownError, ProviderUnavailableError
from tests.aws.conftest import HubAws
from tests.calendar_fake import FakeCalendar
from tests.helpers import FakeLambdaContext, api_event, load_function

ORG = "demo"
PUBLIC = "https://hub.example.com/dev"


@pytest.fixture
def google(hub_aws: HubAws, monkeypatch: pytest.MonkeyPatch) -> FakeCalendar:
    fake = FakeCalendar()
    _GOOGLE[:] = [fake]
    for module in (client, channels, conference, events, freebusy):
        monkeypatch.setattr(module, "calendar_client", lambda org_id: fake)
    monkeypatch.setenv("PUBLIC_API_URL", PUBLIC)
    get_settings.cache_clear()
    return fake


@pytest.fixture
def channel(google: FakeCalendar) -> Channel:
    return channels.watch_calendar(google, ORG, "primary", now=1_800_000_000)


def _token(channel: Channel) -> str:
    """The token Google was given at watch time (the hub keeps only its hash)."""
    token: str = _GOOGLE[0].channels[channel.channel_id]["token"]
    return token


_GOOGLE: list[FakeCalendar] = []  # the current test's Google (set by the google fixture)


def _notify(channel: Channel, *, number: str = "7", state: str = "exists", **override: str) -> dict[str, Any]:
    headers = {
        "X-Goog-Channel-ID": channel.channel_id,
        "X-Goog-Channel-Token": _token(channel),
        "X-Goog-Resource-ID": channel.resource_id,
        "X-Goog-Resource-State": state,
        "X-Goog-Message-Number": number,
        "X-Goog-Resource-URI": "https://www.googleapis.com/calendar/v3/calendars/primary/events?alt=json",
        **override,
    }
    event = api_event(
        "POST",
        f"/webhooks/google_calendar/{ORG}",
        resource="/webhooks/google_calendar/{org_id}",
        path_parameters={"org_id": ORG},
        headers=headers,
    )
    receiver = load_function("webhook_google_calendar")
    answer: dict[str, Any] = receiver.handler(event, FakeLambdaContext())
    return {"http": answer["statusCode"], **json.loads(answer["body"])}


def _sync_messages(hub_aws: HubAws) -> list[dict[str, Any]]:
    return hub_aws.queue_messages("CALENDAR_SYNC_QUEUE_URL")


def test_a_verified_notification_enqueues_exactly_one_sync(hub_aws: HubAws, channel: Channel) -> None:
    # When Google notifies a change, then retries the same notification
    first = _notify(channel, number="7")
    again = _notify(channel, number="7")
    # Then it is accepted once, the retry is a duplicate, and one sync is queued for the calendar
    assert first == {"http": 200, "status": "accepted"}
    assert again == {"http": 200, "status": "duplicate"}
    messages = _sync_messages(hub_aws)
    assert len(messages) == 1
    body = json.loads(messages[0]["Body"])
    assert (body["org_id"], body["calendar_id"], body["reason"]) == (ORG, "primary", "exists")
    # And the table keeps only the token's hash
    table = hub_aws.client("dynamodb").scan(TableName=hub_aws.env["CALENDAR_TABLE"])["Items"]
    assert _token(channel) not in json.dumps(table)
    # And both requests are archived without the channel's token
    keys = hub_aws.archived_keys()
    assert len(keys) == 2
    for key in keys:
        archived = hub_aws.client("s3").get_object(Bucket=hub_aws.env["WEBHOOK_ARCHIVE_BUCKET"], Key=key)["Body"].read()
        assert _token(channel).encode() not in archived
        assert "x-goog-channel-token" not in json.loads(archived)["headers"]
        assert json.loads(archived)["headers"]["x-goog-message-number"] == "7"


def test_the_next_message_number_is_another_sync(hub_aws: HubAws, channel: Channel) -> None:
    hub_aws.client("sqs").purge_queue(QueueUrl=hub_aws.env["CALENDAR_SYNC_QUEUE_URL"])
    assert _notify(channel, number="8")["http"] == 200
    assert _notify(channel, number="9")["http"] == 200
    assert len(_sync_messages(hub_aws)) == 2


def test_the_handshake_is_acknowledged_without_a_sync(hub_aws: HubAws, channel: Channel) -> None:
    hub_aws.client("sqs").purge_queue(QueueUrl=hub_aws.env["CALENDAR_SYNC_QUEUE_URL"])
    assert _notify(channel, number="1", state="sync") == {"http": 200, "status": "handshake"}
    assert _sync_messages(hub_aws) == []


@pytest.mark.parametrize(
    ("forged", "status"),
    [
        ({"X-Goog-Channel-Token": "guessed-token"}, 401),
        ({"X-Goog-Channel-ID": "0c6b1f7e-2a4d-4e8b-9c3f-5d7a1b2c3d4e"}, 404),  # a channel we never made
        ({"X-Goog-Resource-ID": "res-of-another-calendar"}, 401),
        ({"X-Goog-Channel-Token": ""}, 401),
    ],
    ids=["bad-token", "unknown-channel", "wrong-resource", "no-token"],
)
def test_forged_notifications_are_refused_with_no_side_effect(
    hub_aws: HubAws, channel: Channel, forged: dict[str, str], status: int
) -> None:
    hub_aws.client("sqs").purge_queue(QueueUrl=hub_aws.env["CALENDAR_SYNC_QUEUE_URL"])
    answer = _notify(channel, **forged)
    assert answer["http"] == status and answer["error"] in {"unauthorized", "unknown_channel"}
    assert _sync_messages(hub_aws) == [] and hub_aws.archived_keys() == []


def test_a_burst_of_wrong_tokens_is_audited_once(hub_aws: HubAws, channel: Channel) -> None:
    for _ in range(10):  # WEBHOOK_FORGERY_THRESHOLD
        assert _notify(channel, **{"X-Goog-Channel-Token": "guess"})["http"] == 401
    records = hub_aws.client("dynamodb").scan(TableName=hub_aws.env["AUDIT_TABLE"])["Items"]
    bursts = [r for r in records if r.get("action", {}).get("S") == "webhook_forgery_burst"]
    assert len(bursts) == 1 and "guess" not in json.dumps(bursts)


def test_another_orgs_channel_is_refused(hub_aws: HubAws, google: FakeCalendar) -> None:
    theirs = channels.watch_calendar(google, "acme", "primary", now=1_800_000_000)
    assert _notify(theirs)["http"] == 404  # posted to /webhooks/google_calendar/demo: not demo's channel


def test_push_then_sync_publishes_the_change_once(hub_aws: HubAws, google: FakeCalendar, channel: Channel) -> None:
    tap = hub_aws.bus_tap("calendar-tap", {"source": ["integrations-hub"], "detail-type": [{"prefix": "calendar."}]})
    consumer = load_function("calendar_sync")
    google.external_change("primary", "evt1", summary="Antes", attendees=[{"email": "ana@example.com.br"}])
    queue = hub_aws.env["CALENDAR_SYNC_QUEUE_URL"]
    enqueue_sync(ORG, "primary", reason="watch", dedupe=f"watch:{channel.channel_id}")  # as watch_org does

    def drain() -> dict[str, Any]:
        messages = hub_aws.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        answer: dict[str, Any] = consumer.handler(hub_aws.as_sqs_event(queue, messages), FakeLambdaContext())
        for m in messages:
            hub_aws.client("sqs").delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
        return answer

    assert drain() == {"batchItemFailures": []}  # the baseline: nothing published
    google.external_change("primary", "evt1", summary="Depois")
    assert _notify(channel, number="20")["http"] == 200
    assert _notify(channel, number="20")["http"] == 200  # Google's retry
    assert drain() == {"batchItemFailures": []}
    published = _tap(hub_aws, tap)
    assert [(p["detail-type"], p["detail"]["event_id"], p["detail"]["attendees"]) for p in published] == [
        ("calendar.event.updated", "evt1", ["ana@example.com.br"])
    ]


def _tap(hub_aws: HubAws, url: str) -> list[dict[str, Any]]:
    sqs = hub_aws.client("sqs")
    out: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30).get("Messages", [])
        if not batch:
            return out
        out += [json.loads(m["Body"]) for m in batch]


def test_renewal_replaces_channels_before_they_expire(hub_aws: HubAws, google: FakeCalendar) -> None:
    now = 1_800_000_000
    soon = channels.watch_calendar(google, ORG, "primary", now=now)
    store.put_channel(Channel(**{**soon.__dict__, "expiration": now + 3600}))  # expires within the day
    later = channels.watch_calendar(google, ORG, "equipe@group.calendar.google.com", now=now)
    store.put_channel(Channel(**{**later.__dict__, "expiration": now + 5 * 86400}))
    # When the hourly schedule runs
    report = channels.renew_due(now=now, client_for=lambda org_id: google)
    # Then only the expiring channel got a successor, and the old one was stopped and forgotten
    assert len(report.renewed) == 1 and google.stopped == [soon.channel_id]
    current = {c.channel_id: c for c in store.org_channels(ORG)}
    assert soon.channel_id not in current and later.channel_id in current
    successor = current[report.renewed[0]]
    assert successor.calendar_id == "primary" and successor.token_hash != soon.token_hash
    assert google.channels[successor.channel_id]["address"] == f"{PUBLIC}/webhooks/google_calendar/{ORG}"
    # And the calendar is synced once, in case the old channel lapsed before it was replaced
    bodies = [json.loads(m["Body"]) for m in _sync_messages(hub_aws)]
    assert [(b["calendar_id"], b["reason"]) for b in bodies] == [("primary", "renew")]


def test_disconnect_stops_every_channel_and_refuses_their_notifications(
    hub_aws: HubAws, google: FakeCalendar, channel: Channel
) -> None:
    renewer = load_function("calendar_channels_renew")
    event = {
        "detail-type": "integration.disabled",
        "source": "integrations-hub",
        "detail": {"org_id": ORG, "provider": "google"},
    }
    report = renewer.handler(event, FakeLambdaContext())
    assert report["stopped"] == [channel.channel_id] and google.stopped == [channel.channel_id]
    assert _notify(channel, number="30")["http"] == 404


def test_connect_watches_the_writable_calendars_and_queues_their_baselines(
    hub_aws: HubAws, google: FakeCalendar
) -> None:
    renewer = load_function("calendar_channels_renew")
    event = {
        "detail-type": "integration.connected",
        "source": "integrations-hub",
        "detail": {"org_id": ORG, "provider": "google"},
    }
    report = renewer.handler(event, FakeLambdaContext())
    assert len(report["watched"]) == 2  # primary and the team calendar; not the read-only holidays
    assert sorted(c.calendar_id for c in store.org_channels(ORG)) == ["equipe@group.calendar.google.com", "primary"]
    assert sorted(json.loads(m["Body"])["calendar_id"] for m in _sync_messages(hub_aws)) == [
        "equipe@group.calendar.google.com",
        "primary",
    ]
    # Connecting again (integration.enabled) watches nothing twice
    again = renewer.handler({**event, "detail-type": "integration.enabled"}, FakeLambdaContext())
    assert again["watched"] == []


CREATE = {
    "org_id": ORG,
    "summary": "Reunião de pauta",
    "start": "2026-03-02T10:00:00-03:00",
    "end": "2026-03-02T11:00:00-03:00",
    "attendees": ["ana@example.com.br"],
    "idempotency_key": "crm-meeting-1",
}


def test_create_under_retries_is_one_event(hub_aws: HubAws, google: FakeCalendar) -> None:
    creator = load_function("calendar_event_create")
    first = creator.handler(dict(CREATE), FakeLambdaContext())
    again = creator.handler(dict(CREATE), FakeLambdaContext())
    assert first == again and first["conference_status"] == "pending"
    assert [c for c in google.calls if c[0] == "insert_event"] == [("insert_event", first["event_id"])]
    assert len(google.events) == 1
    # The workflow polling the Meet link was started once, named after the event
    sfn = hub_aws.client("stepfunctions")
    executions = sfn.list_executions(stateMachineArn=hub_aws.env["CALENDAR_CONFERENCE_STATE_MACHINE_ARN"])["executions"]
    assert [e["name"] for e in executions] == [f"conf-{first['event_id']}"]


def test_a_create_whose_answer_was_lost_makes_one_event_when_asked_again(
    hub_aws: HubAws, google: FakeCalendar, monkeypatch: pytest.MonkeyPatch
) -> None:
    creator = load_function("calendar_event_create")
    real_insert = google.insert_event

    def lost_answer(*args: Any, **kwargs: Any) -> dict[str, Any]:
        real_insert(*args, **kwargs)  # Google created it; the answer never came back
        monkeypatch.setattr(google, "insert_event", real_insert)
        raise OutcomeUnknownError("read timeout after the request was sent", provider="google")

    monkeypatch.setattr(google, "insert_event", lost_answer)
    with pytest.raises(OutcomeUnknownError):
        creator.handler(dict(CREATE), FakeLambdaContext())
    # The caller decides the first attempt may be resent: the same event id comes back, not a second event
    answer = creator.handler({**CREATE, "resend": True}, FakeLambdaContext())
    assert len(google.events) == 1 and answer["event_id"] in {eid for _, eid in google.events}


def test_the_same_key_with_another_payload_is_refused_before_google(hub_aws: HubAws, google: FakeCalendar) -> None:
    creator = load_function("calendar_event_create")
    creator.handler(dict(CREATE), FakeLambdaContext())
    with pytest.raises(Exception) as caught:
        creator.handler({**CREATE, "summary": "Outra"}, FakeLambdaContext())
    assert type(caught.value).__name__ == "IdempotencyConflictError"
    assert len([c for c in google.calls if c[0] == "insert_event"]) == 1


def test_settings_then_free_busy(hub_aws: HubAws, google: FakeCalendar) -> None:
    settings = load_function("calendar_settings_set")
    settings.handler(
        {
            "org_id": ORG,
            "time_zone": "America/Sao_Paulo",
            "working_hours": {"mon": [{"start": "09:00", "end": "11:00"}]},
        },
        FakeLambdaContext(),
    )
    free = load_function("calendar_free_busy")
    answer = free.handler(
        {
            "org_id": ORG,
            "time_min": "2026-03-02T00:00:00-03:00",
            "time_max": "2026-03-03T00:00:00-03:00",
            "duration_minutes": 60,
            "step_minutes": 60,
        },
        FakeLambdaContext(),
    )
    assert [(s["start"], s["end"]) for s in answer["slots"]] == [
        ("2026-03-02T09:00:00-03:00", "2026-03-02T10:00:00-03:00"),
        ("2026-03-02T10:00:00-03:00", "2026-03-02T11:00:00-03:00"),
    ]


def test_a_watch_that_failed_at_connect_is_retried_by_the_hourly_run(
    hub_aws: HubAws, google: FakeCalendar, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Google is down when the org connects
    real = google.list_calendars

    def down() -> list[dict[str, Any]]:
        raise ProviderUnavailableError("Google is down", provider="google")

    monkeypatch.setattr(google, "list_calendars", down)
    report = channels.watch_org(ORG, google, now=1_800_000_000)
    assert report.watched == [] and report.failed[0]["error"] == "ProviderUnavailableError"
    assert store.org_channels(ORG) == [] and store.orgs_watch_pending() == [ORG]
    # When it is back and the hourly run comes
    monkeypatch.setattr(google, "list_calendars", real)
    again = channels.renew_due(now=1_800_003_600, client_for=lambda org_id: google)
    # Then the calendars are watched and the org is no longer pending
    assert len(again.watched) == 2 and not again.failed
    assert len(store.org_channels(ORG)) == 2 and store.orgs_watch_pending() == []


def test_a_pending_watch_ends_when_the_org_disconnects_or_its_grant_is_gone(
    hub_aws: HubAws, google: FakeCalendar, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(exc: Exception) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            raise exc

        return call

    real = google.list_calendars
    monkeypatch.setattr(google, "list_calendars", refuse(ProviderUnavailableError("down", provider="google")))
    channels.watch_org(ORG, google)
    assert store.orgs_watch_pending() == [ORG]
    # Disconnected meanwhile: the schedule does not watch it again
    channels.stop_org(ORG, google)
    assert store.orgs_watch_pending() == []
    # A revoked grant: retrying cannot help, reconnecting (integration.connected) watches again
    channels.watch_org(ORG, google)
    monkeypatch.setattr(google, "list_calendars", refuse(AuthenticationError("invalid_grant", provider="google")))
    report = channels.renew_due(client_for=lambda org_id: google)
    assert report.failed[0]["error"] == "AuthenticationError" and store.orgs_watch_pending() == []
    monkeypatch.setattr(google, "list_calendars", real)
    assert len(channels.watch_org(ORG, google).watched) == 2


def test_contact_erase_removes_the_event_records_naming_the_contact(hub_aws: HubAws, google: FakeCalendar) -> None:
    from hub.calendar.store import EventRecord

    # Given the sync recorded two events, one attended by the contact
    store.put_event_records(
        ORG,
        "primary",
        [
            EventRecord("evt1", '"1"', "confirmed", summary="Reunião", attendees=("maria.souza@example.com.br",)),
            EventRecord("evt2", '"2"', "confirmed", summary="Interna", attendees=("equipe@somosprodutora.com.br",)),
        ],
    )
    # When the DPO erases the contact
    payload = {"org_id": ORG, "contact": {"email": "Maria.Souza@example.com.br"}, "actor": "dpo@agency"}
    report = load_function("contact_erase").handler(payload, FakeLambdaContext(timeout_ms=120_000))
    # Then only the record naming her is gone, and the report counts it
    assert report["status"] == "completed" and report["erased"]["calendar"] == 1
    assert set(store.event_records(ORG, "primary")) == {"evt2"}
