"""Enqueue normalised events unless they already reached the bus.

An event counts as delivered only once the consumer put it on the EventBridge bus
(:mod:`hub.webhooks.delivery`), and that ledger is the one dedupe record: a receiver reads the
delivery marks of its events (one strongly consistent read) and enqueues every event that is
not marked delivered — a new one, a redelivery of one still in flight, one that failed in the
consumer until the DLQ and was purged. The consumer's claim keeps the bus at one publication
when two copies are in flight.

Nothing is written before the enqueue, so nothing needs undoing when it fails: the receiver
answers 503 and the provider's retry is enqueued like the first attempt (never swallowed as a
duplicate). One conditional write per delivery (the former Powertools record, in progress and
then completed) is gone from the warm path: it could only say "seen", never "delivered".
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

_SQS_BATCH = 10  # SendMessageBatch takes at most 10 entries


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


def _message(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "MessageBody": json.dumps(event, ensure_ascii=False),
        "MessageAttributes": {
            "type": {"DataType": "String", "StringValue": event["type"]},
            "provider": {"DataType": "String", "StringValue": event["provider"]},
            "org_id": {"DataType": "String", "StringValue": event["org_id"]},
        },
    }


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
