"""Rate limits and quotas enforced across every Lambda instance (DynamoDB atomic counters).

Fixed windows: one counter item per (limit, scope, window). A unit is taken with a single
conditional ``UpdateItem`` (``used + cost <= limit``), so N concurrent consumers can never
exceed the limit. When it is spent we raise ``RateLimitedError(retry_after=<window end>)``
and the caller waits outside the function (SQS visibility, Step Functions Retry).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import ClientError

from hub.aws import aws_client
from hub.errors import RateLimitedError

Scope = Literal["provider", "org", "account"]


@dataclass(frozen=True)
class LimitRule:
    """``limit`` units per ``window_seconds`` for each scope value (an org, an account)."""

    name: str
    limit: int
    window_seconds: int
    scope: Scope = "org"
    note: str = ""
    # The operations it counts ("*" = every call, or e.g. "send" for messages/day).
    applies_to: str = "*"
    # Operations a "*" rule does not count (they have their own bucket).
    excludes: tuple[str, ...] = ()

    def applies(self, operation: str | None) -> bool:
        if operation in self.excludes:
            return False
        return self.applies_to == "*" or self.applies_to == operation


@dataclass(frozen=True)
class QuotaStatus:
    rule: str
    scope_value: str
    limit: int
    used: int
    remaining: int
    resets_at: float


class RateLimiter:
    def __init__(self, table: str, clock: Any = time.time) -> None:
        self.table = table
        self.clock = clock

    @staticmethod
    def _key(provider: str, rule: LimitRule, scope_value: str, window: int) -> str:
        return f"rate#{provider}#{rule.name}#{scope_value}#{window}"

    def _window(self, rule: LimitRule, now: float) -> tuple[int, float]:
        index = int(now // rule.window_seconds)
        return index, (index + 1) * rule.window_seconds

    def acquire(self, provider: str, rule: LimitRule, scope_value: str, cost: int = 1) -> int:
        """Take ``cost`` units or raise RateLimitedError; returns the units left."""
        now = self.clock()
        window, resets_at = self._window(rule, now)
        if cost > rule.limit:
            raise RateLimitedError(
                f"{provider} {rule.name}: a cost of {cost} exceeds the limit of {rule.limit}",
                provider=provider,
                retry_after=resets_at - now,
                code="quota_exceeded",
            )
        try:
            result = aws_client("dynamodb").update_item(
                TableName=self.table,
                Key={"pk": {"S": self._key(provider, rule, scope_value, window)}},
                UpdateExpression="SET used = if_not_exists(used, :zero) + :cost, expires_at = :expires",
                ConditionExpression="attribute_not_exists(used) OR used <= :max_before",
                ExpressionAttributeValues={
                    ":zero": {"N": "0"},
                    ":cost": {"N": str(cost)},
                    ":max_before": {"N": str(rule.limit - cost)},
                    # Keep the counter a while after its window for inspection; TTL removes it.
                    ":expires": {"N": str(int(resets_at + rule.window_seconds))},
                },
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            raise RateLimitedError(
                f"{provider} {rule.name} limit of {rule.limit} per {rule.window_seconds} s reached",
                provider=provider,
                retry_after=max(1.0, resets_at - now),
                code="quota_exceeded",
            ) from None
        return rule.limit - int(result["Attributes"]["used"]["N"])

    def status(self, provider: str, rule: LimitRule, scope_value: str) -> QuotaStatus:
        now = self.clock()
        window, resets_at = self._window(rule, now)
        item = (
            aws_client("dynamodb")
            .get_item(
                TableName=self.table,
                Key={"pk": {"S": self._key(provider, rule, scope_value, window)}},
                ConsistentRead=True,
            )
            .get("Item", {})
        )
        used = int(item.get("used", {}).get("N", "0"))
        return QuotaStatus(rule.name, scope_value, rule.limit, used, max(0, rule.limit - used), resets_at)


MINUTE, HOUR, DAY = 60, 3600, 86400


def rules_for(provider: str, overrides: Mapping[str, Any] | None = None) -> tuple[LimitRule, ...]:
    """The rules for a provider: its descriptor's defaults (what the provider publishes, each
    cited there), replaced wholesale by an override if present.

    Override shape: {"asaas": [{"name": "requests_per_minute", "limit": 50, "window_seconds": 60,
    "scope": "account"}]} — an empty list disables limiting for that provider."""
    if overrides and provider in overrides:
        return tuple(LimitRule(**rule) for rule in overrides[provider])
    from hub.providers import descriptor  # the defaults live with each provider (its descriptor)

    found = descriptor(provider)
    return found.limits if found else ()
