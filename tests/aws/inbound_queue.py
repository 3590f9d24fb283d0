"""What happens after the receivers: take the inbound queue's messages and run them through
the real consumer (InboundEventsProcess), or only record them as delivered."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import botocore.client

from tests.aws.conftest import HubAws
from tests.helpers import FakeLambdaContext, load_function


def take_queued(hub_aws: HubAws) -> list[dict[str, Any]]:
    """Receive (hidden for a minute) every message on the inbound queue."""
    sqs = hub_aws.client("sqs")
    out: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=hub_aws.env["INBOUND_EVENTS_QUEUE_URL"],
            MaxNumberOfMessages=10,
            VisibilityTimeout=60,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],  # as Lambda's SQS mapping hands them over (the carried archive)
        ).get("Messages", [])
        if not batch:
            return out
        out.extend(batch)


def purge(hub_aws: HubAws) -> int:
    """What an operator's purge of the queue (or of the DLQ it ended in) does: every message,
    in flight or not, is gone. Returns how many there were."""
    sqs = hub_aws.client("sqs")
    url = hub_aws.env["INBOUND_EVENTS_QUEUE_URL"]
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    sqs.purge_queue(QueueUrl=url)
    return sum(int(attributes[n]) for n in names)


def consume(hub_aws: HubAws) -> dict[str, Any]:
    """One invocation of InboundEventsProcess over every queued message, as the SQS mapping
    makes it: successes are deleted, failures stay (hidden for their backoff)."""
    messages = take_queued(hub_aws)
    if not messages:
        return {"batchItemFailures": []}
    event = hub_aws.as_sqs_event(hub_aws.env["INBOUND_EVENTS_QUEUE_URL"], messages)
    result: dict[str, Any] = load_function("inbound_events_process").handler(
        event, FakeLambdaContext("InboundEventsProcess")
    )
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    for m in messages:
        if m["MessageId"] not in failed:
            hub_aws.client("sqs").delete_message(
                QueueUrl=hub_aws.env["INBOUND_EVENTS_QUEUE_URL"], ReceiptHandle=m["ReceiptHandle"]
            )
    return result


def mark_queued_delivered(hub_aws: HubAws) -> set[str]:
    """Take every queued event and record it as on the bus, as the consumer does after
    put_events (for receivers whose consumer side would call a provider)."""
    from hub.webhooks import delivery

    ids: set[str] = set()
    sqs = hub_aws.client("sqs")
    for m in take_queued(hub_aws):
        event_id = json.loads(m["Body"])["event_id"]
        delivery.mark_delivered(event_id)
        ids.add(event_id)
        sqs.delete_message(QueueUrl=hub_aws.env["INBOUND_EVENTS_QUEUE_URL"], ReceiptHandle=m["ReceiptHandle"])
    return ids


def bus_events(hub_aws: HubAws, tap_url: str) -> list[dict[str, Any]]:
    """Every event the tap queue received from the bus so far (consumed)."""
    sqs = hub_aws.client("sqs")
    out: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=tap_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return out
        for m in batch:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=tap_url, ReceiptHandle=m["ReceiptHandle"])


@contextmanager
def counted_aws_calls() -> Iterator[Counter[str]]:
    """Every AWS operation made inside the block, counted by name (``PutObject``, ``SendMessage``…)."""
    calls: Counter[str] = Counter()
    original = botocore.client.BaseClient._make_api_call

    def counted(self: Any, operation: str, params: dict[str, Any]) -> Any:
        calls[operation] += 1
        return original(self, operation, params)

    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", counted):
        yield calls
