"""Forged-webhook bursts: many deliveries to one org's route that fail authentication.

A single 401 is noise (a scanner, a provider test ping). Many in a short window for one
(org, provider) mean someone is probing for the secret or replaying stolen requests, or the
provider's secret no longer matches ours and real events are being refused. So each failure
adds one to a counter shared by every receiver instance (an atomic ``ADD`` on an item of the
resilience table per (org, provider, fixed window), like the rate limiter), and the one failure
whose increment reaches ``WEBHOOK_FORGERY_THRESHOLD`` within ``WEBHOOK_FORGERY_WINDOW_SECONDS``
writes ONE ``webhook_forgery_burst`` audit record for that window, which alerts (bus
``audit.alert`` + SNS). DynamoDB applies the increments one after another, so exactly one
caller sees the threshold, whatever the number of concurrent instances.

Cost on the failure path only: one ``UpdateItem`` per forged delivery; the audit write and the
alert once per window. A failure to count or to record never changes the answer (401).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from hub import audit
from hub.aws import aws_client
from hub.config import get_settings
from hub.observability import logger, metrics
from hub.webhooks.models import RawWebhook

ACTION = "webhook_forgery_burst"


def _now() -> float:
    return time.time()


def note_failure(request: RawWebhook, provider: str, reason: str) -> bool:
    """Count one authentication failure of ``provider``'s webhook for ``request.org_id``; True
    when this one reached the threshold and the burst was audited (once per window)."""
    settings = get_settings()
    if not settings.resilience_table:
        return False
    window_seconds = settings.webhook_forgery_window_seconds
    now = _now()
    window = int(now // window_seconds)
    window_start = window * window_seconds
    try:
        result = aws_client("dynamodb").update_item(
            TableName=settings.resilience_table,
            Key={"pk": {"S": f"forgery#{request.org_id}#{provider}#{window}"}},
            UpdateExpression="ADD failures :one SET expires_at = if_not_exists(expires_at, :expires)",
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                # Kept one window after its end for inspection; TTL removes it.
                ":expires": {"N": str(window_start + 2 * window_seconds)},
            },
            ReturnValues="UPDATED_NEW",
        )
        failures = int(result["Attributes"]["failures"]["N"])
    except Exception:  # noqa: BLE001 - counting must never turn a 401 into a 5xx
        logger.exception("webhook_forgery_count_failed", extra={"provider": provider, "org_id": request.org_id})
        return False
    if failures != settings.webhook_forgery_threshold:
        return False
    metrics.add_metric(name="WebhookForgeryBurst", unit="Count", value=1)
    details = {
        "provider": provider,
        "failures": failures,
        "window_seconds": window_seconds,
        "window_start": datetime.fromtimestamp(window_start, UTC).isoformat(),
        "last_reason": reason[:200],
        "path": request.path[:200],
    }
    source = audit.AuditSource(ip=request.source_ip, user_agent=(request.headers.get("user-agent") or None))
    try:
        audit.record(request.org_id, ACTION, integration=provider, details=details, source=source)
    except Exception:  # noqa: BLE001 - the burst is logged even when the trail or the alert is down
        logger.exception("webhook_forgery_burst_not_recorded", extra={"org_id": request.org_id, **details})
        return False
    logger.warning("webhook_forgery_burst", extra={"org_id": request.org_id, **details})
    return True
