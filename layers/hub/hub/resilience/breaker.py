"""A circuit breaker shared by every Lambda instance, kept in DynamoDB.

closed --(N unavailable failures within the window)--> open --(recovery timeout)-->
half_open (exactly one caller, chosen by a conditional write, probes the provider)
--(probe succeeds)--> closed, or --(probe fails)--> open again.

Only ``ProviderUnavailableError`` counts as a failure: a caller's bad request (4xx) says
nothing about the provider's health. An open breaker fails fast with
``ProviderUnavailableError`` (``code="circuit_open"``) so fallbacks start immediately.
Seed defaults: 5 failures, 60 s recovery.

A container remembers what it last read or wrote of a breaker for ``cache_seconds``
(``BREAKER_CACHE_SECONDS``, 1 s): a hot path reads DynamoDB at most once per provider per
second, and an open breaker fails without any read. DynamoDB stays the one shared truth; the
cache only delays seeing another instance's change by at most that long (a breaker another
instance just opened lets this container's calls through for ≤ 1 s more). The half-open probe is
never decided from the cache: it is always the conditional write, so two probes cannot pass.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import ClientError

from hub import metrics
from hub.aws import aws_client
from hub.errors import ProviderUnavailableError

State = Literal["closed", "open", "half_open"]

# What this container last read or wrote of each breaker: (table, pk) -> (when, item). Module
# level, so warm invocations share it; it never leaves the container.
_SEEN: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}


def forget() -> None:
    """Drop every remembered breaker state (a fresh container; tests)."""
    _SEEN.clear()


@dataclass(frozen=True)
class BreakerPolicy:
    failure_threshold: int = 5
    window_seconds: int = 60
    recovery_seconds: int = 60
    # A probe that never reports back (its Lambda died) is given up after this long.
    probe_timeout_seconds: int = 30


@dataclass(frozen=True)
class BreakerStatus:
    key: str
    state: State
    failures: int
    opened_at: float | None
    retry_at: float | None  # when an open breaker lets a probe through


def _conditional_failed(exc: ClientError) -> bool:
    return bool(exc.response["Error"]["Code"] == "ConditionalCheckFailedException")


class CircuitBreaker:
    """One provider (or provider account)'s breaker. ``before_call`` → call →
    ``record_success``/``record_failure``. Returns whether this caller is the probe."""

    def __init__(
        self,
        table: str,
        key: str,
        policy: BreakerPolicy | None = None,
        clock: Any = time.time,
        cache_seconds: float = 0.0,
    ) -> None:
        self.table = table
        self.key = f"breaker#{key}"
        self.name = key
        self.policy = policy or BreakerPolicy()
        self.clock = clock
        self.cache_seconds = cache_seconds

    @property
    def _ddb(self) -> Any:
        return aws_client("dynamodb")

    def _item(self) -> dict[str, Any]:
        item: dict[str, Any] = self._ddb.get_item(
            TableName=self.table, Key={"pk": {"S": self.key}}, ConsistentRead=True
        ).get("Item", {})
        self._remember(item)
        return item

    def _remember(self, item: dict[str, Any]) -> None:
        if self.cache_seconds > 0:
            _SEEN[(self.table, self.key)] = (self.clock(), item)

    def _forget(self) -> None:
        _SEEN.pop((self.table, self.key), None)

    def _known_item(self) -> dict[str, Any]:
        """The breaker's item as this container saw it less than ``cache_seconds`` ago, or read
        now (a clock that went backwards invalidates what was seen)."""
        seen = _SEEN.get((self.table, self.key)) if self.cache_seconds > 0 else None
        if seen is not None and 0 <= self.clock() - seen[0] < self.cache_seconds:
            return seen[1]
        return self._item()

    def status(self) -> BreakerStatus:
        item = self._item()
        state: State = item.get("state", {}).get("S", "closed")
        opened = float(item["opened_at"]["N"]) if "opened_at" in item else None
        return BreakerStatus(
            key=self.name,
            state=state,
            failures=int(item.get("failures", {}).get("N", "0")),
            opened_at=opened if state != "closed" else None,
            retry_at=opened + self.policy.recovery_seconds if opened is not None and state == "open" else None,
        )

    def before_call(self) -> bool:
        """Allow the call (False = normal call, True = this caller is the half-open probe)
        or raise ProviderUnavailableError while the breaker is open. Closed and open are
        answered from what this container saw less than ``cache_seconds`` ago."""
        item = self._known_item()
        state = item.get("state", {}).get("S", "closed")
        if state == "closed":
            return False
        now = self.clock()
        opened_at = float(item.get("opened_at", {}).get("N", "0"))
        if state == "open" and now < opened_at + self.policy.recovery_seconds:
            raise self._open_error(opened_at + self.policy.recovery_seconds - now)
        if state == "half_open" and now < float(item.get("probe_until", {}).get("N", "0")):
            raise self._open_error(self.policy.probe_timeout_seconds)
        # Recovery time is over (or the last probe vanished): exactly one caller wins the probe,
        # by a conditional write on what was seen (never on the cache alone).
        until = now + self.policy.probe_timeout_seconds
        try:
            self._ddb.update_item(
                TableName=self.table,
                Key={"pk": {"S": self.key}},
                UpdateExpression="SET #s = :half, probe_until = :until",
                ConditionExpression="#s = :seen AND opened_at = :opened",
                ExpressionAttributeNames={"#s": "state"},
                ExpressionAttributeValues={
                    ":half": {"S": "half_open"},
                    ":until": {"N": str(until)},
                    ":seen": {"S": state},
                    ":opened": item["opened_at"],
                },
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
            # Another caller changed it first (took the probe, or its probe closed the breaker
            # while what we saw was cached): decide on what it is now.
            if self._item().get("state", {}).get("S", "closed") == "closed":
                return False
            raise self._open_error(self.policy.probe_timeout_seconds) from None
        self._remember({**item, "state": {"S": "half_open"}, "probe_until": {"N": str(until)}})
        return True

    def record_success(self, probe: bool) -> None:
        if not probe:
            return  # closed and healthy: no write on the hot path
        self._ddb.update_item(
            TableName=self.table,
            Key={"pk": {"S": self.key}},
            UpdateExpression="SET #s = :closed, failures = :zero, window_start = :now REMOVE opened_at, probe_until",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={
                ":closed": {"S": "closed"},
                ":zero": {"N": "0"},
                ":now": {"N": str(self.clock())},
            },
        )
        self._remember({"state": {"S": "closed"}})

    def record_failure(self, probe: bool) -> None:
        now = self.clock()
        if probe:
            self._open(now, expected_state="half_open")
            return
        failures = self._count_failure(now)
        if failures >= self.policy.failure_threshold:
            self._open(now, expected_state="closed")

    def _count_failure(self, now: float) -> int:
        cutoff = now - self.policy.window_seconds
        for _ in range(3):  # increment within the window, or start a new window; races retry
            try:
                result = self._ddb.update_item(
                    TableName=self.table,
                    Key={"pk": {"S": self.key}},
                    UpdateExpression="SET failures = failures + :one",
                    ConditionExpression="window_start >= :cutoff",
                    ExpressionAttributeValues={":one": {"N": "1"}, ":cutoff": {"N": str(cutoff)}},
                    ReturnValues="UPDATED_NEW",
                )
                return int(result["Attributes"]["failures"]["N"])
            except ClientError as exc:
                if not _conditional_failed(exc):
                    raise
            try:
                self._ddb.update_item(
                    TableName=self.table,
                    Key={"pk": {"S": self.key}},
                    UpdateExpression="SET failures = :one, window_start = :now, #s = if_not_exists(#s, :closed)",
                    ConditionExpression="attribute_not_exists(window_start) OR window_start < :cutoff",
                    ExpressionAttributeNames={"#s": "state"},
                    ExpressionAttributeValues={
                        ":one": {"N": "1"},
                        ":now": {"N": str(now)},
                        ":cutoff": {"N": str(cutoff)},
                        ":closed": {"S": "closed"},
                    },
                )
                return 1
            except ClientError as exc:
                if not _conditional_failed(exc):
                    raise
        return 0

    def _open(self, now: float, *, expected_state: str) -> None:
        try:
            self._ddb.update_item(
                TableName=self.table,
                Key={"pk": {"S": self.key}},
                UpdateExpression="SET #s = :open, opened_at = :now REMOVE probe_until",
                ConditionExpression="#s = :expected",
                ExpressionAttributeNames={"#s": "state"},
                ExpressionAttributeValues={
                    ":open": {"S": "open"},
                    ":now": {"N": str(now)},
                    ":expected": {"S": expected_state},
                },
            )
        except ClientError as exc:
            if not _conditional_failed(exc):  # someone else already opened it: fine
                raise
            self._forget()  # what it is now is read on the next call
            return
        self._remember({"state": {"S": "open"}, "opened_at": {"N": str(now)}})
        # Only the caller whose write opened it counts it; per provider, not per account or
        # instance (an Evolution breaker is per server: unbounded values).
        metrics.breaker_opened(self.name.split("#", 1)[0])

    def _open_error(self, retry_in: float) -> ProviderUnavailableError:
        return ProviderUnavailableError(
            f"circuit open for {self.name}; next probe in {max(0, round(retry_in))} s",
            provider=self.name.split("#", 1)[0],
            code="circuit_open",
        )
