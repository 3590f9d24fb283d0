"""The console's read views: JSON built from the layer's own queries (hub.health, hub.eventlog,
hub.integrations, hub.ai.spend, hub.audit, hub.orgs). Nothing here reads a secret value."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from hub import audit, eventlog
from hub.ai.spend import current_month, daily_usd, get_budget, usage_report
from hub.config import get_settings
from hub.console.auth import ConsoleNotFoundError
from hub.credentials import PROVIDER_PATTERN, validate_org_id
from hub.errors import InvalidRequestError
from hub.health import HISTORY_DAYS, HealthReport, history_since, stored_org_reports
from hub.integrations import records
from hub.integrations.operations import list_integrations
from hub.invocation import parse_request
from hub.orgs import iter_orgs, require_org
from hub.storage import ObjectStorage

SUMMARY_FIELDS = ("record_id", "direction", "org_id", "provider", "type", "status", "at", "error_class")
REFRESH_FAILED = "token refresh failed"  # hub.integrations.lifecycle.refresh_failed's note
_ERROR_CLASS = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,99}$")


def parse_instant(name: str, value: str | None) -> datetime | None:
    """An ISO 8601 instant with its offset from a query string, or InvalidRequestError naming it."""
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise InvalidRequestError(
            f"{name}: must be an ISO 8601 date-time with an offset, e.g. 2026-12-01T00:00:00+00:00",
            code="invalid_request",
        )
    return parsed


def parse_limit(value: str | None, *, default: int, maximum: int) -> int:
    if value is None or value == "":
        return default
    if not value.isdigit() or not 1 <= int(value) <= maximum:
        raise InvalidRequestError(f"limit: must be a whole number from 1 to {maximum}", code="invalid_request")
    return int(value)


def provider_name(value: str | None, *, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise InvalidRequestError("provider: is required", code="invalid_request")
        return None
    if not PROVIDER_PATTERN.fullmatch(value):
        raise InvalidRequestError(
            "provider: must be a provider key (lowercase letters, digits, _ or -)", code="invalid_request"
        )
    return value


def orgs() -> dict[str, Any]:
    return {"orgs": [{"org_id": o.org_id, "name": o.name} for o in iter_orgs()]}


# ----- health ------------------------------------------------------------------------------------


def _token(record: records.IntegrationRecord | None) -> dict[str, Any] | None:
    """The integration's token: expiry, last refresh and its result. ``last_error`` is a refresh
    failure only when hub.integrations.lifecycle wrote it (a failed test or webhook registration
    leaves one too: not a refresh result)."""
    if record is None or (record.token_expires_at is None and record.token_refreshed_at is None):
        return None
    result: str | None
    if record.status == "needs_reauth":
        result = f"needs_reauth: {record.reason or 'grant revoked'}"
    elif record.last_error and record.last_error.startswith(REFRESH_FAILED):
        result = f"failed: {record.last_error}"
    else:
        result = "ok" if record.token_refreshed_at is not None else None
    return {
        "expires_at": record.token_expires_at.isoformat() if record.token_expires_at else None,
        "last_refresh_at": record.token_refreshed_at.isoformat() if record.token_refreshed_at else None,
        "last_refresh_result": result,
    }


def _degraded(row: Mapping[str, Any], record: records.IntegrationRecord | None) -> bool:
    """Something an operator should look at even when the last check passed: the check failed,
    the breaker is not closed, a quota is used up, the grant needs re-auth or a refresh failed."""
    token = row["token"] or {}
    return (
        row["status"] == "unhealthy"
        or row["breaker"] in ("open", "half_open")
        or any(q["remaining"] <= 0 for q in row["quotas"])
        or (record is not None and record.status == "needs_reauth")
        or (token.get("last_refresh_result") or "").startswith("failed")
    )


def _row(
    org_id: str,
    name: str,
    service: Any,
    checked_at: datetime | None,
    record: records.IntegrationRecord | None,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "org_id": org_id,
        "provider": name,
        "status": service.status if service else "unknown",
        "latency_ms": service.latency_ms if service else None,
        "breaker": service.breaker if service else None,
        "error": service.error if service else None,
        "checked_at": checked_at.isoformat() if service and checked_at else None,
        "quotas": [q.model_dump(mode="json") for q in (service.quotas or [])] if service else [],
        "token": _token(record),
    }
    row["degraded"] = _degraded(row, record)
    return row


def health() -> dict[str, Any]:
    """Every org's providers from the health schedule's latest reports, with token state from the
    integration records; an integration no report covers yet is ``unknown``. Degraded rows first:
    unhealthy, then healthy ones with a problem (``degraded``: breaker, quota, token), unknown, healthy."""
    reports: dict[str, HealthReport] = {r.org_id: r for r in stored_org_reports()}
    org_ids = sorted(set(reports) | {o.org_id for o in iter_orgs()})
    rows: list[dict[str, Any]] = []
    for org_id in org_ids:
        by_provider = {r.provider: r for r in records.list_records(org_id)}
        report = reports.get(org_id)
        services = report.services if report else {}
        checked_at = report.checked_at if report else None
        rows += [_row(org_id, name, service, checked_at, by_provider.get(name)) for name, service in services.items()]
        rows += [_row(org_id, name, None, None, record) for name, record in by_provider.items() if name not in services]
    rows.sort(key=lambda r: (_rank(r), r["org_id"], r["provider"]))
    return {"rows": rows}


def _rank(row: Mapping[str, Any]) -> int:
    if row["status"] == "unhealthy":
        return 0
    if row["degraded"]:
        return 1
    return 2 if row["status"] == "unknown" else 3


def health_history(org_id: str | None, provider: str | None, *, now: datetime | None = None) -> dict[str, Any]:
    """One org's provider over the stored 30 days, oldest first."""
    org = validate_org_id(org_id or "")
    name = provider_name(provider, required=True)
    since = (now or datetime.now(UTC)) - timedelta(days=HISTORY_DAYS)
    points = [
        {"at": r.checked_at.isoformat(), "latency_ms": s.latency_ms, "status": s.status}
        for r in history_since(org, since)
        if (s := r.services.get(name or "")) is not None
    ]
    return {"points": points}


