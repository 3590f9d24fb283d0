"""InboundEventsProcess over a batch: the receivers' archives written before anything is
processed, the claims and the contacts' updates side by side, one PutEvents per 10 entries,
one BatchWriteItem of delivery marks — and every failure point still loses nothing and publishes nothing twice."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import botocore.client
import pytest

from hub import eventlog
from hub.eventlog import EventQuery
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
    # with one PutEvents and one BatchWriteItem for the ten (not ten of each), one conditional
    # claim each (side by side; no transaction: twice the write units, and one taken id cancels it)
    assert aws_calls["PutEvents"] == aws_calls["BatchWriteItem"] == 1
    assert aws_calls["PutItem"] == 10
    assert aws_calls["TransactWriteItems"] == 0
    # the contacts' last inbound (one per message), and each event's record in the event log
    # (one per event, side by side: hub.eventlog, a record is updated on a retry, not duplicated)
    assert aws_calls["UpdateItem"] == 10 + 10
    assert {eventlog.get_event(e["detail"]["event_id"]).status for e in published} == {"delivered"}  # type: ignore[union-attr]
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
    # and the event log shows the refused event's two attempts on its one record (the console's view)
    detail = eventlog.get_event(refused[0])
    assert detail is not None and detail.status == "delivered"
    assert [(a.outcome, a.error_class) for a in detail.attempts] == [
        ("failed", "ProviderUnavailableError"),
        ("delivered", None),
    ]
    [issue] = eventlog.list_issues(org_id="acme")
    assert (issue.provider, issue.error_class, issue.count) == ("evolution", "ProviderUnavailableError", 1)


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
    # and the event log lists the skipped copy as a duplicate, the new ones as delivered
    statuses = {e.record_id: e.status for e in eventlog.query_events(EventQuery(org_id="acme")).items}
    assert sorted(statuses.values()) == ["delivered", "delivered", "duplicate"]
    assert statuses[old] == "duplicate"


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
    # and the event log neither lists a failure nor opens an issue: the lease holder records its outcome
    assert eventlog.query_events(EventQuery(org_id="acme")).items == []
    assert eventlog.list_issues() == []


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


def _whatsapp(message_id: str, phone: str, text: str) -> dict[str, Any]:
    """An Evolution message from ``phone`` (digits) saying ``text``, all at the same instant."""
    body = payload(message_id, message={"conversation": text})
    body["data"]["key"]["remoteJid"] = f"{phone}@s.whatsapp.net"
    return body


def _batch_of(hub_aws: HubAws, receiver: Any, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The messages' records in exactly this order (as one SQS batch)."""
    for body in messages:
        assert post(receiver, json.dumps(body))["statusCode"] == 200
    batch = hub_aws.as_sqs_event(hub_aws.env["INBOUND_EVENTS_QUEUE_URL"], take_queued(hub_aws))
    order = [m["data"]["key"]["id"] for m in messages]
    batch["Records"].sort(key=lambda r: order.index(json.loads(r["body"])["data"]["message_id"]))
    return batch


def test_contacts_are_updated_side_by_side_and_one_contacts_messages_in_queue_order(
    receiver: Any, hub_aws: HubAws, tap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub.messaging import contacts

    # Given one batch: Maria says "SAIR", João says hello, Maria says "VOLTAR" (same instant)
    batch = _batch_of(
        hub_aws,
        receiver,
        [
            _whatsapp("MARIA-1", "5511987654321", "SAIR"),
            _whatsapp("JOAO-1", "5511912340000", "oi"),
            _whatsapp("MARIA-2", "5511987654321", "VOLTAR"),
        ],
    )
    # and a contacts table where Maria's first update is slow: it finishes only once João's is done
    original = contacts.record_inbound
    joao_done = threading.Event()
    seen: list[str] = []

    def record_inbound(*args: Any, message_id: str, **kwargs: Any) -> None:
        seen.append(f"start {message_id}")
        if message_id == "MARIA-1":
            joao_done.wait(timeout=5)  # a condition, not a sleep: João's lane sets it
            seen.append(f"MARIA-1 saw joao_done={joao_done.is_set()}")
        original(*args, message_id=message_id, **kwargs)
        seen.append(f"end {message_id}")
        if message_id == "JOAO-1":
            joao_done.set()

    monkeypatch.setattr(contacts, "record_inbound", record_inbound)
    # When the consumer takes the batch
    assert consume_batch(batch) == {"batchItemFailures": []}
    # Then João's contact was updated while Maria's first message was still being applied
    assert "MARIA-1 saw joao_done=True" in seen
    # and Maria's second message waited for her first: applied after it, so she is opted back in
    assert seen.index("start MARIA-2") > seen.index("end MARIA-1")
    maria = contacts.get_channel_state("acme", "whatsapp", "+5511987654321")
    assert maria.consent_status == "opted_in"
    assert len(bus_events(hub_aws, tap)) == 3


def test_a_failed_contact_update_fails_only_its_record_and_its_retry_applies_it(
    receiver: Any, hub_aws: HubAws, tap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    from hub.messaging import contacts

    # Given three messages from three contacts, and a contacts table that throttles the second's update
    batch = _batch_of(
        hub_aws,
        receiver,
        [
            _whatsapp("ONE-1", "5511900000001", "oi"),
            _whatsapp("TWO-1", "5511900000002", "oi"),
            _whatsapp("THREE-1", "5511900000003", "oi"),
        ],
    )
    original = contacts.record_inbound

    def throttled(*args: Any, message_id: str, **kwargs: Any) -> None:
        if message_id == "TWO-1":
            error = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}
            raise ClientError(error, "UpdateItem")  # type: ignore[arg-type]
        original(*args, message_id=message_id, **kwargs)

    monkeypatch.setattr(contacts, "record_inbound", throttled)
    # When the consumer takes the batch
    result = consume_batch(batch)
    # Then only that record fails; the two others are on the bus and marked delivered
    [failed] = [r for r in batch["Records"] if json.loads(r["body"])["data"]["message_id"] == "TWO-1"]
    assert result == {"batchItemFailures": [{"itemIdentifier": failed["messageId"]}]}
    published = {e["detail"]["data"]["message_id"] for e in bus_events(hub_aws, tap)}
    assert published == {"ONE-1", "THREE-1"}
    assert not delivery.is_delivered(json.loads(failed["body"])["event_id"])
    assert contacts.get_channel_state("acme", "whatsapp", "+5511900000002").last_inbound_at is None
    # And its claim was given back: the redelivered record is applied and published at once
    monkeypatch.setattr(contacts, "record_inbound", original)
    assert consume_batch({"Records": [failed]}) == {"batchItemFailures": []}
    assert {e["detail"]["data"]["message_id"] for e in bus_events(hub_aws, tap)} == {"TWO-1"}
    assert contacts.get_channel_state("acme", "whatsapp", "+5511900000002").last_inbound_at is not None
