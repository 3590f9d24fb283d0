"""Health of the integrations: the platform's, and one organisation's (seed §10 contract,
``{"status", "services"}``).

Checks run concurrently, each capped at ``HEALTH_CHECK_TIMEOUT`` (5 s): the answer
never takes much longer than the slowest allowed check, however many integrations.
A schedule (every 5 minutes) checks every org and stores the latest report and a
history (30 days); ``GET /health/integrations?org_id=…`` reads the org's latest, or checks
live. Without ``org_id`` it answers for the platform (:func:`platform_health`): per provider,
how many orgs are healthy, degraded or down and their breakers' states, from every org's
latest stored report (an index partition of the health table, so one Query reads them all).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from hub import metrics as hub_metrics
from hub.aws import aws_client
from hub.config import get_settings
from hub.credentials import APPS_SEGMENT, configured_providers, validate_org_id
from hub.errors import HubError
from hub.observability import logger
from hub.orgs import require_org
from hub.providers import descriptor
from hub.storage import ObjectStorage

if TYPE_CHECKING:
    from hub.providers.base.client import ProviderClient

HISTORY_DAYS = 30
# The platform index: one item per org (its latest report) under one partition key that no
# org id can take (org ids are [a-z0-9_-]). An org that is no longer checked drops out.
PLATFORM_PARTITION = "#platform"
PLATFORM_INDEX_SECONDS = 24 * 3600


class QuotaView(BaseModel):
    rule: str
    limit: int
    remaining: int
    resets_at: datetime


class ServiceHealth(BaseModel):
    status: Literal["healthy", "unhealthy"]
    latency_ms: float | None = None
    error: str | None = None
    breaker: Literal["closed", "open", "half_open"] | None = None
    quotas: list[QuotaView] | None = None


class HealthReport(BaseModel):
    status: Literal["healthy", "degraded"]
    org_id: str
    checked_at: datetime
    services: dict[str, ServiceHealth]


def _storage_check() -> None:
    ObjectStorage().head_bucket(get_settings().require("webhook_archive_bucket"))


def _adapter_check(adapter: type[ProviderClient], org_id: str) -> None:
    adapter.for_org(org_id).health_check()


def _shared_state(adapter: type[ProviderClient], org_id: str) -> dict[str, Any]:
    """The breaker state and remaining quotas of this org's integration."""
    try:
        client = adapter.for_org(org_id)
        breaker = client.circuit_breaker()
        quotas = [
            QuotaView(
                rule=q.rule,
                limit=q.limit,
                remaining=q.remaining,
                resets_at=datetime.fromtimestamp(q.resets_at, tz=UTC),
            )
            for q in client.quota_status()
        ]
        return {"breaker": breaker.status().state if breaker else None, "quotas": quotas or None}
    except HubError:
        return {}


def _adapter(provider: str) -> type[ProviderClient] | None:
    """The client class the health check probes for this provider key (``hub.providers.ADAPTERS``),
    imported for the org's own providers only, not every adapter at init (cold start)."""
    found = descriptor(provider)
    if found is None or found.key != provider or not found.client or not found.health_check:
        return None
    return found.client_class()


def _checks_for(org_id: str) -> dict[str, tuple[Callable[[], None], Callable[[], dict[str, Any]]]]:
    checks: dict[str, tuple[Callable[[], None], Callable[[], dict[str, Any]]]] = {"storage": (_storage_check, dict)}
    for provider in configured_providers(org_id):
        adapter = _adapter(provider)
        if adapter is None:
            logger.info("health_no_adapter", extra={"provider": provider, "org_id": org_id})
            continue
        checks[provider] = (
            functools.partial(_adapter_check, adapter, org_id),
            functools.partial(_shared_state, adapter, org_id),
        )
    return checks


def _run(check: Callable[[], None], shared_state: Callable[[], dict[str, Any]]) -> ServiceHealth:
    started = time.perf_counter()
    try:
        check()
    except HubError as exc:
        result = ServiceHealth(status="unhealthy", error=f"{type(exc).__name__}: {exc.message}")
    except Exception as exc:  # noqa: BLE001 - a health check reports any failure, never crashes the endpoint
        result = ServiceHealth(status="unhealthy", error=type(exc).__name__)
    else:
        result = ServiceHealth(status="healthy", latency_ms=round((time.perf_counter() - started) * 1000, 1))
    return result.model_copy(update=shared_state())


