"""Rate limits and quotas enforced across every Lambda instance (DynamoDB atomic counters).

Fixed windows: one counter item per (limit, scope, window). Windows are aligned on UTC
(``now // window_seconds``), or, for a daily rule with ``reset_timezone``, on that zone's
midnight (YouTube's quota resets at midnight Pacific time, 23 or 25 hours apart around daylight
saving changes). A unit is taken with a single
conditional ``UpdateItem`` (``used + cost <= limit``), so N concurrent consumers can never
exceed the limit. When it is spent we raise ``RateLimitedError(retry_after=<window end>)``
and the caller waits outside the function (SQS visibility, Step Functions Retry).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from botocore.exceptions import ClientError

from hub.aws import aws_client
from hub.errors import RateLimitedError

Scope = Literal["provider", "org", "account"]
MINUTE, HOUR, DAY = 60, 3600, 86400


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
    # A daily rule (window_seconds == DAY) whose day starts at midnight in this IANA zone
    # instead of UTC (e.g. "America/Los_Angeles"). None: UTC-aligned fixed windows.
    reset_timezone: str | None = None

    def __post_init__(self) -> None:
        # The zone itself is loaded on first use, not here: the registry builds every
        # provider's rules at import, and a cold start should not read the tz database.
        if self.reset_timezone is not None and self.window_seconds != DAY:
            raise ValueError(f"rule {self.name!r}: reset_timezone needs window_seconds = {DAY} (a day)")

    def applies(self, operation: str | None) -> bool:
        if operation in self.excludes:
            return False
        return self.applies_to == "*" or self.applies_to == operation

    def window(self, now: float) -> tuple[int, float]:
        """The window ``now`` falls in (an index unique per window) and when it ends (epoch s)."""
        if self.reset_timezone is None:
            index = int(now // self.window_seconds)
            return index, float((index + 1) * self.window_seconds)
        zone = _zone(self.reset_timezone)
        today = datetime.fromtimestamp(now, zone).date()
        # The next local midnight, whatever the day's length (23/25 h around DST changes).
        midnight = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=zone)
        return today.toordinal(), midnight.timestamp()


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


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
        return rule.window(now)

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
