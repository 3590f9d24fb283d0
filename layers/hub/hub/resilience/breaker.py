"""A circuit breaker shared by every Lambda instance, kept in DynamoDB.

closed --(N unavailable failures within the window)--> open --(recovery timeout)-->
half_open (exactly one caller, chosen by a conditional write, probes the provider)
--(probe succeeds)--> closed, or --(probe fails)--> open again.

Only ``ProviderUnavailableError`` counts as a failure: a caller's bad request (4xx) says
nothing about the provider's health. An open breaker fails fast with
``ProviderUnavailableError`` so fallbacks (Step Functions Catch) start immediately.
Seed defaults: 5 failures, 60 s recovery.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import ClientError

from hub.aws import aws_client
from hub.errors import ProviderUnavailableError

State = Literal["closed", "open", "half_open"]


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

    def __init__(self, table: str, key: str, policy: BreakerPolicy | None = None, clock: Any = time.time) -> None:
        self.table = table
        self.key = f"breaker#{key}"
        self.name = key
        self.policy = policy or BreakerPolicy()
        self.clock = clock

    @property
    def _ddb(self) -> Any:
        return aws_client("dynamodb")

    def _item(self) -> dict[str, Any]:
        item: dict[str, Any] = self._ddb.get_item(
            TableName=self.table, Key={"pk": {"S": self.key}}, ConsistentRead=True
        ).get("Item", {})
        return item

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
        or raise ProviderUnavailableError while the breaker is open."""
        item = self._item()
        state = item.get("state", {}).get("S", "closed")
        if state == "closed":
            return False
        now = self.clock()
        opened_at = float(item.get("opened_at", {}).get("N", "0"))
        if state == "open" and now < opened_at + self.policy.recovery_seconds:
            raise self._open_error(opened_at + self.policy.recovery_seconds - now)
        if state == "half_open" and now < float(item.get("probe_until", {}).get("N", "0")):
            raise self._open_error(self.policy.probe_timeout_seconds)
        # Recovery time is over (or the last probe vanished): exactly one caller wins the probe.
        try:
            self._ddb.update_item(
                TableName=self.table,
                Key={"pk": {"S": self.key}},
                UpdateExpression="SET #s = :half, probe_until = :until",
                ConditionExpression="#s = :seen AND opened_at = :opened",
                ExpressionAttributeNames={"#s": "state"},
                ExpressionAttributeValues={
                    ":half": {"S": "half_open"},
                    ":until": {"N": str(now + self.policy.probe_timeout_seconds)},
                    ":seen": {"S": state},
                    ":opened": item["opened_at"],
                },
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                raise self._open_error(self.policy.probe_timeout_seconds) from None
            raise
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

    def _open_error(self, retry_in: float) -> ProviderUnavailableError:
        return ProviderUnavailableError(
            f"circuit open for {self.name}; next probe in {max(0, round(retry_in))} s",
            provider=self.name.split("#", 1)[0],
            code="circuit_open",
        )
