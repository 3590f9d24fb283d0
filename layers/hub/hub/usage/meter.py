"""Counting every logical provider call, per (org, provider, month, operation).

The base client's :meth:`~hub.providers.base.client.ProviderClient.guarded` calls
:func:`count_call` once per logical call that reached the provider (retries inside it are one
call; a call refused before sending — integration disabled, breaker open, the hub's own rate
limit — is not a provider call). One ``UpdateItem`` with atomic ``ADD`` on the spend table:

    org_id=<org>, sk=usage#<yyyy-mm>#<provider>#<operation>
    calls, errors, errors_<ErrorClass>, units, units_<tariff>, cost_nano_usd | cost_nano_brl

A billed call with a cost also adds it to the org's month total (``month#<yyyy-mm>``, shared
with AI spend) so the budget thresholds see the org's whole spend: a second ``UpdateItem``, only
for calls that cost something. Months are Brasília's (America/Sao_Paulo, UTC-3 all year since
Brazil dropped daylight saving in 2019).

Counting never fails the provider call and never holds it long: no table, no counting; a
DynamoDB error is logged and the call's own outcome stands; the counter's client has short
timeouts and a single attempt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache
from typing import Any

from hub import metrics
from hub.brasilia import month_of
from hub.config import get_settings
from hub.observability import logger
from hub.usage.prices import Currency, price_of

_NANO = Decimal(1_000_000_000)
# Attribute-name safe pieces of a key (operation, error class, tariff): anything else becomes "_".
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def to_nano(amount: Decimal) -> int:
    return int((amount * _NANO).to_integral_value(rounding=ROUND_HALF_EVEN))


def from_nano(nano: int) -> Decimal:
    return (Decimal(nano) / _NANO).quantize(Decimal("0.000000001"))


@dataclass(frozen=True)
class Billing:
    """What one successful call bills.

    ``units`` of ``tariff`` (priced by :mod:`hub.usage.prices`), or an exact ``cost`` the
    provider stated (Asaas: ``value - netValue``) in ``currency``. Without either, the units
    are counted and nothing is priced."""

    units: int = 1
    tariff: str | None = None
    cost: Decimal | None = None
    currency: Currency = "BRL"

    def priced(self, provider: str) -> tuple[Decimal, Currency] | None:
        if self.cost is not None:
            return self.cost, self.currency
        if self.tariff is None:
            return None
        price = price_of(provider, self.tariff)
        if price is None:
            return None
        return price.amount * self.units, price.currency


def _safe(value: str) -> str:
    return _UNSAFE.sub("_", value)[:64] or "_"


@cache
def _counter_client() -> Any:
    """DynamoDB for counting: one attempt, short timeouts (a slow table must not hold the call)."""
    from botocore.config import Config

    from hub import aws

    config = Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=1, read_timeout=2)
    return aws._client_factory("dynamodb", config=config)


def count_call(
    org_id: str | None,
    provider: str,
    operation: str | None,
    *,
    error: BaseException | None = None,
    billing: Billing | None = None,
    now: datetime | None = None,
) -> None:
    """Count one logical call (``error``: how it failed). Never raises."""
    table = get_settings().spend_table
    if not table or not org_id:
        return
    try:
        _count(table, org_id, provider, operation or "call", error, billing, now)
    except Exception as exc:  # noqa: BLE001 - counting must never fail the provider call
        logger.warning(
            "usage_not_counted",
            extra={"provider": provider, "operation": operation, "error": type(exc).__name__},
        )


def _count(
    table: str,
    org_id: str,
    provider: str,
    operation: str,
    error: BaseException | None,
    billing: Billing | None,
    now: datetime | None,
) -> None:
    month = month_of(now)
    names: dict[str, str] = {}
    values: dict[str, Any] = {":one": {"N": "1"}}
    adds = ["calls :one"]
    cost: tuple[Decimal, Currency] | None = None
    if error is not None:
        names["#err"] = f"errors_{_safe(type(error).__name__)}"
        adds += ["errors :one", "#err :one"]
    elif billing is not None:
        values[":units"] = {"N": str(max(0, billing.units))}
        adds.append("units :units")
        if billing.tariff:
            names["#tariff"] = f"units_{_safe(billing.tariff)}"
            adds.append("#tariff :units")
        cost = billing.priced(provider)
        if cost is not None and cost[0] > 0:
            values[":cost"] = {"N": str(to_nano(cost[0]))}
            adds.append(f"cost_nano_{cost[1].lower()} :cost")
        else:
            cost = None
    client = _counter_client()
    client.update_item(
        TableName=table,
        Key={"org_id": {"S": org_id}, "sk": {"S": f"usage#{month}#{_safe(provider)}#{_safe(operation)}"}},
        UpdateExpression="ADD " + ", ".join(adds),
        ExpressionAttributeValues=values,
        **({"ExpressionAttributeNames": names} if names else {}),
    )
    if cost is not None:
        attribute = f"cost_nano_{cost[1].lower()}"
        nano = to_nano(cost[0])
        total = client.update_item(
            TableName=table,
            Key={"org_id": {"S": org_id}, "sk": {"S": f"month#{month}"}},
            UpdateExpression=f"ADD {attribute} :cost",
            ExpressionAttributeValues={":cost": {"N": str(nano)}},
            ReturnValues="ALL_NEW",
        )["Attributes"]
        metrics.spend(provider, cost[1], nano, org_id=org_id)
        from hub.ai import spend  # only billed calls pay for the budget code

        spend.budget_events(org_id, month, spend.total_usd_nano(total), added=True)
