"""InboundEventsProcess over a batch: the receivers' archives written before anything is
processed, one claim transaction, one PutEvents per 10 entries, one BatchWriteItem of delivery
marks — and every failure point still loses nothing and publishes nothing twice."""

from __future__ import annotations

import json
import time
from typing import Any

import botocore.client
import pytest

from hub.webhooks import delivery
from tests.aws.conftest import HubAws
from tests.aws.inbound_queue import bus_events, counted_aws_calls, take_queued
from tests.aws.test_webhook_evolution import SECRET, payload, post
from tests.helpers import FakeLambdaContext, load_function


@pytest.fixture
def receiver(hub_aws: HubAws) -> Any:
    hub_aws.put_secret("acme", "evolution", SECRET)
    return load_function("webhook_evolution")


@pytest.fixture
def tap(hub_aws: HubAws) -> str:
    return hub_aws.bus_tap("batch-tap", {"detail-type": ["message.received"]})


def queued_batch(hub_aws: HubAws, receiver: Any, ids: list[str]) -> dict[str, Any]:
    """The receiver's messages for ``ids`` as Lambda's SQS event (received, not deleted)."""
    for message_id in ids:
        assert post(receiver, json.dumps(payload(message_id)))["statusCode"] == 200
    return hub_aws.as_sqs_event(hub_aws.env["INBOUND_EVENTS_QUEUE_URL"], take_queued(hub_aws))


def consume_batch(batch: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = load_function("inbound_events_process").handler(
        batch, FakeLambdaContext("InboundEventsProcess")
    )
    return result


def test_a_batch_is_archived_claimed_published_and_marked_in_batched_calls(
    receiver: Any, hub_aws: HubAws, tap: str
) -> None:
    # Given ten new messages, each carrying its request's archive
    batch = queued_batch(hub_aws, receiver, [f"BATCH-{i}" for i in range(10)])
    assert hub_aws.archived_keys() == []
    # When the consumer takes them in one invocation
    with counted_aws_calls() as aws_calls:
        assert consume_batch(batch) == {"batchItemFailures": []}
    # Then every request is archived and every event is on the bus once, marked delivered
    published = bus_events(hub_aws, tap)
    assert sorted(e["detail"]["raw_ref"] for e in published) == sorted(hub_aws.archived_keys())
    assert len(published) == 10
    assert all(delivery.is_delivered(e["detail"]["event_id"]) for e in published)
    # with one claim transaction, one PutEvents and one BatchWriteItem for the ten (not ten of each)
    assert aws_calls["TransactWriteItems"] == aws_calls["PutEvents"] == aws_calls["BatchWriteItem"] == 1
    assert aws_calls["PutItem"] == 0
    assert aws_calls["PutObject"] == 10


def test_a_record_whose_bus_entry_is_refused_fails_alone_and_its_retry_publishes_it(
    receiver: Any, hub_aws: HubAws, tap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given three messages, and a bus that refuses the second entry of the next PutEvents
    batch = queued_batch(hub_aws, receiver, ["P-1", "P-2", "P-3"])
    original = botocore.client.BaseClient._make_api_call
    refused: list[str] = []

    def refuse_second(self: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation != "PutEvents" or refused:
            return original(self, operation, params)
        entries = params["Entries"]
        refused.append(json.loads(entries[1]["Detail"])["event_id"])
        answer = original(self, operation, {**params, "Entries": [entries[0], *entries[2:]]})
        answer["Entries"].insert(1, {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"})
        answer["FailedEntryCount"] = 1
        return answer

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", refuse_second)
    # When the consumer takes them
    result = consume_batch(batch)
    # Then only that record fails; the two others are done (but the refused one is not marked)
    [failed] = [r for r in batch["Records"] if json.loads(r["body"])["event_id"] == refused[0]]
    assert result == {"batchItemFailures": [{"itemIdentifier": failed["messageId"]}]}
    assert not delivery.is_delivered(refused[0])
    # And its claim was given back: the redelivered record publishes it at once
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", original)
    assert consume_batch({"Records": [failed]}) == {"batchItemFailures": []}
    assert sorted(e["detail"]["event_id"] for e in bus_events(hub_aws, tap)) == sorted(
        json.loads(r["body"])["event_id"] for r in batch["Records"]
    )


def test_a_batch_with_a_delivered_copy_publishes_only_the_new_events(receiver: Any, hub_aws: HubAws, tap: str) -> None:
    # Given a batch where one event is already on the bus (the claim transaction cannot succeed)
    batch = queued_batch(hub_aws, receiver, ["NEW-1", "OLD-1", "NEW-2"])
    old = next(json.loads(r["body"])["event_id"] for r in batch["Records"] if "OLD-1" in r["body"])
    delivery.mark_delivered(old)
    # When the consumer takes it
    assert consume_batch(batch) == {"batchItemFailures": []}
    # Then the new events are published and the delivered one skipped (its archive still written)
    assert old not in {e["detail"]["event_id"] for e in bus_events(hub_aws, tap)}
    assert len(hub_aws.archived_keys()) == 3


def test_a_consumer_that_crashed_after_archiving_is_safe_to_redeliver(
    receiver: Any, hub_aws: HubAws, tap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub.inbound import InboundBatch

    # Given a consumer that wrote the archives and claimed the events, then died
    batch = queued_batch(hub_aws, receiver, ["CRASH-1", "CRASH-2"])
    InboundBatch().prepare(batch["Records"])
    keys = sorted(hub_aws.archived_keys())
    assert len(keys) == 2
    bucket = hub_aws.env["WEBHOOK_ARCHIVE_BUCKET"]
    before = {k: hub_aws.client("s3").get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}
    # When SQS redelivers the records after their visibility timeout (the leases have expired)
    later = time.time() + delivery.LEASE_SECONDS + 1
    monkeypatch.setattr(delivery.time, "time", lambda: later)
    assert consume_batch(batch) == {"batchItemFailures": []}
    # Then each event is on the bus once and the archives are the same objects, written again
    assert len(bus_events(hub_aws, tap)) == 2
    assert sorted(hub_aws.archived_keys()) == keys
    assert {k: hub_aws.client("s3").get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys} == before


def test_a_redelivery_while_the_crashed_lease_holds_waits(receiver: Any, hub_aws: HubAws, tap: str) -> None:
    from hub.inbound import InboundBatch

    # Given a consumer that claimed the event and died a moment ago
    batch = queued_batch(hub_aws, receiver, ["HELD-1"])
    InboundBatch().prepare(batch["Records"])
    # When the record comes back before the lease ends
    result = consume_batch(batch)
    # Then it fails (retried after the lease), and nothing is published
    assert len(result["batchItemFailures"]) == 1
    assert bus_events(hub_aws, tap) == []


def test_a_message_cannot_write_an_archive_outside_its_events_raw_ref(receiver: Any, hub_aws: HubAws, tap: str) -> None:
    # Given a queued message whose carried archive names another key than its event's raw_ref
    batch = queued_batch(hub_aws, receiver, ["ELSEWHERE-1"])
    [record] = batch["Records"]
    record["messageAttributes"]["archive_key"]["stringValue"] = "reports/overwrite-me.json"
    # When the consumer takes it
    assert consume_batch(batch) == {"batchItemFailures": []}  # rejected: consumed, never retried
    # Then nothing is written and nothing is processed
    assert hub_aws.archived_keys() == []
    assert bus_events(hub_aws, tap) == []
