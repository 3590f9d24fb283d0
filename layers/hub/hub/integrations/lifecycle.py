"""What happens to an integration as its OAuth tokens live and die (docs/integrations.md,
"Token lifecycle"): a refresh is noted on the record; a grant the provider refused moves it to
``needs_reauth`` once (one audit record, one ``integration.needs_reauth`` event: the org's
notification); a token that cannot be refreshed is announced ``REAUTH_NOTICE_DAYS`` before it
expires, once per token; a refresh that failed for a reason that may pass is only noted
(``last_error``), never a dead token.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from hub import audit
from hub.aws import aws_client
from hub.config import get_settings
from hub.errors import HubError
from hub.integrations import records
from hub.observability import logger, metrics
from hub.resilience.integrations import notify

if TYPE_CHECKING:
    from hub.providers.base.auth import Token

# A grant can be refused while the integration is connected or in error; a disabled one stays
# disabled (an operator's decision), one already waiting for the org is not announced again.
REAUTH_FROM = frozenset({"absent", "connected", "error"})


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _update_existing(
    org_id: str, provider: str, condition: str, sets: dict[str, str], *, remove: tuple[str, ...] = (), **values: str
) -> bool:
    """SET ``sets`` (and REMOVE ``remove``) on the record when it exists and ``condition``
    holds; False otherwise (no record: an org connected by hand is not given one here)."""
    names = {f"#f{i}": name for i, name in enumerate(sets)}
    names.update({f"#r{i}": name for i, name in enumerate(remove)})
    expression = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(sets)))
    if remove:
        expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove)))
    attribute_values = {f":v{i}": {"S": value} for i, value in enumerate(sets.values())}
    attribute_values.update({f":{k}": {"S": v} for k, v in values.items()})
    try:
        aws_client("dynamodb").update_item(
            TableName=get_settings().require("integrations_table"),
            Key={"org_id": {"S": org_id}, "provider": {"S": provider}},
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames={"#org": "org_id", **names},
            ExpressionAttributeValues=attribute_values,
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    records.forget(org_id, provider)
    return True


def token_refreshed(org_id: str, provider: str, token: Token) -> None:
    """Note a refresh on the org's record (when it has one): the new expiry, when, and no
    error any more (a refresh that succeeds clears the transient error an earlier one left)."""
    if not get_settings().integrations_table:
        return
    now = records.now().isoformat()
    refreshed_at = _at(token.issued_at).isoformat() if token.issued_at is not None else now
    expires_at = _at(token.expires_at).isoformat()
    sets = {"token_expires_at": expires_at, "token_refreshed_at": refreshed_at, "updated_at": now}
    _update_existing(org_id, provider, "attribute_exists(#org)", sets, remove=("last_error",))


def refresh_failed(org_id: str, provider: str, error: HubError) -> None:
    """A refresh failed for a reason that may pass (network, 5xx, 429, a busy lock): noted as
    ``last_error`` (class and code, no secret), the status untouched — never a dead token."""
    if not get_settings().integrations_table:
        return
    note = f"token refresh failed: {type(error).__name__}" + (f" ({error.code})" if error.code else "")
    if error.http_status is not None:
        note += f" http {error.http_status}"
    now = records.now().isoformat()
    _update_existing(org_id, provider, "attribute_exists(#org)", {"last_error": note, "updated_at": now})
    logger.warning("token_refresh_failed", extra={"org_id": org_id, "provider": provider, "error": note})


def mark_needs_reauth(org_id: str, provider: str, error: HubError) -> bool:
    """The provider refused the org's grant (``invalid_grant``, a revoked or expired token):
    the integration goes to ``needs_reauth`` and calls stop (``records.blocked``). Only the
    caller whose conditional transition made the change audits and emits the event, so N
    concurrent failures notify the org once."""
    if not get_settings().integrations_table:
        return False
    reason = f"the provider refused the token refresh ({error.http_status} {error.code or 'refused'})"
    changed = records.transition(
        org_id, provider, "needs_reauth", reason=reason, allowed_from=REAUTH_FROM, last_error=reason
    )
    if not changed:
        return False
    details = {"reason": reason, "code": error.code, "http_status": error.http_status}
    audit.record(org_id, "integration_needs_reauth", integration=provider, details=details)
    notify(
        "integration.needs_reauth",
        {
            "org_id": org_id,
            "provider": provider,
            "reason": reason,
            "code": error.code,
            "severity": "high",
            "action": f"connect {provider} again: GET /oauth/{provider}/start?org_id={org_id}",
        },
    )
    metrics.add_metric(name="IntegrationNeedsReauth", unit="Count", value=1)
    logger.warning("integration_needs_reauth", extra={"org_id": org_id, "provider": provider, "reason": reason})
    return True


def announce_reauth_due(org_id: str, provider: str, expires_at: datetime, *, now: datetime | None = None) -> bool:
    """A token that cannot be refreshed expires soon: one ``integration.reauth_due`` event and
    audit record per token (the record keeps ``reauth_notified_for`` = that token's expiry,
    set conditionally: only one caller announces it). True when this call announced it."""
    if not get_settings().integrations_table:
        return False
    expiry = expires_at.isoformat()
    announced = _update_existing(
        org_id,
        provider,
        "attribute_exists(#org) AND (attribute_not_exists(#f0) OR #f0 <> :expiry)",
        {"reauth_notified_for": expiry},
        expiry=expiry,
    )
    if not announced:
        return False
    days_left = max(0, (expires_at - (now or records.now())).days)
    audit.record(
        org_id, "integration_reauth_due", integration=provider, details={"expires_at": expiry, "days_left": days_left}
    )
    notify(
        "integration.reauth_due",
        {
            "org_id": org_id,
            "provider": provider,
            "expires_at": expiry,
            "days_left": days_left,
            "severity": "medium",
            "action": f"connect {provider} again before it expires: GET /oauth/{provider}/start?org_id={org_id}",
        },
    )
    logger.info("integration_reauth_due", extra={"org_id": org_id, "provider": provider, "expires_at": expiry})
    return True
