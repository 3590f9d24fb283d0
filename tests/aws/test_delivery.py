"""Nothing is lost after the DLQ: an event counts as delivered only once it is on the bus, so a
provider's redelivery or an operator's replay of an event that never got there publishes it,
and one that did is a duplicate — and two copies in flight still make one bus event."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.config import get_settings
from hub.webhooks import delivery
from hub.webhooks.replay import archived_keys, replay
from hub.webhooks.specs import webhook_providers, webhook_spec
from tests.aws.conftest import HubAws
from tests.aws.inbound_queue import bus_events, consume, purge
from tests.aws.test_webhook_evolution import SECRET, payload, post
from tests.helpers import ROOT, load_function


@pytest.fixture
def receiver(hub_aws: HubAws) -> Any:
    hub_aws.put_secret("acme", "evolution", SECRET)
    return load_function("webhook_evolution")


@pytest.fixture
def tap(hub_aws: HubAws) -> str:
    return hub_aws.bus_tap("delivery-tap", {"detail-type": ["message.received"]})


def bus_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENT_BUS_NAME", "no-such-bus")
    get_settings.cache_clear()


def bus_up(monkeypatch: pytest.MonkeyPatch, hub_aws: HubAws) -> None:
    monkeypatch.setenv("EVENT_BUS_NAME", hub_aws.env["EVENT_BUS_NAME"])
    get_settings.cache_clear()


def lose_after_the_dlq(receiver: Any, hub_aws: HubAws, monkeypatch: pytest.MonkeyPatch, raw: str) -> str:
    """A valid delivery (200) whose event fails in the consumer, ends in the DLQ and is purged."""
    first = post(receiver, raw)
    assert first["statusCode"] == 200, first["body"]
    [event_id] = json.loads(first["body"])["event_ids"]
    bus_down(monkeypatch)
    assert len(consume(hub_aws)["batchItemFailures"]) == 1
    assert purge(hub_aws) == 1
    bus_up(monkeypatch, hub_aws)
    return str(event_id)


def test_a_redelivery_of_an_event_lost_after_the_dlq_reaches_the_bus_once(
    receiver: Any, hub_aws: HubAws, tap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a notification accepted with 200 whose event never reached the bus
    raw = json.dumps(payload("LOST-AFTER-DLQ"))
    event_id = lose_after_the_dlq(receiver, hub_aws, monkeypatch, raw)
    assert bus_events(hub_aws, tap) == []

    # When the provider redelivers it
    again = post(receiver, raw)

    # Then it is enqueued again (same answer shape) and reaches the bus
    assert again["statusCode"] == 200
    assert json.loads(again["body"]) == {"status": "accepted", "event_ids": [event_id], "duplicates": 0}
    assert consume(hub_aws) == {"batchItemFailures": []}
    assert [e["detail"]["event_id"] for e in bus_events(hub_aws, tap)] == [event_id]
    # And from now on it is a duplicate, for the consumer and for the operator
    third = post(receiver, raw)
    assert third["statusCode"] == 200
    assert consume(hub_aws) == {"batchItemFailures": []}
    assert bus_events(hub_aws, tap) == []
    now = datetime.now(UTC)
    keys = list(archived_keys("evolution", "acme", now - timedelta(hours=1), now + timedelta(minutes=1)))
    report = replay(keys)
    assert report.replayed == [] and sorted(report.duplicates) == sorted(keys) and len(keys) == 3
    assert hub_aws.queue_messages("INBOUND_EVENTS_QUEUE_URL") == []
    assert bus_events(hub_aws, tap) == []


def run_ops(hub_aws: HubAws, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m ops`` exactly as documented: from the repository root, nothing on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-m", "ops", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def test_ops_replay_republishes_what_never_reached_the_bus_and_skips_what_did(
    receiver: Any, hub_aws: HubAws, tap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given one event lost after the DLQ and one delivered
    lost_id = lose_after_the_dlq(receiver, hub_aws, monkeypatch, json.dumps(payload("LOST-2")))
    assert post(receiver, json.dumps(payload("DELIVERED-2")))["statusCode"] == 200
    assert consume(hub_aws) == {"batchItemFailures": []}
    [delivered] = bus_events(hub_aws, tap)
    keys = sorted(hub_aws.archived_keys())
    key_of = {
        json.loads(hub_aws.client("s3").get_object(Bucket=hub_aws.env["WEBHOOK_ARCHIVE_BUCKET"], Key=k)["Body"].read())[
            "body"
        ]: k
        for k in keys
    }
    lost_key = next(k for body, k in key_of.items() if "LOST-2" in body)

    # When the operator replays both with the documented command
    out = run_ops(
        hub_aws, "--local", "--endpoint", hub_aws.endpoint, "replay", *[a for k in keys for a in ("--key", k)]
    )

    # Then the lost one is republished and the delivered one reported as a duplicate
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["replayed"] == [lost_key] and report["event_ids"] == [lost_id]
    assert report["duplicates"] == [k for k in keys if k != lost_key]
    assert consume(hub_aws) == {"batchItemFailures": []}
    assert [e["detail"]["event_id"] for e in bus_events(hub_aws, tap)] == [lost_id]
    assert delivered["detail"]["event_id"] != lost_id


def test_ops_help_runs_from_a_fresh_clone(hub_aws: HubAws) -> None:
    out = run_ops(hub_aws, "--help")
    assert out.returncode == 0, out.stderr
    assert "replay" in out.stdout and "redrive" in out.stdout


def test_two_copies_in_flight_make_one_bus_event(receiver: Any, hub_aws: HubAws, tap: str) -> None:
    # Given a delivery and the provider's redelivery before the consumer ran: two copies queued
    raw = json.dumps(payload("IN-FLIGHT"))
    assert post(receiver, raw)["statusCode"] == post(receiver, raw)["statusCode"] == 200
    assert len(hub_aws.queue_messages("INBOUND_EVENTS_QUEUE_URL")) == 2
    # When the consumer processes both
    assert consume(hub_aws) == {"batchItemFailures": []}
    # Then the bus sees the event once, and nothing is left to retry
    assert len(bus_events(hub_aws, tap)) == 1
    assert hub_aws.queue_messages("INBOUND_EVENTS_QUEUE_URL") == []


def test_a_copy_another_consumer_is_processing_waits_instead_of_publishing(
    receiver: Any, hub_aws: HubAws, tap: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Given an event that another consumer has claimed and is processing right now
    [event_id] = json.loads(post(receiver, json.dumps(payload("BUSY")))["body"])["event_ids"]
    state, _ = delivery.claim(event_id)
    assert state == "claimed"
    # When this consumer gets a copy
    result = consume(hub_aws)
    # Then the copy is retried after the other's lease (not consumed, not published)
    assert len(result["batchItemFailures"]) == 1
    assert bus_events(hub_aws, tap) == []
    [warning] = [r for r in caplog.records if getattr(r, "error", None) == "RequestInProgressError"]
    assert warning.levelname == "WARNING"
    assert 1 <= getattr(warning, "retry_in_seconds", 0) <= delivery.LEASE_SECONDS
    # And once the other consumer delivered it, any copy is a duplicate
    delivery.mark_delivered(event_id)
    assert delivery.claim(event_id) == ("delivered", "")


def test_delivery_marks_outlive_every_receivers_dedupe_window() -> None:
    # A mark that expired before the receiver's dedupe record would make a redelivery look lost.
    assert all(webhook_spec(p).dedupe_ttl_seconds < delivery.DELIVERY_TTL_SECONDS for p in webhook_providers())
