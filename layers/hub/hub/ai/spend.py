"""What each client org spends on AI, exact under concurrency; the org's monthly budget.

Every priced call adds its tokens and cost to two DynamoDB items with atomic ``ADD``:
the day's line ``{day}#{provider}#{model}`` and the month's total ``month#{yyyy-mm}``
(days and months in Brasília time, ``hub.usage.meter``). Cost is stored as integer
nano-dollars (Decimal → int, half-even: a token of the cheapest embedding model is 20
nano-dollars, so nothing rounds away), so concurrent additions never drift (no floats, no
read-modify-write).

The month's total is the org's whole spend: billed calls of other providers (SerpAPI,
Twilio, Resend, WhatsApp Cloud, Asaas fees — ``hub.usage``) add their cost to the same item,
in the currency they are billed (``cost_nano_usd`` / ``cost_nano_brl``). The monthly budget
is in USD: BRL costs count at ``USD_BRL_RATE`` when compared with it. It raises
``budget.threshold`` events at 80 %, 100 % and 120 % of that total — each exactly once per
month (a conditional write claims it) — and can hard-stop further AI calls.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, Field, model_validator

from hub import metrics
from hub.ai.routing import TASK_ROUTES, Route, route_for
from hub.aws import aws_client
from hub.brasilia import brasilia_now, brasilia_today, month_of
from hub.bus import put_event
from hub.config import get_settings
from hub.credentials import validate_org_id
from hub.errors import InvalidRequestError
from hub.observability import logger
from hub.requests import OperationRequest, OrgId
from hub.usage.meter import from_nano, to_nano
from hub.usage.report import ProviderLine, QuotaLine, months_between, provider_costs, provider_lines, quota_lines

THRESHOLDS = (80, 100, 120)
__all__ = ["from_nano", "to_nano"]  # re-exported: they used to live here


class Budget(BaseModel):
    monthly_usd: Decimal = Field(gt=0)
    hard_stop: bool = False


def _table() -> str:
    return get_settings().require("spend_table")


def set_budget(org_id: str, budget: Budget) -> None:
    _budget_cache.pop(org_id, None)
    aws_client("dynamodb").put_item(
        TableName=_table(),
        Item={
            "org_id": {"S": org_id},
            "sk": {"S": "budget"},
            "monthly_usd": {"S": str(budget.monthly_usd)},
            "hard_stop": {"BOOL": budget.hard_stop},
        },
    )


_BUDGET_CACHE_SECONDS = 60.0
_budget_cache: dict[str, tuple[float, Budget | None]] = {}


def get_budget(org_id: str) -> Budget | None:
    """The org's budget; cached per container for a minute (it changes rarely, and every
    AI call asks)."""
    now = time.monotonic()
    cached = _budget_cache.get(org_id)
    if cached and cached[0] > now:
        return cached[1]
    budget = _read_budget(org_id)
    _budget_cache[org_id] = (now + _BUDGET_CACHE_SECONDS, budget)
    return budget


def _read_budget(org_id: str) -> Budget | None:
    item = (
        aws_client("dynamodb")
        .get_item(TableName=_table(), Key={"org_id": {"S": org_id}, "sk": {"S": "budget"}})
        .get("Item")
    )
    if not item:
        return None
    return Budget(monthly_usd=Decimal(item["monthly_usd"]["S"]), hard_stop=item.get("hard_stop", {}).get("BOOL", False))


def total_usd_nano(item: Mapping[str, Any]) -> int:
    """A month item's whole spend in nano-dollars: USD costs (AI and USD-billed providers)
    plus BRL-billed costs converted at ``USD_BRL_RATE``."""
    usd = int(item.get("cost_nano_usd", {}).get("N", "0"))
    brl = int(item.get("cost_nano_brl", {}).get("N", "0"))
    if not brl:
        return usd
    return usd + int((Decimal(brl) / get_settings().usd_brl_rate).to_integral_value(rounding=ROUND_HALF_EVEN))


def month_total_nano(org_id: str, month: str) -> int:
    """The org's whole spend in the (Brasília) month, in nano-dollars (see :func:`total_usd_nano`)."""
    item = (
        aws_client("dynamodb")
        .get_item(TableName=_table(), Key={"org_id": {"S": org_id}, "sk": {"S": f"month#{month}"}}, ConsistentRead=True)
        .get("Item", {})
    )
    return total_usd_nano(item)


def check_budget(org_id: str, now: datetime | None = None) -> None:
    """Before an AI call: refuse it when the org's hard-stop budget is spent. The budget is the
    org's total (AI and every billed provider); only AI calls are stopped."""
    if not get_settings().spend_table:
        return
    budget = get_budget(org_id)
    if budget is None or not budget.hard_stop:
        return
    if month_total_nano(org_id, month_of(now)) >= to_nano(budget.monthly_usd):
        raise InvalidRequestError(
            f"the org's monthly budget of USD {budget.monthly_usd} is spent (hard stop on AI calls)",
            code="budget_exhausted",
        )