# ----- events ------------------------------------------------------------------------------------


def _summary(detail: Any) -> dict[str, Any]:
    data: dict[str, Any] = detail.model_dump(mode="json")
    return {key: data.get(key) for key in SUMMARY_FIELDS}


def events(params: Mapping[str, str]) -> dict[str, Any]:
    """GET /console/api/events: the event log's page (newest first); ``q`` = one record id."""
    org_id = params.get("org_id") or ""
    validate_org_id(org_id)
    log = eventlog
    record_id = params.get("q")
    if record_id:
        detail = log.get_event(record_id[:200])
        items = [_summary(detail)] if detail is not None and detail.org_id == org_id else []
        return {"items": items, "cursor": None}
    query: dict[str, Any] = {
        "org_id": org_id,
        "provider": provider_name(params.get("provider")),
        "type": params.get("type") or None,
        "status": params.get("status") or None,
        "direction": params.get("direction") or None,
        "start": parse_instant("from", params.get("from")),
        "end": parse_instant("to", params.get("to")),
        "limit": parse_limit(params.get("limit"), default=50, maximum=200),
        "cursor": params.get("cursor") or None,
    }
    page = log.query_events(parse_request(log.EventQuery, {k: v for k, v in query.items() if v is not None}))
    return {"items": [_summary(item) for item in page.items], "cursor": page.cursor}


def archived_document(raw_ref: str | None) -> dict[str, Any] | None:
    """The archived request (hub.webhooks.archive's document: headers without secrets, the body
    with credential fields redacted), or None when there is none (outbound, expired)."""
    if not raw_ref or not raw_ref.startswith("raw/"):
        return None
    storage = ObjectStorage()
    try:
        doc: dict[str, Any] = json.loads(storage.get_bytes(get_settings().require("webhook_archive_bucket"), raw_ref))
    except storage.client.exceptions.NoSuchKey:
        return None
    return doc


def event_detail(record_id: str) -> dict[str, Any]:
    detail = eventlog.get_event(record_id)
    if detail is None:
        raise ConsoleNotFoundError(f"record_id: no event {record_id!r}", code="not_found")
    out: dict[str, Any] = detail.model_dump(mode="json")
    out["raw"] = archived_document(detail.raw_ref)
    return out


# ----- integrations, spend, audit, issues ---------------------------------------------------------


