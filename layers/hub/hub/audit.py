"""The audit trail: who did what to an org's integrations, money and data (docs/integrations.md,
"Audit").

Records are append-only: each one is a new item (org_id, ``{at}#{id}``) written with a condition
that it does not exist yet, and no function holds an update or delete permission on the table
(template.yaml); old records leave by the table's TTL (``AUDIT_RETENTION_DAYS``). Details never
carry a secret: callers pass ids, names and reasons, and :func:`record` drops any key that
looks like a credential before writing.

Sensitive actions (the seed's list: credentials rotated, integration disabled, webhook modified,
permissions changed) also raise an alert: an ``audit.alert`` event on the bus and a message on
the alerts SNS topic, which operators subscribe email or Slack to.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hub.aws import aws_client
from hub.config import get_settings
from hub.observability import logger

SENSITIVE_ACTIONS = frozenset(
    {"credentials_rotated", "integration_disabled", "webhook_modified", "permissions_changed"}
)
# Keys whose values are credentials: never written to the trail, whatever the caller passes.
_SECRET_KEY_PARTS = ("secret", "token", "password", "api_key", "apikey", "authorization", "credential")


@dataclass(frozen=True)
class AuditSource:
    """Where an action came from when it came through the API (API Gateway's request context)."""

    ip: str | None = None
    user_agent: str | None = None


def service_actor() -> str:
    """The actor of an automatic action: the function that took it."""
    return f"service:{os.environ.get('AWS_LAMBDA_FUNCTION_NAME', 'hub')}"


def _clean(details: Mapping[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key, value in details.items():
        if any(part in key.lower() for part in _SECRET_KEY_PARTS):
            cleaned[key] = "[redacted]"
        elif isinstance(value, Mapping):
            cleaned[key] = _clean(value)
        else:
            cleaned[key] = value
    return cleaned


def record(
    org_id: str,
    action: str,
    *,
    actor: str | None = None,
    integration: str | None = None,
    details: Mapping[str, Any] | None = None,
    source: AuditSource | None = None,
) -> dict[str, Any] | None:
    """Append one audit record (and alert when ``action`` is sensitive); the record as written,
    or None when the hub runs without an audit table (unit tests of unrelated code)."""
    settings = get_settings()
    table = settings.audit_table
    if not table:
        return None
    now = datetime.now(UTC)
    at = now.isoformat()
    entry: dict[str, Any] = {
        "org_id": org_id,
        "at": at,
        "action": action,
        "actor": actor or service_actor(),
        "integration": integration,
        "details": _clean(details or {}),
        "sensitive": action in SENSITIVE_ACTIONS,
        "source_ip": source.ip if source else None,
        "user_agent": source.user_agent if source else None,
    }
    entry = {k: v for k, v in entry.items() if v is not None}
    item: dict[str, Any] = {
        "org_id": {"S": org_id},
        "sk": {"S": f"{at}#{uuid.uuid4().hex[:12]}"},
        "action": {"S": action},
        "at": {"S": at},
        "actor": {"S": entry["actor"]},
        "details": {"S": json.dumps(entry["details"], ensure_ascii=False, default=str)},
    }
    if integration:
        item["integration"] = {"S": integration}
    if source and source.ip:
        item["source_ip"] = {"S": source.ip[:64]}
    if source and source.user_agent:
        item["user_agent"] = {"S": source.user_agent[:256]}
    if entry["sensitive"]:
        item["sensitive"] = {"BOOL": True}
    if settings.audit_retention_days:
        item["expires_at"] = {"N": str(int(now.timestamp()) + settings.audit_retention_days * 86400)}
    aws_client("dynamodb").put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(org_id)")
    logger.info("audit", extra={"org_id": org_id, "action": action, "integration": integration})
    if entry["sensitive"]:
        alert(entry)
    return entry


def alert(entry: Mapping[str, Any]) -> None:
    """A sensitive action: an ``audit.alert`` event on the bus and the alerts topic."""
    settings = get_settings()
    if settings.event_bus_name:
        from hub.bus import put_event

        put_event("audit.alert", dict(entry))
    if settings.alerts_topic_arn:
        subject = f"[integrations-hub] {entry['action']} for {entry['org_id']}"
        aws_client("sns").publish(
            TopicArn=settings.alerts_topic_arn,
            Subject=subject[:100],
            Message=json.dumps(entry, ensure_ascii=False, default=str, indent=2),
        )