def check_integrations(org_id: str) -> HealthReport:
    validate_org_id(org_id)
    timeout = get_settings().health_check_timeout
    checks = _checks_for(org_id)
    pool = ThreadPoolExecutor(max_workers=max(1, len(checks)))
    futures = {name: pool.submit(_run, *fns) for name, fns in checks.items()}
    wait(futures.values(), timeout=timeout)
    pool.shutdown(wait=False, cancel_futures=True)
    services: dict[str, ServiceHealth] = {}
    for name, future in futures.items():
        if future.done():
            services[name] = future.result()
        else:
            services[name] = ServiceHealth(status="unhealthy", error=f"timed out after {timeout:g} s")
    overall: Literal["healthy", "degraded"] = (
        "healthy" if all(s.status == "healthy" for s in services.values()) else "degraded"
    )
    return HealthReport(status=overall, org_id=org_id, checked_at=datetime.now(UTC), services=services)


# ----- stored reports ------------------------------------------------------------------------


def record_report(report: HealthReport) -> None:
    """Store the latest report and a history entry (expires after HISTORY_DAYS)."""
    table = get_settings().require("health_table")
    body = {"S": report.model_dump_json(exclude_none=True)}
    at = report.checked_at.isoformat()
    expires = {"N": str(int(report.checked_at.timestamp()) + HISTORY_DAYS * 86400)}
    ddb = aws_client("dynamodb")
    ddb.put_item(TableName=table, Item={"org_id": {"S": report.org_id}, "sk": {"S": "latest"}, "report": body})
    ddb.put_item(
        TableName=table,
        Item={"org_id": {"S": report.org_id}, "sk": {"S": f"history#{at}"}, "report": body, "expires_at": expires},
    )
    ddb.put_item(
        TableName=table,
        Item={
            "org_id": {"S": PLATFORM_PARTITION},
            "sk": {"S": f"org#{report.org_id}"},
            "report": body,
            "expires_at": {"N": str(int(report.checked_at.timestamp()) + PLATFORM_INDEX_SECONDS)},
        },
    )
    for name, service in report.services.items():
        # One metric per measure with a Provider dimension (hub.metrics), not one name per
        # provider: ProviderHealthy 1/0, BreakerOpen 1/0 (open or probing: not closed) and
        # what is left of each limit. The breaker alarm watches BreakerOpen (template.yaml).
        hub_metrics.provider_health(
            name,
            healthy=service.status == "healthy",
            breaker_open=None if service.breaker is None else service.breaker != "closed",
            quotas=[(q.rule, q.limit, q.remaining) for q in service.quotas or []],
            org_id=report.org_id,
        )


def latest_report(org_id: str) -> HealthReport | None:
    table = get_settings().require("health_table")
    item = (
        aws_client("dynamodb")
        .get_item(TableName=table, Key={"org_id": {"S": validate_org_id(org_id)}, "sk": {"S": "latest"}})
        .get("Item")
    )
    return HealthReport.model_validate_json(item["report"]["S"]) if item else None


def report_history(org_id: str, limit: int = 50) -> list[HealthReport]:
    table = get_settings().require("health_table")
    items = aws_client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="org_id = :o AND begins_with(sk, :h)",
        ExpressionAttributeValues={":o": {"S": validate_org_id(org_id)}, ":h": {"S": "history#"}},
        ScanIndexForward=False,
        Limit=limit,
    )["Items"]
    return [HealthReport.model_validate_json(i["report"]["S"]) for i in items]


def history_since(org_id: str, since: datetime) -> Iterator[HealthReport]:
    """Every stored history report of the org checked at or after ``since``, oldest first
    (page after page: 30 days of 5-minute checks are more than one Query page)."""
    table = get_settings().require("health_table")
    paginator = aws_client("dynamodb").get_paginator("query")
    for page in paginator.paginate(
        TableName=table,
        KeyConditionExpression="org_id = :o AND sk BETWEEN :a AND :b",
        ExpressionAttributeValues={
            ":o": {"S": validate_org_id(org_id)},
            ":a": {"S": f"history#{since.astimezone(UTC).isoformat()}"},
            ":b": {"S": "history#\uffff"},
        },
    ):
        for item in page.get("Items", []):
            yield HealthReport.model_validate_json(item["report"]["S"])


def health_for(org_id: str, *, live: bool) -> HealthReport:
    """What GET /health/integrations answers: the stored latest, or a live check."""
    require_org(org_id)
    if not live and (stored := latest_report(org_id)) is not None:
        return stored
    report = check_integrations(org_id)
    record_report(report)
    return report


# ----- the platform ---------------------------------------------------------------------------

OrgState = Literal["healthy", "degraded", "down"]


class OrgCounts(BaseModel):
    healthy: int = 0
    degraded: int = 0
    down: int = 0


