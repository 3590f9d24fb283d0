"""The AuthenticationError strategy: a provider rejected an org's credentials, so the
integration is disabled for that org (no more calls that cannot succeed), a notification
event goes on the bus and an audit entry is written. No retries. An operator re-enables it
after fixing the secret: ``python -m ops … enable --org ORG --provider PROVIDER``.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from hub.aws import aws_client
from hub.bus import put_event
from hub.config import get_settings
from hub.observability import logger, metrics

_CACHE_SECONDS = 60.0
_cache: dict[tuple[str, str], tuple[float, str | None]] = {}


def _key(org_id: str, provider: str) -> dict[str, Any]:
    return {"pk": {"S": f"integration#{org_id}#{provider}"}}


def disabled_reason(org_id: str, provider: str) -> str | None:
    """Why the integration is disabled, or None. Cached per container for a minute."""
    table = get_settings().resilience_table
    if not table:
        return None
    now = time.monotonic()
    cached = _cache.get((org_id, provider))
    if cached and cached[0] > now:
        return cached[1]
    item = aws_client("dynamodb").get_item(TableName=table, Key=_key(org_id, provider)).get("Item", {})
    reason = item["reason"]["S"] if item.get("status", {}).get("S") == "disabled" else None
    _cache[(org_id, provider)] = (now + _CACHE_SECONDS, reason)
    return reason


def audit(org_id: str, action: str, details: dict[str, Any]) -> None:
    table = get_settings().audit_table
    if not table:
        return
    at = datetime.now(UTC).isoformat()
    aws_client("dynamodb").put_item(
        TableName=table,
        Item={
            "org_id": {"S": org_id},
            "sk": {"S": f"{at}#{uuid.uuid4().hex[:8]}"},
            "action": {"S": action},
            "at": {"S": at},
            "details": {"S": json.dumps(details, ensure_ascii=False)},
        },
    )


def _notify(detail_type: str, detail: dict[str, Any]) -> None:
    if get_settings().event_bus_name:
        put_event(detail_type, detail)


def disable_integration(org_id: str, provider: str, reason: str) -> bool:
    """Disable once (conditional write); only the first caller audits and notifies."""
    table = get_settings().resilience_table
    if not table:
        return False
    at = datetime.now(UTC).isoformat()
    try:
        aws_client("dynamodb").put_item(
            TableName=table,
            Item={**_key(org_id, provider), "status": {"S": "disabled"}, "reason": {"S": reason}, "at": {"S": at}},
            ConditionExpression="attribute_not_exists(pk) OR #s <> :disabled",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":disabled": {"S": "disabled"}},
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    _cache[(org_id, provider)] = (time.monotonic() + _CACHE_SECONDS, reason)
    detail = {"org_id": org_id, "provider": provider, "reason": reason, "at": at, "severity": "high"}
    audit(org_id, "integration_disabled", detail)
    _notify("integration.disabled", detail)
    metrics.add_metric(name="IntegrationDisabled", unit="Count", value=1)
    logger.warning("integration_disabled", extra={"org_id": org_id, "provider": provider, "reason": reason})
    return True


def enable_integration(org_id: str, provider: str, actor: str) -> None:
    table = get_settings().require("resilience_table")
    aws_client("dynamodb").delete_item(TableName=table, Key=_key(org_id, provider))
    _cache.pop((org_id, provider), None)
    detail = {"org_id": org_id, "provider": provider, "actor": actor, "at": datetime.now(UTC).isoformat()}
    audit(org_id, "integration_enabled", detail)
    _notify("integration.enabled", detail)
