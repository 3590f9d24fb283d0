"""The AuthenticationError strategy: a provider rejected an org's credentials, so the
integration is disabled for that org (no more calls that cannot succeed), a notification
event goes on the bus and an audit entry is written. No retries. The org's integration
record (hub.integrations.records) holds the status; an operator re-enables it after fixing
the credentials: ``IntegrationEnable`` (or ``python -m ops … enable``).
"""

from __future__ import annotations

from typing import Any

from hub import audit
from hub.bus import put_event
from hub.config import get_settings
from hub.integrations import records
from hub.observability import logger, metrics


# How disabled_reason words an integration waiting for the org to authorise the hub again.
def disabled_reason(org_id: str, provider: str) -> str | None:
    """Why calls for this integration are refused (disabled, or waiting for the org to
    authorise again), or None. Cached per container for a minute."""
    blocked = records.blocked(org_id, provider)
    if blocked is None:
        return None
    status, reason = blocked
    return reason if status == "disabled" else f"needs re-authorisation: {reason}"


def notify(detail_type: str, detail: dict[str, Any]) -> None:
    if get_settings().event_bus_name:
        put_event(detail_type, detail)


def disable_integration(org_id: str, provider: str, reason: str, *, actor: str | None = None) -> bool:
    """Disable once (a conditional transition); only the first caller audits and notifies."""
    if not get_settings().integrations_table:
        return False
    changed = records.transition(
        org_id, provider, "disabled", reason=reason, allowed_from=frozenset({"absent", "connected", "error"})
    )
    if not changed:
        return False
    detail = {"org_id": org_id, "provider": provider, "reason": reason, "severity": "high"}
    audit.record(org_id, "integration_disabled", actor=actor, integration=provider, details={"reason": reason})
    notify("integration.disabled", detail)
    metrics.add_metric(name="IntegrationDisabled", unit="Count", value=1)
    logger.warning("integration_disabled", extra={"org_id": org_id, "provider": provider, "reason": reason})
    return True


def enable_integration(org_id: str, provider: str, actor: str) -> bool:
    """Back to connected after an operator fixed the credentials; False when it was not disabled."""
    changed = records.transition(
        org_id, provider, "connected", reason=None, allowed_from=frozenset({"disabled", "error"})
    )
    if changed:
        audit.record(org_id, "integration_enabled", actor=actor, integration=provider)
        notify("integration.enabled", {"org_id": org_id, "provider": provider, "actor": actor})
    return changed
