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

# Defaults: what each provider publishes today (checked 2026-11-22). Every number is
# configuration: override per deployment with RATE_LIMIT_OVERRIDES (JSON, see docs/resilience.md).
DEFAULT_LIMITS: dict[str, tuple[LimitRule, ...]] = {
    # https://docs.asaas.com/docs/limites-da-api : 25,000 requests per 12 h per account; bursts limited too.
    "asaas": (
        LimitRule("requests_per_minute", 100, MINUTE, "account", "seed: 100/min"),
        LimitRule("requests_per_12h", 25_000, 12 * HOUR, "account", "Asaas quota per 12 h"),
    ),
    "pagbank": (LimitRule("requests_per_minute", 300, MINUTE, "account"),),
    # Graph API platform rate limit: 200 calls per user per hour (Instagram/Facebook).
    "instagram": (LimitRule("calls_per_hour", 200, HOUR, "account"),),
    "facebook": (LimitRule("calls_per_hour", 200, HOUR, "account"),),
    # YouTube Data API (https://developers.google.com/youtube/v3/determine_quota_cost): search.list
    # and videos.insert have their own buckets of 100 calls/day each (cost 1 per call); every other
    # method draws on a 10,000-unit daily pool (pass cost= the method's units). Resets at 00:00 PT.
    "youtube": (
        LimitRule("units_per_day", 10_000, DAY, "provider", excludes=("search.list", "videos.insert")),
        LimitRule("search_list_per_day", 100, DAY, "provider", applies_to="search.list"),
        LimitRule("videos_insert_per_day", 100, DAY, "provider", applies_to="videos.insert"),
    ),
    # Resend: 10 requests per second per team (https://resend.com/docs/api-reference/rate-limit);
    # the plan's daily/monthly email quota comes back as 429 daily/monthly_quota_exceeded.
    "resend": (LimitRule("requests_per_second", 10, 1, "account"),),
    # Amazon SES counts recipients: a production account starts at 14/s and 50,000/day
    # (GetAccount.SendQuota has the account's own figures: override per deployment).
    "ses": (
        LimitRule("recipients_per_minute", 840, MINUTE, "account", applies_to="send"),
        LimitRule("recipients_per_day", 50_000, DAY, "account", applies_to="send"),
    ),
    # Gemini: per-project RPM depends on the tier; free tier is low. Configure per deployment.
    "gemini": (LimitRule("requests_per_minute", 1_000, MINUTE, "provider"),),
    # WhatsApp Business messaging tier: 1,000 business-initiated conversations/day on tier 1.
    "evolution": (LimitRule("messages_per_day", 1_000, DAY, "account", applies_to="send"),),
    "whatsapp_cloud": (LimitRule("messages_per_day", 1_000, DAY, "account", applies_to="send"),),
    # Twilio: a sender's throughput is 1 message/s for a US long code and about 10/s for
    # international and alphanumeric senders; above it Twilio queues (up to ~10 h, then error
    # 21611). https://help.twilio.com/articles/115002943027
    "twilio": (
        LimitRule("messages_per_second", 10, 1, "account", "per sender, international default", applies_to="send"),
    ),
    # Pluggy (Open Finance aggregator): per-minute limits on auth and transactions
    # (https://docs.pluggy.ai/docs/rate-limits).
    "pluggy": (
        LimitRule("auth_per_minute", 360, MINUTE, "provider", applies_to="auth"),
        LimitRule("transactions_per_minute", 360, MINUTE, "provider", applies_to="transactions"),
    ),
    # SerpAPI: monthly plan searches (cached searches are free and not counted).
    "serpapi": (LimitRule("searches_per_month", 5_000, 30 * DAY, "provider", applies_to="search"),),
    # LinkedIn: daily per-app and per-member limits are only visible in its developer portal.
    "linkedin": (LimitRule("calls_per_day", 1_000, DAY, "provider"),),
}


def rules_for(provider: str, overrides: Mapping[str, Any] | None = None) -> tuple[LimitRule, ...]:
    """The rules for a provider: defaults, replaced wholesale by an override if present.

    Override shape: {"asaas": [{"name": "requests_per_minute", "limit": 50, "window_seconds": 60,
    "scope": "account"}]} — an empty list disables limiting for that provider."""
    if overrides and provider in overrides:
        return tuple(LimitRule(**rule) for rule in overrides[provider])
    return DEFAULT_LIMITS.get(provider, ())
