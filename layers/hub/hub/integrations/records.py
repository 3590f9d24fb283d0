"""One record per (org, provider) in the integrations table: what an operator or the console
shows about an integration, never a secret (those stay in Secrets Manager).

Status: ``connected``; ``disabled`` (a reason: the provider rejected the credentials, or an
operator said so); ``needs_reauth`` (an OAuth grant was revoked or expired: only the org can
fix it, by connecting again); ``error`` (the last test or refresh failed for a reason that
may pass). Calls are refused while an integration is ``disabled`` or ``needs_reauth``
(:func:`blocked`, on every provider call, cached per container for a minute).

An org whose secret was created by hand, before integrations had records, has no record: its
calls are not refused, and the first management action creates one.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, Literal

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from hub.aws import aws_client
from hub.config import get_settings

IntegrationStatus = Literal["connected", "disabled", "needs_reauth", "error"]
# Statuses under which the hub makes no call to the provider for the org.
BLOCKING_STATUSES: frozenset[str] = frozenset({"disabled", "needs_reauth"})
WebhookSetup = Literal["registered", "manual", "not_supported", "failed"]

CACHE_SECONDS = 60.0
_cache: dict[tuple[str, str], tuple[float, tuple[str, str] | None]] = {}
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class WebhookState(BaseModel):
    """How the provider's webhook to the hub was set up: ``registered`` through its API (with
    its id there), ``manual`` (the org pastes the URL in the provider's panel),
    ``not_supported`` (the provider sends none), ``failed`` (the API refused; ``error`` says why)."""

    state: WebhookSetup
    url: str | None = None
    provider_webhook_id: str | None = None
    registered_at: datetime | None = None
    secret_rotated_at: datetime | None = None
    error: str | None = None


class TestResult(BaseModel):
    ok: bool
    latency_ms: int | None = None
    error: str | None = None


class IntegrationRecord(BaseModel):
    org_id: str
    provider: str
    status: IntegrationStatus
    reason: str | None = None
    auth: str | None = None
    connected_at: datetime | None = None
    connected_by: str | None = None
    updated_at: datetime | None = None
    last_tested_at: datetime | None = None
    test_result: TestResult | None = None
    last_error: str | None = None
    webhook: WebhookState | None = None
    token_expires_at: datetime | None = None
    token_refreshed_at: datetime | None = None
    scopes: list[str] = Field(default_factory=list)


def _table() -> str:
    return get_settings().require("integrations_table")


def _key(org_id: str, provider: str) -> dict[str, Any]:
    return {"org_id": {"S": org_id}, "provider": {"S": provider}}


def _to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None and v != []}


def _from_item(item: dict[str, Any]) -> IntegrationRecord:
    plain = {k: _deserializer.deserialize(v) for k, v in item.items()}
    return IntegrationRecord.model_validate(plain)


def _dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def now() -> datetime:
    return datetime.now(UTC)


def get_record(org_id: str, provider: str, *, consistent: bool = True) -> IntegrationRecord | None:
    item = (
        aws_client("dynamodb")
        .get_item(TableName=_table(), Key=_key(org_id, provider), ConsistentRead=consistent)
        .get("Item")
    )
    return _from_item(item) if item else None


def list_records(org_id: str) -> list[IntegrationRecord]:
    """Every integration of the org, by provider name."""
    client = aws_client("dynamodb")
    records: list[IntegrationRecord] = []
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "org_id = :org",
        "ExpressionAttributeValues": {":org": {"S": org_id}},
    }
    while True:
        page = client.query(**kwargs)
        records.extend(_from_item(item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return records
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def put_record(record: IntegrationRecord) -> None:
    """Write a whole record (connecting: what was there before is replaced)."""
    values = record.model_dump(mode="json", exclude_none=True)
    values["updated_at"] = now().isoformat()
    aws_client("dynamodb").put_item(TableName=_table(), Item=_to_item(values))
    forget(record.org_id, record.provider)


def update_record(org_id: str, provider: str, **fields: Any) -> None:
    """Set the given fields (None removes one); creates the record if there is none — callers
    that may create one pass ``status`` too."""
    fields = {**fields, "updated_at": now()}
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    sets: list[str] = []
    removes: list[str] = []
    for i, (name, value) in enumerate(fields.items()):
        names[f"#f{i}"] = name
        if value is None:
            removes.append(f"#f{i}")
        else:
            values[f":v{i}"] = _serializer.serialize(_dump(value))
            sets.append(f"#f{i} = :v{i}")
    expression = ""
    if sets:
        expression += "SET " + ", ".join(sets)
    if removes:
        expression += " REMOVE " + ", ".join(removes)
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "Key": _key(org_id, provider),
        "UpdateExpression": expression.strip(),
        "ExpressionAttributeNames": names,
    }
    if values:
        kwargs["ExpressionAttributeValues"] = values
    aws_client("dynamodb").update_item(**kwargs)
    forget(org_id, provider)


def transition(
    org_id: str,
    provider: str,
    status: IntegrationStatus,
    *,
    reason: str | None = None,
    allowed_from: frozenset[str] | None = None,
    **fields: Any,
) -> bool:
    """Move the integration to ``status`` (with ``reason`` and other ``fields``) unless it is
    already there, or (with ``allowed_from``) unless its current status is not one of those
    (``"absent"`` names "no record yet"). True when this call made the change: only that caller
    audits and notifies, so concurrent failures raise one alert, not one each."""
    condition = "attribute_not_exists(#status) OR #status <> :status"
    names = {"#status": "status"}
    values: dict[str, Any] = {":status": {"S": status}}
    if allowed_from is not None:
        parts = [f"#status = :from{i}" for i, _ in enumerate(sorted(allowed_from - {"absent"}))]
        values.update({f":from{i}": {"S": s} for i, s in enumerate(sorted(allowed_from - {"absent"}))})
        if "absent" in allowed_from:
            parts.append("attribute_not_exists(#status)")
        condition = f"({condition}) AND ({' OR '.join(parts) or 'attribute_not_exists(#status)'})"
    sets = {"status": status, "reason": reason, **fields, "updated_at": now()}
    expression_sets: list[str] = []
    removes: list[str] = []
    for i, (name, value) in enumerate(sets.items()):
        if name == "status":
            expression_sets.append("#status = :status")
            continue
        names[f"#f{i}"] = name
        if value is None:
            removes.append(f"#f{i}")
        else:
            values[f":v{i}"] = _serializer.serialize(_dump(value))
            expression_sets.append(f"#f{i} = :v{i}")
    expression = "SET " + ", ".join(expression_sets) + (f" REMOVE {', '.join(removes)}" if removes else "")
    try:
        aws_client("dynamodb").update_item(
            TableName=_table(),
            Key=_key(org_id, provider),
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    forget(org_id, provider)
    return True


def blocked(org_id: str, provider: str) -> tuple[str, str] | None:
    """``(status, reason)`` when calls for this integration are refused (disabled or
    needs_reauth), else None. Cached per container for :data:`CACHE_SECONDS`; without an
    integrations table (unit tests of adapters) nothing is blocked."""
    if not get_settings().integrations_table:
        return None
    clock = time.monotonic()
    cached = _cache.get((org_id, provider))
    if cached and cached[0] > clock:
        return cached[1]
    item = (
        aws_client("dynamodb")
        .get_item(
            TableName=_table(),
            Key=_key(org_id, provider),
            ProjectionExpression="#s, reason",
            ExpressionAttributeNames={"#s": "status"},
        )
        .get("Item", {})
    )
    status = item.get("status", {}).get("S")
    result = (status, item.get("reason", {}).get("S", status)) if status in BLOCKING_STATUSES else None
    _cache[(org_id, provider)] = (clock + CACHE_SECONDS, result)
    return result


def forget(org_id: str | None = None, provider: str | None = None) -> None:
    """Drop this container's cached status (one integration, or all)."""
    if org_id is None:
        _cache.clear()
    else:
        _cache.pop((org_id, provider or ""), None)