def integrations(org_id: str | None) -> dict[str, Any]:
    org = require_org(org_id or "")
    return {"integrations": [i.model_dump(mode="json") for i in list_integrations(org)]}


def money(value: Decimal) -> str:
    """A Decimal as fixed-point text, never an exponent (``str(Decimal("0E-9"))`` is "0E-9")."""
    return format(value, "f")


def _plain(value: Any) -> Any:
    """A report's Python dump as JSON values: Decimals as fixed-point text, dates as ISO 8601."""
    if isinstance(value, Decimal):
        return money(value)
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def spend(org_id: str | None, month: str | None, *, now: datetime | None = None) -> dict[str, Any]:
    """The org's month to date: AI lines by provider/model in USD and BRL, billed providers, the
    budget (USD, and in BRL at the report's rate), per day. Money is Decimal text, fixed-point."""
    org = require_org(org_id or "")
    if month:
        try:
            first = datetime.strptime(month, "%Y-%m").date()
        except ValueError:
            raise InvalidRequestError("month: must be YYYY-MM", code="invalid_request") from None
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    else:
        first, last = current_month(now)
    report = usage_report(org, first, last)
    budget = get_budget(org)
    rate = report.usd_brl_rate
    data = _plain(report.model_dump())
    return {
        "org_id": org,
        "month": f"{first:%Y-%m}",
        "usd_brl_rate": data["usd_brl_rate"],
        "budget_usd": money(budget.monthly_usd) if budget else None,
        "budget_brl": money(_brl(budget.monthly_usd, rate)) if budget else None,
        "total_usd": data["total_usd"],
        "total_brl": data["total_brl"],
        "providers_total_brl": data["providers_total_brl"],
        "grand_total_brl": data["grand_total_brl"],
        "lines": [
            {k: line[k] for k in ("provider", "model", "calls", "cost_usd", "cost_brl")} for line in data["lines"]
        ],
        "providers": data["providers"],
        "days": [
            {"day": day, "cost_usd": money(usd), "cost_brl": money(_brl(usd, rate))}
            for day, usd in daily_usd(org, first, last)
        ],
    }


def _brl(usd: Decimal, rate: Decimal) -> Decimal:
    """USD in BRL at ``rate``, to the centavo (as hub.ai.spend converts its lines)."""
    return (usd * rate).quantize(Decimal("0.01"), ROUND_HALF_EVEN)


def audit_page(params: Mapping[str, str], *, now: datetime | None = None) -> dict[str, Any]:
    """GET /console/api/audit: AuditQuery's page (the last 30 days unless from/to are given)."""
    end = now or datetime.now(UTC)
    payload: dict[str, Any] = {
        "org_id": params.get("org_id") or "",
        "from": params.get("from") or (end - timedelta(days=30)).isoformat(),
        "to": params.get("to") or end.isoformat(),
    }
    for key in ("action", "cursor"):
        if params.get(key):
            payload[key] = params[key]
    if params.get("limit"):
        payload["limit"] = parse_limit(params["limit"], default=50, maximum=200)
    page: dict[str, Any] = audit.query(parse_request(audit.AuditQueryRequest, payload)).model_dump(mode="json")
    return page


def issues(params: Mapping[str, str]) -> dict[str, Any]:
    org_id = params.get("org_id") or None
    if org_id is not None:
        validate_org_id(org_id)
    found = eventlog.list_issues(status=params.get("status") or None, org_id=org_id)
    return {"issues": [i.model_dump(mode="json") for i in found]}


def set_issue(
    org_id: str, provider: str, error_class: str, body: Mapping[str, Any], *, operator: str
) -> dict[str, Any]:
    validate_org_id(org_id)
    provider_name(provider, required=True)
    if not _ERROR_CLASS.fullmatch(error_class):
        raise InvalidRequestError(
            "error_class: must be an error class name (letters, digits, _ or .)", code="invalid_request"
        )
    status = body.get("status")
    if status not in ("open", "acknowledged", "resolved"):
        raise InvalidRequestError("status: must be open, acknowledged or resolved", code="invalid_request")
    issue = eventlog.set_issue_status(org_id, provider, error_class, status, actor=operator)
    result: dict[str, Any] = issue.model_dump(mode="json")
    return result
