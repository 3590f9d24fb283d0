"""Put normalised events on the inbound queue.

An event counts as delivered only once the consumer put it on the EventBridge bus, and the
consumer's delivery ledger (:mod:`hub.webhooks.delivery`) is the one dedupe record: a copy of a
delivered event is skipped there, whoever enqueued it.

* A live receiver writes nothing before its enqueue, so nothing needs undoing when the enqueue
  fails: it answers 503 and the provider's retry is a first attempt again (never swallowed as a
  duplicate). Its usual message carries the request's archive document too
  (:func:`send_carrying_archive`): one AWS call to acknowledge a delivery. The former
  Powertools record per delivery (a conditional put in progress, then an update to completed)
  is gone: it could only say "seen", and a seen event was enqueued again anyway unless the
  ledger said delivered.
* A replay (:mod:`hub.webhooks.replay`) reads the ledger first (:func:`split_delivered`, one
  strongly consistent read) so the operator's report lists what is already on the bus as
  duplicates and enqueues only the rest.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hub.aws import aws_client
from hub.config import get_settings
from hub.errors import ProviderUnavailableError
from hub.events import HubEvent
from hub.observability import logger
from hub.webhooks import delivery
from hub.webhooks.archive import CARRIED_DOCUMENT, CARRIED_KEY

_SQS_BATCH = 10  # SendMessageBatch takes at most 10 entries
# What one message may hold, body and attributes together (names, types and values count):
# 262,144 bytes by default, up to 1 MiB if the queue is configured for it; we stay under the
# default so any queue takes it. A larger archive is written to S3 first (claim check).
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html
SQS_MAX_MESSAGE_BYTES = 262_144


def split_delivered(events: Sequence[HubEvent]) -> tuple[list[HubEvent], int]:
    """``(to_enqueue, duplicates)``: the events not yet on the bus, and how many are. If the
    ledger cannot be read every event is enqueued: the consumer's claim skips what is on the
    bus, so an unreadable ledger costs a queue message, never an event."""
    try:
        delivered = delivery.delivered_ids([event.event_id for event in events])
    except Exception:  # noqa: BLE001 - enqueueing is safe; refusing the provider would only delay
        logger.exception("webhook_dedupe_unavailable", extra={"events": len(events)})
        delivered = set()
    fresh = [event for event in events if event.event_id not in delivered]
    return fresh, len(events) - len(fresh)


def _message(event: dict[str, Any], carried: tuple[str, bytes] | None = None) -> dict[str, Any]:
    attributes = {
        "type": {"DataType": "String", "StringValue": event["type"]},
        "provider": {"DataType": "String", "StringValue": event["provider"]},
        "org_id": {"DataType": "String", "StringValue": event["org_id"]},
    }
    if carried is not None:
        key, document = carried
        attributes[CARRIED_KEY] = {"DataType": "String", "StringValue": key}
        attributes[CARRIED_DOCUMENT] = {"DataType": "String", "StringValue": document.decode("utf-8")}
    return {"MessageBody": json.dumps(event, ensure_ascii=False), "MessageAttributes": attributes}


def _size(message: dict[str, Any]) -> int:
    size = len(message["MessageBody"].encode("utf-8"))
    for name, value in message["MessageAttributes"].items():
        size += len(name.encode()) + len(value["DataType"]) + len(value["StringValue"].encode("utf-8"))
    return size


def send_carrying_archive(event: HubEvent, key: str, document: bytes) -> bool:
    """Enqueue one event with its request's archive document in the same message (the
    consumer writes it to S3 before it processes the event): one AWS call for the receiver.
    False, with nothing sent, when the message would be too large for SQS — the caller then
    writes the archive itself first (claim check) and sends the event alone."""
    get_settings().require("webhook_archive_bucket")  # the consumer writes there: fail now, not then
    message = _message(event.model_dump(mode="json"), (key, document))
    if _size(message) > SQS_MAX_MESSAGE_BYTES:
        return False
    aws_client("sqs").send_message(QueueUrl=get_settings().require("inbound_events_queue_url"), **message)
    return True


def enqueue(events: Sequence[HubEvent]) -> None:
    """Put the events on the inbound queue: one SendMessage, or SendMessageBatch for several.
    ProviderUnavailableError if any entry was refused (the caller answers 503 and the provider
    retries; entries that did get through are skipped later by the consumer's claim)."""
    if not events:
        return
    sqs = aws_client("sqs")
    queue_url = get_settings().require("inbound_events_queue_url")
    bodies = [event.model_dump(mode="json") for event in events]
    if len(bodies) == 1:
        sqs.send_message(QueueUrl=queue_url, **_message(bodies[0]))
        return
    for i in range(0, len(bodies), _SQS_BATCH):
        entries = [{"Id": str(n), **_message(body)} for n, body in enumerate(bodies[i : i + _SQS_BATCH])]
        response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        if response.get("Failed"):
            raise ProviderUnavailableError(
                f"SQS refused {len(response['Failed'])} of {len(entries)} events", provider="sqs"
            )


def publish_once(event: HubEvent, *, ttl_seconds: int | None = None) -> bool:
    """Enqueue the event unless it already reached the bus. Returns True if it was enqueued
    (new, or seen before but never delivered), False for a duplicate. ``ttl_seconds`` is
    accepted for callers of the former API; the ledger keeps delivery marks longer than any
    provider's retry window (:data:`hub.webhooks.delivery.DELIVERY_TTL_SECONDS`)."""
    fresh, _ = split_delivered([event])
    enqueue(fresh)
    return bool(fresh)
