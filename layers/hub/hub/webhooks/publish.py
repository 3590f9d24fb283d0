"""Publish a normalised event exactly once per provider delivery id.

Powertools Idempotency (DynamoDB) keyed on org + provider + the provider's event id,
remembered for the provider's retry window (not the 1 h default). If the enqueue fails
the idempotency record is removed, so the provider's retry can succeed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from hub.aws import aws_client
from hub.config import get_settings
from hub.events import HubEvent
from hub.idempotency import persistence_store


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
    decorated: Callable[..., dict[str, Any]] = idempotent_function(
        _enqueue,
        data_keyword_argument="event",
        persistence_store=persistence_store(f"webhook-event:{ttl_seconds}"),
        config=_config(ttl_seconds),
        key_prefix="webhook-event",
    )
    return decorated


def register_lambda_context(context: Any, ttl_seconds: int) -> None:
    """Lets Powertools expire an in-progress record if this invocation times out."""
    _config(ttl_seconds).register_lambda_context(context)


def publish_once(event: HubEvent, *, ttl_seconds: int) -> bool:
    """Enqueue the event unless this delivery was seen before. Returns True if new."""
    try:
        result = _publisher(ttl_seconds)(event=event.model_dump(mode="json"))
    except IdempotencyAlreadyInProgressError:
        # The same delivery is being processed concurrently: it is not lost (if that
        # attempt fails the provider retries it), and this copy must not make a second event.
        return False
    return not result.get("duplicate", False)