class PlatformService(BaseModel):
    """One provider (or ``storage``) across every org that has it configured."""

    # healthy: every org's integration healthy; unhealthy: every org's down; degraded: between.
    status: Literal["healthy", "degraded", "unhealthy"]
    orgs: OrgCounts
    breakers: dict[str, int]  # breaker state -> how many orgs ({"closed": 3, "open": 1})
    affected_orgs: list[str]  # the orgs degraded or down, sorted


class PlatformReport(BaseModel):
    status: Literal["healthy", "degraded"]
    orgs: dict[str, int]  # {"total", "healthy", "degraded"}: each org's own overall status
    checked_at: datetime | None = None  # the oldest of the reports summed up (how stale it may be)
    services: dict[str, PlatformService]


def _org_state(service: ServiceHealth) -> OrgState:
    if service.status != "healthy" or service.breaker == "open":
        return "down"
    if service.breaker == "half_open":
        return "degraded"
    return "healthy"


def stored_org_reports(*, now: datetime | None = None) -> list[HealthReport]:
    """Every org's latest stored report, from the platform index (expired entries skipped)."""
    table = get_settings().require("health_table")
    cutoff = int((now or datetime.now(UTC)).timestamp())
    reports: list[HealthReport] = []
    paginator = aws_client("dynamodb").get_paginator("query")
    for page in paginator.paginate(
        TableName=table,
        KeyConditionExpression="org_id = :p AND begins_with(sk, :o)",
        ExpressionAttributeValues={":p": {"S": PLATFORM_PARTITION}, ":o": {"S": "org#"}},
    ):
        for item in page.get("Items", []):
            if int(item.get("expires_at", {}).get("N", cutoff)) < cutoff:
                continue  # DynamoDB's TTL deletes lazily
            reports.append(HealthReport.model_validate_json(item["report"]["S"]))
    return reports


def summarise(reports: list[HealthReport]) -> PlatformReport:
    """Per provider: orgs healthy / degraded / down and breaker states; overall as the seed's."""
    states: dict[str, dict[str, OrgState]] = {}
    breakers: dict[str, dict[str, int]] = {}
    for report in reports:
        for name, service in report.services.items():
            states.setdefault(name, {})[report.org_id] = _org_state(service)
            if service.breaker is not None:
                by_state = breakers.setdefault(name, {})
                by_state[service.breaker] = by_state.get(service.breaker, 0) + 1
    services: dict[str, PlatformService] = {}
    for name in sorted(states):
        by_org = states[name]
        counts = OrgCounts(
            healthy=sum(s == "healthy" for s in by_org.values()),
            degraded=sum(s == "degraded" for s in by_org.values()),
            down=sum(s == "down" for s in by_org.values()),
        )
        status: Literal["healthy", "degraded", "unhealthy"] = (
            "healthy" if counts.healthy == len(by_org) else "unhealthy" if counts.down == len(by_org) else "degraded"
        )
        services[name] = PlatformService(
            status=status,
            orgs=counts,
            breakers=dict(sorted(breakers.get(name, {}).items())),
            affected_orgs=sorted(org for org, state in by_org.items() if state != "healthy"),
        )
    healthy_orgs = sum(r.status == "healthy" for r in reports)
    return PlatformReport(
        status="healthy" if all(s.status == "healthy" for s in services.values()) else "degraded",
        orgs={"total": len(reports), "healthy": healthy_orgs, "degraded": len(reports) - healthy_orgs},
        checked_at=min((r.checked_at for r in reports), default=None),
        services=services,
    )


def platform_health() -> PlatformReport:
    """What GET /health/integrations answers without org_id: the schedule's latest reports."""
    return summarise(stored_org_reports())


def all_orgs() -> list[str]:
    """Every org that has at least one provider secret (not the hub's own ``_apps`` secrets:
    OAuth apps, the Sentry DSN — ``_apps`` can never be an org id)."""
    prefix = f"{get_settings().secrets_prefix}/"
    orgs: set[str] = set()
    paginator = aws_client("secretsmanager").get_paginator("list_secrets")
    for page in paginator.paginate(Filters=[{"Key": "name", "Values": [prefix]}]):
        for entry in page.get("SecretList", []):
            parts = entry.get("Name", "")[len(prefix) :].split("/")
            if len(parts) == 2 and parts[0] != APPS_SEGMENT:
                orgs.add(parts[0])
    return sorted(orgs)


def scheduled_check() -> dict[str, str]:
    """The 5-minute schedule: check and record every org; returns org → overall status."""
    results: dict[str, str] = {}
    for org_id in all_orgs():
        try:
            report = check_integrations(org_id)
            record_report(report)
            results[org_id] = report.status
        except HubError as exc:  # one org's bad data must not stop the others
            logger.error("health_check_failed", extra={"org_id": org_id, "error": exc.message})
            results[org_id] = "error"
    return results
