"""Enqueue a normalised event once per provider delivery id — and again if it never got out.

Powertools Idempotency (DynamoDB) keyed on org + provider + the provider's event id,
remembered for the provider's retry window (not the 1 h default). If the enqueue fails
the idempotency record is removed, so the provider's retry can succeed.

An enqueued event is not yet a delivered one: it counts as delivered only once the consumer
put it on the EventBridge bus (:mod:`hub.webhooks.delivery`). So a repeat of a delivery we
enqueued before (the provider's redelivery, an operator's replay) is enqueued again unless its
event is marked delivered; the consumer's ledger keeps the bus at one publication even when
two copies are in flight.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from hub.aws import aws_client
from hub.config import get_settings
from hub.events import HubEvent
from hub.idempotency import once_per_key
from hub.observability import logger, metrics
from hub.webhooks import delivery


def _mark_duplicate(response: Any, idempotent_data: DataRecord) -> Any:
    # Called only when a stored result is returned, i.e. for a repeated delivery.
    return {**response, "duplicate": True}


def _enqueue(event: dict[str, Any]) -> dict[str, Any]:
    aws_client("sqs").send_message(
        QueueUrl=get_settings().require("inbound_events_queue_url"),
        MessageBody=json.dumps(event, ensure_ascii=False),
        MessageAttributes={
            "type": {"DataType": "String", "StringValue": event["type"]},
            "provider": {"DataType": "String", "StringValue": event["provider"]},
            "org_id": {"DataType": "String", "StringValue": event["org_id"]},
        },
    )
    return {"event_id": event["event_id"], "duplicate": False}


@cache
def _config(ttl_seconds: int) -> IdempotencyConfig:
    return IdempotencyConfig(
        event_key_jmespath="[org_id, provider, dedupe_key]",
        expires_after_seconds=ttl_seconds,
        raise_on_no_idempotency_key=True,
        response_hook=_mark_duplicate,
    )


@cache
def _publisher(ttl_seconds: int) -> Callable[..., dict[str, Any]]:
    return once_per_key(
        _enqueue,
        data_keyword_argument="event",
        key_prefix="webhook-event",
        config=_config(ttl_seconds),
        ttl_seconds=ttl_seconds,
    )


def register_lambda_context(context: Any, ttl_seconds: int) -> None:
    """Lets Powertools expire an in-progress record if this invocation times out."""
    _config(ttl_seconds).register_lambda_context(context)


def publish_once(event: HubEvent, *, ttl_seconds: int) -> bool:
    """Enqueue the event unless it already reached the bus. Returns True if it was enqueued
    (new, or seen before but never delivered), False for a duplicate."""
    body = event.model_dump(mode="json")
    try:
        result = _publisher(ttl_seconds)(event=body)
    except IdempotencyAlreadyInProgressError:
        # The same delivery is being received concurrently: it is not lost (if that
        # attempt fails the provider retries it), and this copy must not make a second event.
        return False
    if not result.get("duplicate", False):
        return True
    if delivery.is_delivered(event.event_id):
        return False
    # Received before but never on the bus (failed until the DLQ, purged, or still in flight):
    # enqueue it again. If a copy is still in flight the consumer's ledger publishes only one.
    _enqueue(body)
    metrics.add_metric(name="WebhookRequeued", unit="Count", value=1)
    logger.info(
        "webhook_event_requeued",
        extra={"event_id": event.event_id, "provider": event.provider, "org_id": event.org_id},
    )
    return True
