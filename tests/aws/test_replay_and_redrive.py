"""Operator tools: replay from the raw archive (dedupe holds) and DLQ redrive."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.config import get_settings
from hub.webhooks.replay import archived_keys, replay
from tests.aws.conftest import HubAws
from tests.aws.inbound_queue import consume
from tests.aws.test_webhook_evolution import SECRET, payload, post
from tests.helpers import ROOT, load_function


@pytest.fixture
def receiver(hub_aws: HubAws) -> Any:
    hub_aws.put_secret("acme", "evolution", SECRET)
    return load_function("webhook_evolution")


def test_replay_publishes_what_a_failed_enqueue_lost_and_nothing_twice(
    receiver: Any, hub_aws: HubAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a delivery that was archived but could not be enqueued (503): one too large to carry
    # its archive in the queue message, which the receiver archives to S3 first
    queue = hub_aws.env["INBOUND_EVENTS_QUEUE_URL"]
    monkeypatch.setenv("INBOUND_EVENTS_QUEUE_URL", queue + "-down")
    get_settings.cache_clear()
    big = payload("LOST-1", message={"conversation": "x" * 300_000})
    assert post(receiver, json.dumps(big))["statusCode"] == 503
    monkeypatch.setenv("INBOUND_EVENTS_QUEUE_URL", queue)
    get_settings.cache_clear()
    # and one that went through to the bus
    assert post(receiver, json.dumps(payload("OK-1")))["statusCode"] == 200
    assert consume(hub_aws) == {"batchItemFailures": []}

    # When the operator replays the day's archive
    now = datetime.now(UTC)
    keys = list(archived_keys("evolution", "acme", now - timedelta(hours=1), now + timedelta(minutes=1)))
    report = replay(keys)

    # Then only the lost event is published (from an archive without Evolution's apikey); the
    # other is a duplicate
    assert len(keys) == 2
    bucket = hub_aws.env["WEBHOOK_ARCHIVE_BUCKET"]
    for key in keys:
        archived = hub_aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        assert payload()["apikey"] not in archived
    assert len(report.replayed) == 1 and len(report.duplicates) == 1
    bodies = [json.loads(m["Body"]) for m in hub_aws.queue_messages("INBOUND_EVENTS_QUEUE_URL")]
    assert [b["dedupe_key"] for b in bodies] == ["LOST-1"]
    # And once it reached the bus, replaying again changes nothing
    assert consume(hub_aws) == {"batchItemFailures": []}
    again = replay(keys)
    assert again.replayed == [] and len(again.duplicates) == 2
    assert hub_aws.queue_messages("INBOUND_EVENTS_QUEUE_URL") == []


def test_replay_by_event_id_selects_only_that_event(receiver: Any, hub_aws: HubAws) -> None:
    post(receiver, json.dumps(payload("A")))
    post(receiver, json.dumps(payload("B")))
    [message_a, _] = sorted(
        (json.loads(m["Body"]) for m in hub_aws.queue_messages("INBOUND_EVENTS_QUEUE_URL")),
        key=lambda b: str(b["dedupe_key"]),
    )
    assert consume(hub_aws) == {"batchItemFailures": []}
    now = datetime.now(UTC)
    keys = list(archived_keys("evolution", "acme", now - timedelta(hours=1), now + timedelta(minutes=1)))
    report = replay(keys, event_id=message_a["event_id"])
    assert report.replayed == [] and len(report.duplicates) == 1  # already on the bus: dedupe holds


def test_redrive_moves_dlq_messages_back_with_their_attributes(hub_aws: HubAws) -> None:
    sqs = hub_aws.client("sqs")
    dlq = hub_aws.env["INBOUND_EVENTS_QUEUE_URL"].replace("inboundeventsqueue", "inboundeventsdlq")
    for i in range(3):
        sqs.send_message(
            QueueUrl=dlq,
            MessageBody=json.dumps({"n": i}),
            MessageAttributes={"type": {"DataType": "String", "StringValue": "message.received"}},
        )
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'layers' / 'hub'}{os.pathsep}{ROOT}",
    }
    out = subprocess.run(
        [sys.executable, "-m", "ops", "--local", "--endpoint", hub_aws.endpoint, "redrive"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"moved": 3}
    moved = hub_aws.queue_messages("INBOUND_EVENTS_QUEUE_URL")
    assert sorted(json.loads(m["Body"])["n"] for m in moved) == [0, 1, 2]
    assert {m["MessageAttributes"]["type"]["StringValue"] for m in moved} == {"message.received"}
    assert sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=0).get("Messages") is None
