"""The provider lines of UsageReport: what ``hub.usage.meter`` counted, priced, and each
provider's quotas now (the hub's own rate-limit counters, ``hub.resilience.ratelimit``)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from pydantic import BaseModel

from hub.aws import aws_client
from hub.config import get_settings
from hub.observability import logger
from hub.usage.meter import from_nano

_CENTS = Decimal("0.01")


class ProviderLine(BaseModel):
    provider: str
    operation: str
    calls: int
    errors: int
    errors_by_class: dict[str, int]
    units: int
    units_by_tariff: dict[str, int]
    cost_usd: Decimal | None  # billed in USD (None: not billed in USD)
    cost_brl: Decimal  # everything in BRL (USD converted at usd_brl_rate)


class QuotaLine(BaseModel):
    provider: str
    rule: str
    limit: int
    used: int
    remaining: int
    window_seconds: int | None
    resets_at: datetime


def months_between(start: date, end: date) -> list[str]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def provider_lines(org_id: str, months: list[str], rate: Decimal) -> list[ProviderLine]:
    """Counters of the given Brasília months, summed per (provider, operation)."""
    if not months:
        return []
    acc: dict[tuple[str, str], dict[str, Any]] = {}
    paginator = aws_client("dynamodb").get_paginator("query")
    for page in paginator.paginate(
        TableName=get_settings().require("spend_table"),
        KeyConditionExpression="org_id = :o AND sk BETWEEN :a AND :b",
        ExpressionAttributeValues={
            ":o": {"S": org_id},
            ":a": {"S": f"usage#{months[0]}#"},
            ":b": {"S": f"usage#{months[-1]}#\uffff"},
        },
    ):
        for item in page.get("Items", []):
            _, _, provider, operation = item["sk"]["S"].split("#", 3)
            line = acc.setdefault(
                (provider, operation),
                {"calls": 0, "errors": 0, "units": 0, "usd": 0, "brl": 0, "by_class": {}, "by_tariff": {}},
            )
            for name, value in item.items():
                if "N" not in value:
                    continue
                n = int(value["N"])
                if name in ("calls", "errors", "units"):
                    line[name] += n
                elif name == "cost_nano_usd":
                    line["usd"] += n
                elif name == "cost_nano_brl":
                    line["brl"] += n
                elif name.startswith("errors_"):
                    key = name.removeprefix("errors_")
                    line["by_class"][key] = line["by_class"].get(key, 0) + n
                elif name.startswith("units_"):
                    key = name.removeprefix("units_")
                    line["by_tariff"][key] = line["by_tariff"].get(key, 0) + n
    out = []
    for (provider, operation), line in sorted(acc.items()):
        usd = from_nano(line["usd"])
        brl = from_nano(line["brl"]) + usd * rate
        out.append(
            ProviderLine(
                provider=provider,
                operation=operation,
                calls=line["calls"],
                errors=line["errors"],
                errors_by_class=line["by_class"],
                units=line["units"],
                units_by_tariff=line["by_tariff"],
                cost_usd=usd if line["usd"] else None,
                cost_brl=brl.quantize(_CENTS, ROUND_HALF_EVEN),
            )
        )
    return out


def provider_costs(lines: list[ProviderLine]) -> Decimal:
    """The provider lines' total in BRL."""
    return sum((line.cost_brl for line in lines), Decimal(0)).quantize(_CENTS, ROUND_HALF_EVEN)


def quota_lines(org_id: str, providers: list[str]) -> list[QuotaLine]:
    """Each provider's limits for this org as they stand now (its own account scope needs its
    credentials: a provider whose secret cannot be read is left out)."""
    settings = get_settings()
    if not settings.resilience_table:
        return []
    from hub.providers import descriptor
    from hub.resilience.ratelimit import rules_for

    overrides = json.loads(settings.rate_limit_overrides) if settings.rate_limit_overrides else None
    out: list[QuotaLine] = []
    for provider in providers:
        found = descriptor(provider)
        rules = {rule.name: rule for rule in rules_for(provider, overrides)}
        if found is None or not rules or found.client is None:
            continue
        try:
            statuses = found.client_class().for_org(org_id).quota_status()
        except Exception as exc:  # noqa: BLE001 - a report never fails on one provider's quota
            logger.info("usage_quota_unavailable", extra={"provider": provider, "error": type(exc).__name__})
            continue
        for status in statuses:
            rule = rules.get(status.rule)
            out.append(
                QuotaLine(
                    provider=provider,
                    rule=status.rule,
                    limit=status.limit,
                    used=status.used,
                    remaining=status.remaining,
                    window_seconds=rule.window_seconds if rule else None,
                    resets_at=datetime.fromtimestamp(status.resets_at, UTC),
                )
            )
    return out