def record_spend(
    org_id: str,
    provider: str,
    model: str,
    *,
    input_tokens: int,
    output_tokens: int,
    cost_usd: Decimal | None,
    now: datetime | None = None,
) -> None:
    """Add one call to the day's line and the month's total; fire budget events crossed."""
    if not get_settings().spend_table:
        return
    now = brasilia_now(now)
    nano = to_nano(cost_usd) if cost_usd is not None else 0
    ddb = aws_client("dynamodb")
    values = {
        ":in": {"N": str(input_tokens)},
        ":out": {"N": str(output_tokens)},
        ":one": {"N": "1"},
        ":nano": {"N": str(nano)},
    }
    ddb.update_item(
        TableName=_table(),
        Key={"org_id": {"S": org_id}, "sk": {"S": f"{now:%Y-%m-%d}#{provider}#{model}"}},
        UpdateExpression="ADD input_tokens :in, output_tokens :out, calls :one, cost_nano_usd :nano",
        ExpressionAttributeValues=values,
    )
    month = f"{now:%Y-%m}"
    total = ddb.update_item(
        TableName=_table(),
        Key={"org_id": {"S": org_id}, "sk": {"S": f"month#{month}"}},
        UpdateExpression="ADD input_tokens :in, output_tokens :out, calls :one, cost_nano_usd :nano",
        ExpressionAttributeValues=values,
        ReturnValues="ALL_NEW",  # the BRL-billed part of the total too
    )["Attributes"]
    metrics.spend(provider, "USD", nano, org_id=org_id)
    budget_events(org_id, month, total_usd_nano(total), added=nano > 0)


def budget_events(org_id: str, month: str, total_nano: int, *, added: bool) -> None:
    """After a cost was added to the month's total (AI or any billed provider): fire the
    thresholds the total has crossed, each once per month."""
    if not added:
        return
    budget = get_budget(org_id)
    if budget is None:
        return
    limit = to_nano(budget.monthly_usd)
    for pct in THRESHOLDS:
        # Crossed (now or by an earlier call whose event was lost): the conditional claim
        # makes each threshold fire exactly once per month, whoever gets there first.
        if total_nano >= limit * pct // 100 and _claim_alert(org_id, month, pct):
            try:
                _emit_budget_event(org_id, month, pct, total_nano, budget)
                metrics.budget_threshold(org_id, pct)  # the operators' alarm (template.yaml)
            except Exception:
                # Not published: give the claim back so the next cost added fires it.
                aws_client("dynamodb").delete_item(
                    TableName=_table(), Key={"org_id": {"S": org_id}, "sk": {"S": f"alert#{month}#{pct}"}}
                )
                raise


