"""When an inbound event counts as delivered: once it is on the hub's EventBridge bus.

The receiver's dedupe (:mod:`hub.webhooks.publish`) remembers that a provider delivery was
*received and enqueued*; it cannot know whether the event ever got through the consumer
(``InboundEventsProcess``) to the bus — it may have failed there until the DLQ and been
purged. So the consumer keeps a delivery ledger, one item per event id in the idempotency
table (``id = "delivery#<event_id>"``, same TTL attribute ``expiration``):

* ``in_progress`` with ``lease_until``: a consumer is processing the event right now. It is
  claimed with a conditional write, so two copies of one event (a redelivery enqueued while
  the first copy was still in flight, an operator replay, a redrive) never run side by side;
  the second copy fails with ``RequestInProgressError`` and comes back after the lease.
* ``delivered``: ``put_events`` succeeded. Every later copy is skipped (counted, not
  published again), whoever enqueued it.

This ledger is the receivers' dedupe too: before enqueuing, a receiver reads the marks of its
events (:func:`delivered_ids`, one strongly consistent read, in parallel with the archive
write): delivered → a duplicate, answered 200 and not enqueued; anything else (new, in flight,
failed until the DLQ) → enqueued, and the consumer's claim keeps the bus at one publication.

Delivery marks live longer than every receiver's dedupe window (the longest is Asaas's 30
days, see :mod:`hub.webhooks.specs`), so a redelivery is never mistaken for a lost event.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import Executor
from typing import Any, Literal

from botocore.exceptions import ClientError

from hub.aws import aws_client
from hub.config import get_settings
from hub.errors import ProviderUnavailableError, RequestInProgressError

DAY = 24 * 3600
DELIVERY_TTL_SECONDS = 35 * DAY
# Longer than the consumer's 30 s timeout: a lease outlives the invocation that took it, and
# a crashed one's lease has expired by the time SQS makes its message visible again (180 s).
LEASE_SECONDS = 60

Claim = Literal["claimed", "delivered"]
_BATCH_READ_ATTEMPTS = 5


def _key(event_id: str) -> dict[str, dict[str, str]]:
    return {"id": {"S": f"delivery#{event_id}"}}


def _table() -> str:
    return get_settings().require("idempotency_table")


def is_delivered(event_id: str) -> bool:
    """True once the event is on the bus (a strongly consistent read)."""
    item = (
        aws_client("dynamodb")
        .get_item(
            TableName=_table(),
            Key=_key(event_id),
            ConsistentRead=True,
            ProjectionExpression="#s",
            ExpressionAttributeNames={"#s": "state"},
        )
        .get("Item")
    )
    return bool(item) and item["state"]["S"] == "delivered"


def delivered_ids(event_ids: list[str]) -> set[str]:
    """The ids among ``event_ids`` already on the bus: one strongly consistent read (GetItem for
    one id, BatchGetItem for several, its unprocessed keys asked again)."""
    unique = list(dict.fromkeys(event_ids))
    if not unique:
        return set()
    if len(unique) == 1:
        return set(unique) if is_delivered(unique[0]) else set()
    delivered: set[str] = set()
    client = aws_client("dynamodb")
    names = {"#s": "state", "#i": "id"}
    for i in range(0, len(unique), 100):  # BatchGetItem reads at most 100 keys per call
        pending: dict[str, Any] = {
            _table(): {
                "Keys": [_key(e) for e in unique[i : i + 100]],
                "ConsistentRead": True,
                "ProjectionExpression": "#i, #s",
                "ExpressionAttributeNames": names,
            }
        }
        for _attempt in range(_BATCH_READ_ATTEMPTS):
            response = client.batch_get_item(RequestItems=pending)
            for item in response.get("Responses", {}).get(_table(), []):
                if item["state"]["S"] == "delivered":
                    delivered.add(item["id"]["S"].removeprefix("delivery#"))
            pending = response.get("UnprocessedKeys") or {}
            if not pending:
                break
        else:
            raise ProviderUnavailableError("DynamoDB left delivery marks unread", provider="dynamodb")
    return delivered


_CLAIM_CONDITION = "attribute_not_exists(id) OR (#s = :busy AND lease_until < :now) OR expiration < :now"


def _claim_put(event_id: str, token: str, now: float) -> dict[str, Any]:
    return {
        "TableName": _table(),
        "Item": {
            **_key(event_id),
            "state": {"S": "in_progress"},
            "token": {"S": token},
            "lease_until": {"N": str(int(now) + LEASE_SECONDS)},
            "expiration": {"N": str(int(now) + DELIVERY_TTL_SECONDS)},
        },
        # Free, an expired lease, or an expired mark DynamoDB has not removed yet.
        "ConditionExpression": _CLAIM_CONDITION,
        "ExpressionAttributeNames": {"#s": "state"},
        "ExpressionAttributeValues": {":busy": {"S": "in_progress"}, ":now": {"N": str(int(now))}},
    }


def claim(event_id: str, *, now: float | None = None) -> tuple[Claim, str]:
    """Take the event for processing: ``("claimed", token)`` or ``("delivered", "")`` when it
    is already on the bus. Raises RequestInProgressError while another consumer holds it."""
    now = time.time() if now is None else now
    token = uuid.uuid4().hex
    try:
        aws_client("dynamodb").put_item(**_claim_put(event_id, token, now))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
    else:
        return "claimed", token
    item = aws_client("dynamodb").get_item(TableName=_table(), Key=_key(event_id), ConsistentRead=True).get("Item")
    if item and item["state"]["S"] == "delivered":
        return "delivered", ""
    lease_until = float(item["lease_until"]["N"]) if item else now
    raise RequestInProgressError(
        f"event {event_id} is being processed by another consumer",
        retry_after=max(1.0, lease_until - now),
        code="delivery_in_progress",
    )


def claim_many(
    event_ids: list[str], *, now: float | None = None, executor: Executor | None = None
) -> dict[str, tuple[Claim, str] | Exception]:
    """:func:`claim` for a consumer's batch: one conditional PutItem per id, side by side on
    ``executor`` (one after the other without it), each id with its own answer.
    Returns per id its claim, or the error :func:`claim` raised for it.

    Not one TransactWriteItems: it costs twice the write units of the same puts ("Capacity
    management for transactions" in
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html),
    a single taken id cancels it (then every id had to be claimed again, one by one), and
    moto copies the whole table for each of its items (its cost grew with the ledger)."""
    now = time.time() if now is None else now
    unique = list(dict.fromkeys(event_ids))

    def one(event_id: str) -> tuple[Claim, str] | Exception:
        try:
            return claim(event_id, now=now)
        except Exception as exc:  # noqa: BLE001 - handed to that record, which fails with it
            return exc

    answers = list(executor.map(one, unique)) if executor is not None else [one(e) for e in unique]
    return dict(zip(unique, answers, strict=True))


def mark_delivered(event_id: str, *, now: float | None = None) -> None:
    """Record that the event is on the bus: every later copy is a duplicate."""
    now = time.time() if now is None else now
    aws_client("dynamodb").put_item(
        TableName=_table(),
        Item={
            **_key(event_id),
            "state": {"S": "delivered"},
            "delivered_at": {"N": str(int(now))},
            "expiration": {"N": str(int(now) + DELIVERY_TTL_SECONDS)},
        },
    )


def mark_delivered_many(event_ids: list[str], *, now: float | None = None) -> None:
    """:func:`mark_delivered` for a batch: BatchWriteItem (25 puts per call), unprocessed
    items written again; ProviderUnavailableError if some are still left."""
    now = time.time() if now is None else now
    unique = list(dict.fromkeys(event_ids))
    client = aws_client("dynamodb")
    for i in range(0, len(unique), 25):
        pending: dict[str, Any] = {
            _table(): [
                {
                    "PutRequest": {
                        "Item": {
                            **_key(event_id),
                            "state": {"S": "delivered"},
                            "delivered_at": {"N": str(int(now))},
                            "expiration": {"N": str(int(now) + DELIVERY_TTL_SECONDS)},
                        }
                    }
                }
                for event_id in unique[i : i + 25]
            ]
        }
        for _attempt in range(_BATCH_READ_ATTEMPTS):
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
        else:
            raise ProviderUnavailableError("DynamoDB left delivery marks unwritten", provider="dynamodb")


def release(event_id: str, token: str) -> None:
    """Give a claim back after a failure, so the retry need not wait for the lease."""
    try:
        aws_client("dynamodb").delete_item(
            TableName=_table(),
            Key=_key(event_id),
            ConditionExpression="#t = :t AND #s = :busy",
            ExpressionAttributeNames={"#t": "token", "#s": "state"},
            ExpressionAttributeValues={":t": {"S": token}, ":busy": {"S": "in_progress"}},
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
