"""The payments table: every charge the hub created and its state, moved only forward.

Key: ``org_id`` + ``charge_id`` (ours). A charge is *claimed* before any provider is called
(conditional put), so the same charge id can never create two charges, even when two
requests race; a repeat with the same request answers the stored result, one with a
different request is refused.

States and their guarded transitions (a transition names the states it may come from, so
an out-of-order or duplicate delivery never moves a charge backwards):

    PENDING ─┬─► OVERDUE ─┐
             ├─► FAILED ──┼─► CONFIRMED ─► RECEIVED ─► PARTIALLY_REFUNDED ─► REFUNDED
             │            └──────────────► RECEIVED
             ├─► AMOUNT_MISMATCH ─► CONFIRMED / RECEIVED (an event with the right amount)
             └─► CANCELLED (from PENDING / OVERDUE / FAILED / AMOUNT_MISMATCH only)

``AMOUNT_MISMATCH``: a payment event said the charge was paid, but with another amount than
the charge's (or with a value that is not money): the charge is not paid, no invoice is
issued, and ``payment.amount_mismatch`` is announced (:mod:`hub.payments.state`).

Refunds reserve what they take before the provider is called (``refund_reserved_cents``, a
conditional update), so concurrent refunds never add up to more than the charge.

Asaas ``PAYMENT_CONFIRMED`` (paid, not yet available; PIX may sit there up to 72 h) and
``PAYMENT_RECEIVED`` (available) both count as *paid*: ``paid_at`` is set once, by whichever
arrives first, and that first time alone starts invoicing.

Charges created at a provider whose notifications may be lost and that is looked up on a
schedule (PagBank: :data:`LOOKED_UP_PROVIDERS`) carry ``pending_provider`` and
``pending_since`` while unpaid: the sparse index ``PendingByProvider`` holds those only, so
:func:`pending_charges` reads the few waiting charges instead of scanning the table. A
transition out of the waiting states removes both attributes.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from hub.aws import aws_client
from hub.config import get_settings
from hub.errors import InvalidRequestError

ChargeState = Literal[
    "CREATING",
    "PENDING",
    "OVERDUE",
    "FAILED",
    "AMOUNT_MISMATCH",
    "CONFIRMED",
    "RECEIVED",
    "PARTIALLY_REFUNDED",
    "REFUNDED",
    "CANCELLED",
]
PAID_STATES = frozenset({"CONFIRMED", "RECEIVED"})
# Providers whose pending charges are looked up on a schedule (hub.payments.pending).
LOOKED_UP_PROVIDERS = frozenset({"pagbank"})
PENDING_INDEX = "PendingByProvider"
# Leaving these states takes a charge out of the PendingByProvider index (an OVERDUE boleto
# may still be paid: it stays).
_STILL_PENDING = frozenset({"PENDING", "OVERDUE"})
REFUNDABLE_STATES = ("CONFIRMED", "RECEIVED", "PARTIALLY_REFUNDED")
# target state -> the states it may be entered from
# (CREATING too: a webhook may beat the create's own answer to the table.)
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "OVERDUE": frozenset({"CREATING", "PENDING", "FAILED"}),
    "FAILED": frozenset({"CREATING", "PENDING"}),
    "AMOUNT_MISMATCH": frozenset({"CREATING", "PENDING", "OVERDUE", "FAILED"}),
    "CONFIRMED": frozenset({"CREATING", "PENDING", "OVERDUE", "FAILED", "AMOUNT_MISMATCH"}),
    "RECEIVED": frozenset({"CREATING", "PENDING", "OVERDUE", "FAILED", "AMOUNT_MISMATCH", "CONFIRMED"}),
    "PARTIALLY_REFUNDED": frozenset({"CONFIRMED", "RECEIVED", "PARTIALLY_REFUNDED"}),
    "REFUNDED": frozenset({"CONFIRMED", "RECEIVED", "PARTIALLY_REFUNDED"}),
    "CANCELLED": frozenset({"CREATING", "PENDING", "OVERDUE", "FAILED", "AMOUNT_MISMATCH"}),
}


class ChargeRecord(BaseModel):
    """What ``PaymentStatus`` answers."""

    org_id: str
    charge_id: str
    status: ChargeState
    amount_cents: int
    currency: str = "BRL"
    billing_type: str | None = None
    provider: str | None = None
    provider_charge_id: str | None = None
    paid_at: datetime | None = None
    refunded_cents: int = 0
    refund_reserved_cents: int = Field(
        0, description="refunds asked through the hub, reserved before the provider call"
    )
    reported_cents: int | None = Field(None, description="AMOUNT_MISMATCH: the amount the payment event carried")
    amount_problem: str | None = Field(None, description="AMOUNT_MISMATCH: what was wrong with the event's amount")
    invoice_status: str | None = None
    invoice_number: str | None = None
    invoice_provider: str | None = None
    invoice_id: str | None = None
    customer: dict[str, Any] | None = None
    description: str | None = None
    updated_at: datetime | None = None
    result: dict[str, Any] | None = None


def _table() -> str:
    return get_settings().require("payments_table")


def _key(org_id: str, charge_id: str) -> dict[str, Any]:
    return {"org_id": {"S": org_id}, "charge_id": {"S": charge_id}}


def _now() -> str:
    return datetime.now(UTC).isoformat()


def request_fingerprint(request: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def claim(
    org_id: str,
    charge_id: str,
    *,
    fingerprint: str,
    amount_cents: int,
    billing_type: str,
    customer: dict[str, Any] | None = None,
    description: str = "",
) -> ChargeRecord | None:
    """Claim the charge id before calling any provider. None = claimed now (go ahead); a
    record = this charge id exists (the caller answers it, or refuses a different request)."""
    client = aws_client("dynamodb")
    try:
        client.put_item(
            TableName=_table(),
            Item={
                **_key(org_id, charge_id),
                "status": {"S": "CREATING"},
                "fingerprint": {"S": fingerprint},
                "amount_cents": {"N": str(amount_cents)},
                "billing_type": {"S": billing_type},
                # The tomador of the charge's invoice (name, CPF/CNPJ, email) and what was sold.
                "customer": {"S": json.dumps(customer or {})},
                "description": {"S": description},
                "created_at": {"S": _now()},
                "updated_at": {"S": _now()},
            },
            ConditionExpression="attribute_not_exists(charge_id)",
        )
        return None
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
    item = client.get_item(TableName=_table(), Key=_key(org_id, charge_id), ConsistentRead=True)["Item"]
    if item.get("fingerprint", {}).get("S") != fingerprint:
        raise InvalidRequestError(
            f"charge_id {charge_id!r} was already used for a different charge", code="charge_id_reused"
        )
    return record_from_item(item)


def take_over(org_id: str, charge_id: str, *, stale_after_seconds: int) -> bool:
    """A claim left in CREATING (its request died, or ended with an unknown outcome at a
    provider) may be resumed by a retry once it is stale. One retry wins the conditional write."""
    now = datetime.now(UTC)
    cutoff = datetime.fromtimestamp(now.timestamp() - stale_after_seconds, tz=UTC).isoformat()
    return _conditional_update(
        Key=_key(org_id, charge_id),
        UpdateExpression="SET updated_at = :now",
        ConditionExpression="#s = :creating AND updated_at < :cutoff",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
            ":now": {"S": now.isoformat()},
            ":creating": {"S": "CREATING"},
            ":cutoff": {"S": cutoff},
        },
    )


def record_created(
    org_id: str, charge_id: str, *, provider: str, provider_charge_id: str, result: dict[str, Any]
) -> None:
    """The provider has the charge: store it, and CREATING → PENDING unless a webhook that
    arrived first already moved it on."""
    client = aws_client("dynamodb")
    client.update_item(
        TableName=_table(),
        Key=_key(org_id, charge_id),
        UpdateExpression="SET provider = :p, provider_charge_id = :pid, #r = :r, updated_at = :now",
        ExpressionAttributeNames={"#r": "result"},
        ExpressionAttributeValues={
            ":p": {"S": provider},
            ":pid": {"S": provider_charge_id},
            ":r": {"S": json.dumps(result, default=str)},
            ":now": {"S": _now()},
        },
    )
    waiting = provider in LOOKED_UP_PROVIDERS
    try:
        client.update_item(
            TableName=_table(),
            Key=_key(org_id, charge_id),
            UpdateExpression=(
                "SET #s = :pending, pending_provider = :pp, pending_since = :now" if waiting else "SET #s = :pending"
            ),
            ConditionExpression="#s = :creating",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":pending": {"S": "PENDING"},
                ":creating": {"S": "CREATING"},
                **({":pp": {"S": provider}, ":now": {"S": _now()}} if waiting else {}),
            },
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


def release(org_id: str, charge_id: str) -> None:
    """Every provider refused before creating anything: free the charge id for a retry."""
    try:
        aws_client("dynamodb").delete_item(
            TableName=_table(),
            Key=_key(org_id, charge_id),
            ConditionExpression="#s = :creating",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":creating": {"S": "CREATING"}},
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


class Transition(BaseModel):
    applied: bool
    first_paid: bool = False
    record: ChargeRecord | None = None


def transition(
    org_id: str,
    charge_id: str,
    target: ChargeState,
    *,
    refunded_cents: int | None = None,
    at: datetime | None = None,
    paid_at: datetime | None = None,
) -> Transition:
    """Move a charge to ``target`` if it may come from its current state. ``first_paid``
    is True for exactly one delivery: the first that made the charge paid. ``paid_at`` (when
    the payer paid, from the provider's payment; default ``at``) is set once."""
    allowed = sorted(ALLOWED_FROM.get(target, frozenset()))
    if not allowed:
        raise ValueError(f"no transition into {target}")
    names = {"#s": "status"}
    values: dict[str, Any] = {":t": {"S": target}, ":now": {"S": (at or datetime.now(UTC)).isoformat()}}
    placeholders = []
    for i, state in enumerate(allowed):
        values[f":a{i}"] = {"S": state}
        placeholders.append(f":a{i}")
    sets = ["#s = :t", "updated_at = :now"]
    if target in PAID_STATES:
        sets.append("paid_at = if_not_exists(paid_at, :paid)")
        values[":paid"] = {"S": (paid_at or at or datetime.now(UTC)).isoformat()}
    if refunded_cents is not None:
        sets.append("refunded_cents = :ref")
        values[":ref"] = {"N": str(refunded_cents)}
    expression = "SET " + ", ".join(sets)
    if target not in _STILL_PENDING:
        expression += " REMOVE pending_provider, pending_since"  # out of the PendingByProvider index
    try:
        response = aws_client("dynamodb").update_item(
            TableName=_table(),
            Key=_key(org_id, charge_id),
            UpdateExpression=expression,
            ConditionExpression=f"#s IN ({', '.join(placeholders)})",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_OLD",
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return Transition(applied=False)
        raise
    old = response.get("Attributes", {})
    first_paid = target in PAID_STATES and "paid_at" not in old
    return Transition(applied=True, first_paid=first_paid, record=get_charge(org_id, charge_id))


def _conditional_update(**kwargs: Any) -> bool:
    try:
        aws_client("dynamodb").update_item(TableName=_table(), **kwargs)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def flag_amount_mismatch(
    org_id: str, charge_id: str, *, reported_cents: int | None, problem: str, at: datetime | None = None
) -> bool:
    """A payment event with the wrong amount: the charge moves to AMOUNT_MISMATCH (only from
    an unpaid state; a paid charge stays paid) and keeps what was reported. True if it moved."""
    allowed = sorted(ALLOWED_FROM["AMOUNT_MISMATCH"])
    values: dict[str, Any] = {
        ":t": {"S": "AMOUNT_MISMATCH"},
        ":now": {"S": (at or datetime.now(UTC)).isoformat()},
        ":problem": {"S": problem[:500]},
        **{f":a{i}": {"S": state} for i, state in enumerate(allowed)},
    }
    sets = ["#s = :t", "updated_at = :now", "amount_problem = :problem"]
    if reported_cents is not None:
        sets.append("reported_cents = :reported")
        values[":reported"] = {"N": str(reported_cents)}
    return _conditional_update(
        Key=_key(org_id, charge_id),
        UpdateExpression="SET " + ", ".join(sets),
        ConditionExpression=f"#s IN ({', '.join(f':a{i}' for i in range(len(allowed)))})",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues=values,
    )


def reserve_refund(org_id: str, charge_id: str, *, cents: int, amount_cents: int) -> bool:
    """Reserve ``cents`` of a paid charge for a refund, atomically: one conditional update
    succeeds only while the charge is refundable and neither the refunds reserved through the
    hub nor those the provider reports (``refunded_cents``) would pass the charge's amount.
    False: not that much is left (another refund took it)."""
    if cents <= 0 or cents > amount_cents:
        return False
    limit = {"N": str(amount_cents - cents)}
    return _conditional_update(
        Key=_key(org_id, charge_id),
        UpdateExpression="SET refund_reserved_cents = if_not_exists(refund_reserved_cents, :zero) + :c, "
        "updated_at = :now",
        ConditionExpression="#s IN (:s0, :s1, :s2) "
        "AND (attribute_not_exists(refund_reserved_cents) OR refund_reserved_cents <= :limit) "
        "AND (attribute_not_exists(refunded_cents) OR refunded_cents <= :limit)",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
            ":zero": {"N": "0"},
            ":c": {"N": str(cents)},
            ":limit": limit,
            ":now": {"S": _now()},
            **{f":s{i}": {"S": state} for i, state in enumerate(REFUNDABLE_STATES)},
        },
    )


def release_refund(org_id: str, charge_id: str, *, cents: int) -> None:
    """Give a reservation back: only after the provider definitely refused the refund."""
    _conditional_update(
        Key=_key(org_id, charge_id),
        UpdateExpression="SET refund_reserved_cents = refund_reserved_cents - :c, updated_at = :now",
        ConditionExpression="refund_reserved_cents >= :c",
        ExpressionAttributeValues={":c": {"N": str(cents)}, ":now": {"S": _now()}},
    )


def set_invoice(
    org_id: str,
    charge_id: str,
    *,
    status: str,
    number: str | None = None,
    provider: str | None = None,
    provider_id: str | None = None,
) -> None:
    values: dict[str, Any] = {":s": {"S": status}, ":now": {"S": _now()}}
    sets = ["invoice_status = :s", "updated_at = :now"]
    for name, value in (("invoice_number", number), ("invoice_provider", provider), ("invoice_id", provider_id)):
        if value:
            sets.append(f"{name} = :{name}")
            values[f":{name}"] = {"S": value}
    aws_client("dynamodb").update_item(
        TableName=_table(),
        Key=_key(org_id, charge_id),
        UpdateExpression="SET " + ", ".join(sets),
        ExpressionAttributeValues=values,
    )


def get_charge(org_id: str, charge_id: str) -> ChargeRecord:
    item = aws_client("dynamodb").get_item(TableName=_table(), Key=_key(org_id, charge_id), ConsistentRead=True)
    if "Item" not in item:
        raise InvalidRequestError(f"no charge {charge_id!r} for this org", code="not_found")
    return record_from_item(item["Item"])


def find_charge(org_id: str, charge_id: str) -> ChargeRecord | None:
    try:
        return get_charge(org_id, charge_id)
    except InvalidRequestError:
        return None


def record_from_item(item: dict[str, Any]) -> ChargeRecord:
    def text(name: str) -> str | None:
        value = item.get(name, {}).get("S")
        return str(value) if value is not None else None

    result = text("result")
    return ChargeRecord.model_validate(
        {
            "org_id": text("org_id"),
            "charge_id": text("charge_id"),
            "status": text("status"),
            "amount_cents": int(item.get("amount_cents", {}).get("N", "0")),
            "billing_type": text("billing_type"),
            "provider": text("provider"),
            "provider_charge_id": text("provider_charge_id"),
            "paid_at": text("paid_at"),
            "refunded_cents": int(item.get("refunded_cents", {}).get("N", "0")),
            "refund_reserved_cents": int(item.get("refund_reserved_cents", {}).get("N", "0")),
            "reported_cents": int(item["reported_cents"]["N"]) if "N" in item.get("reported_cents", {}) else None,
            "amount_problem": text("amount_problem"),
            "invoice_status": text("invoice_status"),
            "invoice_number": text("invoice_number"),
            "invoice_provider": text("invoice_provider"),
            "invoice_id": text("invoice_id"),
            "customer": json.loads(text("customer") or "null"),
            "description": text("description"),
            "updated_at": text("updated_at"),
            "result": json.loads(result) if result else None,
        }
    )


def iter_charges(org_id: str) -> list[ChargeRecord]:
    """Every charge of an org (reconciliation)."""
    client = aws_client("dynamodb")
    records: list[ChargeRecord] = []
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "org_id = :o",
        "ExpressionAttributeValues": {":o": {"S": org_id}},
    }
    while True:
        page = client.query(**kwargs)
        records += [record_from_item(item) for item in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            return records
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class PendingCharge(BaseModel):
    org_id: str
    charge_id: str
    pending_since: datetime


def pending_charges(provider: str, *, older_than: datetime, newer_than: datetime) -> list[PendingCharge]:
    """Charges waiting at ``provider`` since between ``newer_than`` and ``older_than``, oldest
    first, every org: one Query on the sparse PendingByProvider index (keys only)."""
    client = aws_client("dynamodb")
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "IndexName": PENDING_INDEX,
        "KeyConditionExpression": "pending_provider = :p AND pending_since BETWEEN :from AND :to",
        "ExpressionAttributeValues": {
            ":p": {"S": provider},
            ":from": {"S": newer_than.astimezone(UTC).isoformat()},
            ":to": {"S": older_than.astimezone(UTC).isoformat()},
        },
    }
    found: list[PendingCharge] = []
    while True:
        page = client.query(**kwargs)
        for item in page.get("Items", []):
            found.append(
                PendingCharge(
                    org_id=item["org_id"]["S"],
                    charge_id=item["charge_id"]["S"],
                    pending_since=item["pending_since"]["S"],
                )
            )
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