def _claim_alert(org_id: str, month: str, pct: int) -> bool:
    try:
        aws_client("dynamodb").put_item(
            TableName=_table(),
            Item={
                "org_id": {"S": org_id},
                "sk": {"S": f"alert#{month}#{pct}"},
                "at": {"S": datetime.now(UTC).isoformat()},
            },
            ConditionExpression="attribute_not_exists(sk)",
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _emit_budget_event(org_id: str, month: str, pct: int, total_nano: int, budget: Budget) -> None:
    detail = {
        "org_id": org_id,
        "month": month,
        "threshold_percent": pct,
        # The org's whole spend (AI + billed providers), BRL converted at usd_brl_rate.
        "spent_usd": str(from_nano(total_nano)),
        "budget_usd": str(budget.monthly_usd),
        "usd_brl_rate": str(get_settings().usd_brl_rate),
        "hard_stop": budget.hard_stop,
    }
    if get_settings().event_bus_name:
        put_event("budget.threshold", detail)
    logger.warning("budget_threshold", extra=detail)


_routes_cache: dict[str, tuple[float, dict[str, Route]]] = {}


def set_org_routes(org_id: str, routes: dict[str, Route]) -> None:
    """Per-org task → provider/model overrides (e.g. an org that wants Gemini for SDR)."""
    for task, route in routes.items():
        route_for(task=None, provider=route.provider, model=route.model)  # validates the provider
        if task not in TASK_ROUTES:
            raise InvalidRequestError(f"unknown task {task!r}", code="unknown_task")
    body = {task: {"provider": r.provider, "model": r.model} for task, r in routes.items()}
    aws_client("dynamodb").put_item(
        TableName=_table(),
        Item={"org_id": {"S": org_id}, "sk": {"S": "settings#routing"}, "routes": {"S": json.dumps(body)}},
    )
    _routes_cache.pop(org_id, None)


def org_routes(org_id: str) -> dict[str, Route]:
    """The org's overrides, cached per container for a minute."""
    if not get_settings().spend_table:
        return {}
    now = time.monotonic()
    cached = _routes_cache.get(org_id)
    if cached and cached[0] > now:
        return cached[1]
    item = (
        aws_client("dynamodb")
        .get_item(TableName=_table(), Key={"org_id": {"S": org_id}, "sk": {"S": "settings#routing"}})
        .get("Item")
    )
    routes = {task: Route(**r) for task, r in json.loads(item["routes"]["S"]).items()} if item else {}
    _routes_cache[org_id] = (now + _BUDGET_CACHE_SECONDS, routes)
    return routes


class UsageReportRequest(OperationRequest):
    org_id: OrgId
    # Both or neither: without them, the current month (Brasília), first to last day.
    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _both_or_neither(self) -> UsageReportRequest:
        if (self.start is None) != (self.end is None):
            missing = "start" if self.start is None else "end"
            raise ValueError(f"{missing} is required when the other date is given (or give neither)")
        return self


class UsageLine(BaseModel):
    provider: str
    model: str
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal
    cost_brl: Decimal


class UsageReport(BaseModel):
    org_id: str
    start: date
    end: date
    # AI spend per provider/model (day lines), and its totals — as before.
    lines: list[UsageLine]
    total_usd: Decimal
    total_brl: Decimal
    usd_brl_rate: Decimal
    # Every provider's calls, errors and billed cost per operation (hub.usage): monthly
    # counters, so these cover the whole Brasília months the period touches (``months``).
    months: list[str]
    providers: list[ProviderLine]
    quotas: list[QuotaLine]
    providers_total_brl: Decimal
    # AI + providers, in BRL (USD converted at usd_brl_rate).
    grand_total_brl: Decimal


def report_usage(request: UsageReportRequest) -> UsageReport:
    """UsageReport's logic: the given period, or the current month (Brasília)."""
    start, end = request.start, request.end
    if start is None or end is None:
        start, end = current_month()
    return usage_report(validate_org_id(request.org_id), start, end)


def current_month(now: datetime | None = None) -> tuple[date, date]:
    """First and last day of the Brasília month ``now`` is in."""
    today = brasilia_today(now)
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def day_items(org_id: str, start: date, end: date) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """The AI spend day lines between two days (inclusive): (day, provider, model, item), by day."""
    paginator = aws_client("dynamodb").get_paginator("query")
    for page in paginator.paginate(
        TableName=_table(),
        KeyConditionExpression="org_id = :o AND sk BETWEEN :a AND :b",
        ExpressionAttributeValues={
            ":o": {"S": org_id},
            ":a": {"S": f"{start:%Y-%m-%d}#"},
            ":b": {"S": f"{end:%Y-%m-%d}#\uffff"},
        },
    ):
        for item in page.get("Items", []):
            day, provider, model = item["sk"]["S"].split("#", 2)
            yield day, provider, model, item


def daily_usd(org_id: str, start: date, end: date) -> list[tuple[str, Decimal]]:
    """AI spend per day (USD), for the days that have any, oldest first (the console's chart)."""
    days: dict[str, int] = {}
    for day, _provider, _model, item in day_items(org_id, start, end):
        days[day] = days.get(day, 0) + int(item.get("cost_nano_usd", {}).get("N", "0"))
    return [(day, from_nano(nano)) for day, nano in sorted(days.items())]


def usage_report(org_id: str, start: date, end: date) -> UsageReport:
    """Spend per provider/model between two days (inclusive), in USD and BRL, and every
    provider's usage in the months those days touch."""
    if end < start:
        raise InvalidRequestError("end must not be before start", code="invalid_period")
    rate = get_settings().usd_brl_rate
    lines: dict[tuple[str, str], dict[str, int]] = {}
    for _day, provider, model, item in day_items(org_id, start, end):
        acc = lines.setdefault((provider, model), {"calls": 0, "in": 0, "out": 0, "nano": 0})
        acc["calls"] += int(item.get("calls", {}).get("N", "0"))
        acc["in"] += int(item.get("input_tokens", {}).get("N", "0"))
        acc["out"] += int(item.get("output_tokens", {}).get("N", "0"))
        acc["nano"] += int(item.get("cost_nano_usd", {}).get("N", "0"))
    out: list[UsageLine] = []
    for (provider, model), acc in sorted(lines.items()):
        usd = from_nano(acc["nano"])
        out.append(
            UsageLine(
                provider=provider,
                model=model,
                calls=acc["calls"],
                input_tokens=acc["in"],
                output_tokens=acc["out"],
                cost_usd=usd,
                cost_brl=(usd * rate).quantize(Decimal("0.01"), ROUND_HALF_EVEN),
            )
        )
    total_usd = from_nano(sum(acc["nano"] for acc in lines.values()))
    total_brl = (total_usd * rate).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    months = months_between(start, end)
    providers = provider_lines(org_id, months, rate)
    providers_brl = provider_costs(providers)
    return UsageReport(
        org_id=org_id,
        start=start,
        end=end,
        lines=out,
        total_usd=total_usd,
        total_brl=total_brl,
        usd_brl_rate=rate,
        months=months,
        providers=providers,
        quotas=quota_lines(org_id, sorted({line.provider for line in providers})),
        providers_total_brl=providers_brl,
        grand_total_brl=total_brl + providers_brl,
    )
