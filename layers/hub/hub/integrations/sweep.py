"""IntegrationTokensSweep: the scheduled half of refresh-ahead-of-expiry (docs/integrations.md,
"Token lifecycle"). Functions refresh an OAuth token on read, ``OAUTH_REFRESH_MARGIN_SECONDS``
before it expires; the sweep covers what no function reads:

* refresh-token grants (Google, Canva, LinkedIn partners) expiring within
  ``TOKEN_SWEEP_HORIZON_SECONDS`` (24 h) that nobody refreshed for ``TOKEN_SWEEP_IDLE_SECONDS``
  (24 h): an idle grant is exercised once a day (a revoked one is found before a function
  needs it), a token functions keep fresh is left alone;
* Meta's 60-day long-lived tokens (Facebook, Instagram) once fewer than
  ``LONG_LIVED_REFRESH_DAYS_LEFT`` (45) days are left — Nango never refreshes them;
* tokens that cannot be refreshed (LinkedIn without partner refresh tokens): one
  ``integration.reauth_due`` ``REAUTH_NOTICE_DAYS`` (7) before they expire.

Each refresh goes through the provider's ``token_provider().refresh_if_due(...)``: the same
lock and re-read as functions use, so the sweep never spends a refresh token twice. The records
come from a paginated scan of the integrations table (``auth = "oauth2"``); the run stops while
one more refresh still fits in the Lambda's remaining time (``truncated``): refreshed tokens are
not due at the next run, so each run gets further.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from pydantic import BaseModel, Field

from hub.aws import aws_client
from hub.config import get_settings
from hub.errors import AuthenticationError, ConfigurationError, HubError, InvalidRequestError
from hub.integrations import records
from hub.integrations.lifecycle import announce_reauth_due, refresh_failed
from hub.observability import logger, metrics
from hub.providers import descriptor
from hub.providers.base.auth import TokenProvider
from hub.requests import OperationRequest
from hub.runtime import remaining_seconds

# (org_id, provider) → the provider's token provider for the org.
Resolver = Callable[[str, str], TokenProvider]
# Kinds that can obtain a new token without the org; any other (an adapter that only reads the
# stored token) is announced before it expires instead.
REFRESHING_KINDS = frozenset({"oauth2", "long_lived", "client_credentials"})
_deserializer = TypeDeserializer()


class SweepRequest(OperationRequest):
    """Invoked by the schedule (no fields) or by hand."""

    now: datetime | None = Field(None, description="tests and replays: the time to act as (default: now)")


class SweepResult(BaseModel):
    checked: int = Field(0, description="oauth2 integrations with a token expiry looked at")
    refreshed: list[str] = Field(default_factory=list, description="org_id/provider refreshed by this run")
    not_due: int = Field(0, description="tokens left alone: far from expiry, or kept fresh by functions")
    reauth_due: list[str] = Field(default_factory=list, description="org_id/provider announced to the org now")
    needs_reauth: list[str] = Field(default_factory=list, description="org_id/provider whose grant was refused")
    failed: dict[str, str] = Field(default_factory=dict, description="org_id/provider -> error (will be retried)")
    truncated: bool = Field(False, description="stopped before the end: not enough time left for another refresh")


def token_provider_for(org_id: str, provider: str) -> TokenProvider:
    """The org's token provider, from the provider's adapter (``token_provider()``)."""
    found = descriptor(provider)
    if found is None or found.client is None:
        raise InvalidRequestError(f"provider {provider!r} has no adapter", provider=provider, code="unknown_provider")
    client = found.client_class().for_org(org_id)
    make: Any = getattr(client, "token_provider", None)
    if not callable(make):
        raise ConfigurationError(f"the {provider} adapter has no token_provider()", provider=provider)
    tokens = make()
    if not isinstance(tokens, TokenProvider):
        raise ConfigurationError(f"the {provider} adapter's token_provider() is not a TokenProvider", provider=provider)
    return tokens


def oauth_records() -> Iterator[records.IntegrationRecord]:
    """Every OAuth integration of every org, a page at a time."""
    kwargs: dict[str, Any] = {
        "TableName": get_settings().require("integrations_table"),
        "FilterExpression": "#auth = :oauth",
        "ExpressionAttributeNames": {"#auth": "auth"},
        "ExpressionAttributeValues": {":oauth": {"S": "oauth2"}},
    }
    client = aws_client("dynamodb")
    while True:
        page = client.scan(**kwargs)
        for item in page.get("Items", []):
            yield records.IntegrationRecord.model_validate({k: _deserializer.deserialize(v) for k, v in item.items()})
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _reserve_seconds() -> float:
    """Time one more refresh may take: a token call's read timeout, the retries' sleep, the margin."""
    settings = get_settings()
    return settings.http_read_timeout + settings.retry_max_total_sleep + settings.retry_safety_margin


def sweep_tokens(request: SweepRequest, *, resolve: Resolver = token_provider_for) -> SweepResult:
    settings = get_settings()
    now = request.now or records.now()
    horizon = timedelta(seconds=settings.token_sweep_horizon_seconds)
    idle = timedelta(seconds=settings.token_sweep_idle_seconds)
    long_lived = timedelta(days=settings.long_lived_refresh_days_left)
    notice = timedelta(days=settings.reauth_notice_days)
    widest = max(horizon, long_lived, notice)
    reserve = _reserve_seconds()
    result = SweepResult()
    for record in oauth_records():
        remaining = remaining_seconds()
        if remaining is not None and remaining < reserve:
            result.truncated = True
            break
        if record.status in records.BLOCKING_STATUSES or record.token_expires_at is None:
            continue  # refused until an operator or the org acts; or nothing known to refresh
        result.checked += 1
        left = record.token_expires_at - now
        if left > widest:  # decided from the record: no secret read
            result.not_due += 1
            continue
        name = f"{record.org_id}/{record.provider}"
        try:
            tokens = resolve(record.org_id, record.provider)
            if tokens.kind not in REFRESHING_KINDS or not tokens.refreshable:
                if left <= notice and announce_reauth_due(
                    record.org_id, record.provider, record.token_expires_at, now=now
                ):
                    result.reauth_due.append(name)
                else:
                    result.not_due += 1
                continue
            if tokens.kind == "long_lived":
                window = long_lived
            else:
                window = horizon
                recently = record.token_refreshed_at is not None and now - record.token_refreshed_at < idle
                if recently:  # functions keep it fresh on read
                    result.not_due += 1
                    continue
            if left > window or not tokens.refresh_if_due(window.total_seconds()):
                result.not_due += 1
                continue
            result.refreshed.append(name)
        except AuthenticationError as exc:
            if exc.http_status is not None or exc.code == "integration_needs_reauth":
                result.needs_reauth.append(name)  # marked (and the org told) in the guarded path
            else:
                result.failed[name] = f"{type(exc).__name__}: {exc.code or 'missing credentials'}"
        except HubError as exc:  # network, 5xx, 429, a busy lock: the token is not dead
            refresh_failed(record.org_id, record.provider, exc)
            result.failed[name] = f"{type(exc).__name__}: {exc.code or exc.http_status or 'error'}"
    metrics.add_metric(name="TokensRefreshedBySweep", unit="Count", value=len(result.refreshed))
    logger.info(
        "token_sweep",
        extra={
            "checked": result.checked,
            "refreshed": len(result.refreshed),
            "reauth_due": len(result.reauth_due),
            "needs_reauth": len(result.needs_reauth),
            "failed": len(result.failed),
            "truncated": result.truncated,
        },
    )
    return result
