"""Unknown outcomes: writes that may have reached the provider although we never saw the answer.

When an operation run under an idempotency key raises :class:`OutcomeUnknownError`, the hub
records it against the key (an item in the idempotency table, kept as long as the key). The
same key again never sends blindly: the operation runs once more with the recorded outcome
*pending*, and the adapter about to write resolves it first (:meth:`ProviderClient.effect`):

* a provider that can be asked looks the write up (Twilio lists messages by To/From/DateSent,
  Evolution finds the message by number and time, Asaas finds a charge by externalReference):
  found → that answer, as if the first call had returned it; surely absent → send now;
* a provider that keeps an idempotency key (Resend 24 h, Stripe, PagBank, MercadoPago) is
  simply called again with the same key: it answers the first write instead of repeating it;
* otherwise the recorded ``OutcomeUnknownError`` is answered again, until the caller asks
  explicitly with ``"resend": true`` (or a status webhook tells them what happened).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from hub.aws import aws_client
from hub.config import get_settings
from hub.errors import OutcomeUnknownError


@dataclass(frozen=True)
class PendingOutcome:
    """An earlier attempt of this very request whose outcome is unknown."""

    operation: str
    org_id: str
    idempotency_key: str
    payload_hash: str
    started_at: datetime  # when the first unresolved attempt began: lookups search from here
    provider: str | None
    provider_request_id: str | None
    message: str
    code: str | None

    def error(self) -> OutcomeUnknownError:
        """The recorded outcome, answered again."""
        return OutcomeUnknownError(
            f"{self.message} (recorded at the first attempt; the outcome is still unknown: send again with "
            '"resend": true only once you know it did not happen)',
            provider=self.provider,
            code=self.code or "outcome_unknown",
            request_id=self.provider_request_id,
            idempotency_key=self.idempotency_key,
            details={"first_attempt_at": self.started_at.isoformat()},
        )


_pending: ContextVar[PendingOutcome | None] = ContextVar("hub_pending_outcome", default=None)


def pending() -> PendingOutcome | None:
    """The unknown outcome the running operation must resolve before writing, if any."""
    return _pending.get()


@contextmanager
def resolving(outcome: PendingOutcome | None) -> Iterator[None]:
    token = _pending.set(outcome)
    try:
        yield
    finally:
        _pending.reset(token)


def _item_id(operation: str, org_id: str, idempotency_key: str) -> str:
    return f"outcome#{operation}#{org_id}#{idempotency_key}"


def _table() -> str:
    return get_settings().require("idempotency_table")


def get(operation: str, org_id: str, idempotency_key: str) -> PendingOutcome | None:
    item = (
        aws_client("dynamodb")
        .get_item(
            TableName=_table(),
            Key={"id": {"S": _item_id(operation, org_id, idempotency_key)}},
            ConsistentRead=True,
        )
        .get("Item")
    )
    if not item or int(item["expiration"]["N"]) < datetime.now(UTC).timestamp():
        return None
    doc: dict[str, Any] = json.loads(item["outcome"]["S"])
    return PendingOutcome(
        operation=operation,
        org_id=org_id,
        idempotency_key=idempotency_key,
        payload_hash=item["payload_hash"]["S"],
        started_at=datetime.fromisoformat(doc["started_at"]),
        provider=doc.get("provider"),
        provider_request_id=doc.get("provider_request_id"),
        message=doc.get("message", "the outcome of the first attempt is unknown"),
        code=doc.get("code"),
    )


def record(
    operation: str,
    org_id: str,
    idempotency_key: str,
    payload_hash: str,
    error: OutcomeUnknownError,
    *,
    started_at: datetime,
    ttl_seconds: int,
) -> None:
    """Remember the unknown outcome against the key. An earlier record keeps its start time, so
    a lookup still covers the first attempt."""
    doc = {
        "started_at": started_at.isoformat(),
        "provider": error.provider,
        "provider_request_id": error.request_id,
        "message": error.message,
        "code": error.code,
    }
    expiration = int(datetime.now(UTC).timestamp()) + ttl_seconds
    try:
        aws_client("dynamodb").put_item(
            TableName=_table(),
            Item={
                "id": {"S": _item_id(operation, org_id, idempotency_key)},
                "payload_hash": {"S": payload_hash},
                "outcome": {"S": json.dumps(doc)},
                "expiration": {"N": str(expiration)},
            },
            ConditionExpression="attribute_not_exists(id) OR expiration < :now",
            ExpressionAttributeValues={":now": {"N": str(int(datetime.now(UTC).timestamp()))}},
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise


def forget(operation: str, org_id: str, idempotency_key: str) -> None:
    """The outcome is known now (the operation answered): the idempotency record holds the answer."""
    aws_client("dynamodb").delete_item(
        TableName=_table(), Key={"id": {"S": _item_id(operation, org_id, idempotency_key)}}
    )
