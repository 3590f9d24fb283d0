"""Shared circuit breaker and rate limits (DynamoDB), under concurrency, and wired into
every adapter through ProviderClient."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import httpx
import pytest

from hub.aws import aws_client
from hub.errors import InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.providers.base.client import ProviderClient, ProviderCredentials
from hub.resilience.breaker import BreakerPolicy, CircuitBreaker
from hub.resilience.ratelimit import LimitRule, RateLimiter
from hub.retry import RetryPolicy
from tests.aws.conftest import HubAws


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def table(hub_aws: HubAws) -> str:
    return hub_aws.env["RESILIENCE_TABLE"]


def breaker(table: str, clock: Clock, cache_seconds: float = 0.0, **policy: int) -> CircuitBreaker:
    return CircuitBreaker(table, "acme-provider", BreakerPolicy(**policy), clock=clock, cache_seconds=cache_seconds)


@pytest.fixture
def breaker_reads() -> Iterator[list[str]]:
    """The breaker items read from DynamoDB (GetItem) from now on, by this process."""
    reads: list[str] = []

    def count(params: dict[str, Any], **_: Any) -> None:
        reads.append(params["Key"]["pk"]["S"])

    ddb = aws_client("dynamodb")
    ddb.meta.events.register("provide-client-params.dynamodb.GetItem", count)
    yield reads
    ddb.meta.events.unregister("provide-client-params.dynamodb.GetItem", count)


def test_opens_after_threshold_failures_and_fails_fast(table: str) -> None:
    clock = Clock()
    cb = breaker(table, clock, failure_threshold=5)
    for _ in range(4):
        assert cb.before_call() is False
        cb.record_failure(probe=False)
    assert cb.status().state == "closed"
    cb.record_failure(probe=False)
    assert cb.status().state == "open"
    with pytest.raises(ProviderUnavailableError, match="circuit open"):
        cb.before_call()


def test_failures_outside_the_window_do_not_add_up(table: str) -> None:
    clock = Clock()
    cb = breaker(table, clock, failure_threshold=3, window_seconds=60)
    cb.record_failure(probe=False)
    cb.record_failure(probe=False)
    clock.now += 61
    cb.record_failure(probe=False)
    assert cb.status().state == "closed"
    assert cb.status().failures == 1


@pytest.mark.parametrize("cache_seconds", [0.0, 1.0], ids=["uncached", "cached"])
def test_exactly_one_probe_after_recovery_under_concurrency(table: str, cache_seconds: float) -> None:
    clock = Clock()
    cb = breaker(table, clock, cache_seconds, failure_threshold=1, recovery_seconds=60)
    cb.record_failure(probe=False)
    clock.now += 61
    barrier = threading.Barrier(20)

    def contend(_: int) -> str:
        barrier.wait()
        try:
            return "probe" if breaker(table, clock, cache_seconds, failure_threshold=1).before_call() else "normal"
        except ProviderUnavailableError:
            return "rejected"

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(contend, range(20)))
    assert outcomes.count("probe") == 1
    assert outcomes.count("rejected") == 19
    assert cb.status().state == "half_open"


def test_probe_success_closes_and_probe_failure_reopens(table: str) -> None:
    clock = Clock()
    cb = breaker(table, clock, failure_threshold=1, recovery_seconds=60)
    cb.record_failure(probe=False)
    clock.now += 61
    assert cb.before_call() is True
    cb.record_failure(probe=True)
    assert cb.status().state == "open"
    with pytest.raises(ProviderUnavailableError):
        cb.before_call()
    clock.now += 61
    assert cb.before_call() is True
    cb.record_success(probe=True)
    status = cb.status()
    assert (status.state, status.failures) == ("closed", 0)
    assert cb.before_call() is False


def test_a_vanished_probe_is_replaced_after_its_timeout(table: str) -> None:
    clock = Clock()
    cb = breaker(table, clock, failure_threshold=1, recovery_seconds=60, probe_timeout_seconds=30)
    cb.record_failure(probe=False)
    clock.now += 61
    assert cb.before_call() is True  # this probe's Lambda dies without reporting
    with pytest.raises(ProviderUnavailableError):
        cb.before_call()
    clock.now += 31
    assert cb.before_call() is True


# ----- the per-container cache of the breaker's state (BREAKER_CACHE_SECONDS) ------------------


def test_a_hot_path_reads_the_breaker_once_per_cache_time(table: str, breaker_reads: list[str]) -> None:
    # Given a closed breaker remembered for 1 s
    clock = Clock()
    cb = breaker(table, clock, cache_seconds=1.0)
    # When calls follow each other within the second
    for _ in range(5):
        assert cb.before_call() is False
        clock.now += 0.1
    # Then DynamoDB was read once
    assert breaker_reads == ["breaker#acme-provider"]
    # and read again once what was seen is a second old
    clock.now += 0.6
    assert cb.before_call() is False
    assert len(breaker_reads) == 2


def test_an_open_breaker_fails_fast_without_reading_dynamodb(table: str, breaker_reads: list[str]) -> None:
    # Given a breaker this container just opened
    clock = Clock()
    cb = breaker(table, clock, cache_seconds=1.0, failure_threshold=1)
    cb.record_failure(probe=False)
    # When the next call comes
    with pytest.raises(ProviderUnavailableError) as info:
        cb.before_call()
    # Then it fails with circuit_open, from what the container knows
    assert info.value.code == "circuit_open"
    assert breaker_reads == []


def test_another_instances_change_is_seen_within_the_cache_time(table: str) -> None:
    # Given this container saw the breaker closed
    clock = Clock()
    here = breaker(table, clock, cache_seconds=1.0, failure_threshold=1)
    assert here.before_call() is False
    # When another instance opens it (it shares DynamoDB, not this container's memory)
    elsewhere = breaker(table, clock, failure_threshold=1)
    elsewhere.record_failure(probe=False)
    assert elsewhere.status().state == "open"
    clock.now += 0.5
    # Then this container may still call for at most the cache time, and fails fast after it
    assert here.before_call() is False
    clock.now += 0.5
    with pytest.raises(ProviderUnavailableError, match="circuit open"):
        here.before_call()


def remembered_open_at_recovery(table: str, clock: Clock) -> tuple[CircuitBreaker, CircuitBreaker]:
    """A container (``here``) that saw the breaker open less than its cache time ago, now that
    the recovery time is over, and another instance (uncached)."""
    here = breaker(table, clock, cache_seconds=1.0, failure_threshold=1, recovery_seconds=60)
    other = breaker(table, clock, failure_threshold=1, recovery_seconds=60)
    other.record_failure(probe=False)
    clock.now += 59.5
    with pytest.raises(ProviderUnavailableError):
        here.before_call()  # read, and remembered: open
    clock.now += 0.6
    return here, other


def test_a_cached_open_breaker_lets_exactly_one_probe_through_after_recovery(table: str) -> None:
    # Given a container that remembers the breaker open, and another instance that takes the
    # probe when the recovery time is over
    clock = Clock()
    here, other = remembered_open_at_recovery(table, clock)
    assert other.before_call() is True
    # When this container decides on what it remembers (still within its second)
    # Then the conditional write refuses it a second probe
    with pytest.raises(ProviderUnavailableError):
        here.before_call()


def test_a_probe_that_closed_the_breaker_meanwhile_lets_cached_callers_through(table: str) -> None:
    clock = Clock()
    here, other = remembered_open_at_recovery(table, clock)
    assert other.before_call() is True
    other.record_success(probe=True)  # the provider is back
    assert here.before_call() is False  # not refused on a stale "open"


def test_quota_is_exact_under_concurrency(table: str) -> None:
    limiter = RateLimiter(table, clock=Clock())
    rule = LimitRule("per_minute", 20, 60, "org")
    barrier = threading.Barrier(50)

    def take(_: int) -> bool:
        barrier.wait()
        try:
            limiter.acquire("asaas", rule, "acme")
            return True
        except RateLimitedError:
            return False

    with ThreadPoolExecutor(max_workers=50) as pool:
        granted = sum(pool.map(take, range(50)))
    assert granted == 20
    assert limiter.status("asaas", rule, "acme").remaining == 0


def test_spent_quota_says_when_it_resets_and_scopes_are_separate(table: str) -> None:
    clock = Clock(now=1_800_000_030.0)  # 30 s into a minute window
    limiter = RateLimiter(table, clock=clock)
    rule = LimitRule("per_minute", 2, 60, "org")
    assert limiter.acquire("asaas", rule, "acme") == 1
    assert limiter.acquire("asaas", rule, "acme") == 0
    with pytest.raises(RateLimitedError) as info:
        limiter.acquire("asaas", rule, "acme")
    assert info.value.retry_after == pytest.approx(30, abs=1)
    assert limiter.acquire("asaas", rule, "other-org") == 1  # another org's quota
    clock.now += 31
    assert limiter.acquire("asaas", rule, "acme") == 1  # a new window


class Flaky(ProviderClient):
    provider: ClassVar[str] = "flaky"
    default_base_url: ClassVar[str] = "https://flaky.test"

    def auth_headers(self) -> dict[str, str]:
        return {}

    def health_check(self) -> None:
        self.request("GET", "/health")


def flaky(status: int, calls: list[int]) -> Flaky:
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(status, json={"message": "x"})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    return Flaky(ProviderCredentials(), http=http, retry_policy=RetryPolicy(max_attempts=1), org_id="acme")


def test_adapter_calls_open_the_breaker_and_then_fail_fast_without_calling(table: str) -> None:
    calls: list[int] = []
    client = flaky(503, calls)
    for _ in range(5):
        with pytest.raises(ProviderUnavailableError):
            client.request("GET", "/x")
    assert len(calls) == 5
    with pytest.raises(ProviderUnavailableError, match="circuit open"):
        client.request("GET", "/x")
    assert len(calls) == 5  # failed fast: the provider was not called


def test_caller_errors_never_open_the_breaker(table: str) -> None:
    calls: list[int] = []
    client = flaky(400, calls)
    for _ in range(8):
        with pytest.raises(InvalidRequestError):
            client.request("GET", "/x")
    assert len(calls) == 8
    assert client.circuit_breaker() is not None
    assert client.circuit_breaker().status().state == "closed"  # type: ignore[union-attr]


def test_adapter_respects_configured_limits(table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.config import get_settings

    monkeypatch.setenv(
        "RATE_LIMIT_OVERRIDES", '{"flaky": [{"name": "per_min", "limit": 3, "window_seconds": 60, "scope": "org"}]}'
    )
    get_settings.cache_clear()
    calls: list[int] = []
    client = flaky(200, calls)
    for _ in range(3):
        client.request("GET", "/x")
    with pytest.raises(RateLimitedError) as info:
        client.request("GET", "/x")
    assert 0 < info.value.retry_after <= 60
    assert len(calls) == 3


def test_a_quota_pool_and_its_own_buckets_count_separate_operations() -> None:
    # YouTube's shape: search.list and videos.insert have their own daily buckets; every other
    # method draws on one unit pool (https://developers.google.com/youtube/v3/determine_quota_cost).
    from hub.resilience.ratelimit import DAY, rules_for

    youtube = [
        {
            "name": "units_per_day",
            "limit": 10_000,
            "window_seconds": DAY,
            "scope": "provider",
            "excludes": ("search.list", "videos.insert"),
        },
        {
            "name": "search_list_per_day",
            "limit": 100,
            "window_seconds": DAY,
            "scope": "provider",
            "applies_to": "search.list",
        },
        {
            "name": "videos_insert_per_day",
            "limit": 100,
            "window_seconds": DAY,
            "scope": "provider",
            "applies_to": "videos.insert",
        },
    ]
    rules = {r.name: r for r in rules_for("youtube", {"youtube": youtube})}
    assert rules["units_per_day"].limit == 10_000
    assert not rules["units_per_day"].applies("search.list")
    assert not rules["units_per_day"].applies("videos.insert")
    assert rules["units_per_day"].applies("channels.list")
    assert rules["search_list_per_day"].applies("search.list") and rules["search_list_per_day"].limit == 100
    assert not rules["search_list_per_day"].applies("channels.list")
    assert rules["videos_insert_per_day"].applies("videos.insert")


# ----- daily windows aligned on a time zone's midnight (YouTube: midnight Pacific) -----------------


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()


@pytest.mark.parametrize(
    ("now", "resets_at"),
    [
        # 23:30 PST (UTC-8): half an hour left, although the UTC day ended 7.5 h ago
        ("2026-01-15T23:30:00-08:00", "2026-01-16T00:00:00-08:00"),
        # 00:10 PDT (UTC-7): a new Pacific day that the UTC day (07:10Z) would not see
        ("2026-07-01T00:10:00-07:00", "2026-07-02T00:00:00-07:00"),
        # the 23-hour day DST starts (8 March 2026): midnight PST to midnight PDT
        ("2026-03-08T01:00:00-08:00", "2026-03-09T00:00:00-07:00"),
        # the 25-hour day DST ends (1 November 2026)
        ("2026-11-01T23:00:00-08:00", "2026-11-02T00:00:00-08:00"),
    ],
)
def test_a_daily_rule_with_a_reset_timezone_ends_at_that_zones_midnight(now: str, resets_at: str) -> None:
    from hub.resilience.ratelimit import DAY

    rule = LimitRule("units_per_day", 10_000, DAY, "provider", reset_timezone="America/Los_Angeles")
    index, ends = rule.window(_epoch(now))
    assert ends == _epoch(resets_at)
    # the next window starts exactly there and has another index
    assert rule.window(ends)[0] == index + 1 and rule.window(ends - 1)[0] == index


def test_rules_without_a_reset_timezone_keep_their_utc_windows() -> None:
    from hub.resilience.ratelimit import DAY

    rule = LimitRule("per_day", 5, DAY, "org")
    assert rule.window(_epoch("2026-01-15T23:30:00-08:00")) == (20469, _epoch("2026-01-17T00:00:00+00:00"))
    assert LimitRule("per_min", 5, 60).window(1_800_000_030.0) == (30_000_000, 1_800_000_060.0)


def test_a_reset_timezone_needs_a_daily_window_and_a_known_zone() -> None:
    from hub.resilience.ratelimit import DAY

    with pytest.raises(ValueError, match="window_seconds"):
        LimitRule("per_hour", 5, 3600, reset_timezone="America/Los_Angeles")
    with pytest.raises(Exception, match="Nowhere/Land"):
        LimitRule("per_day", 5, DAY, reset_timezone="Nowhere/Land").window(1_800_000_000.0)


def test_a_spent_pacific_quota_waits_until_pacific_midnight_and_then_refills(table: str) -> None:
    # Given a rule of 2 per Pacific day, at 22:00 PST (06:00 UTC the next day)
    from hub.resilience.ratelimit import DAY, rules_for

    [rule] = rules_for(
        "youtube",
        {"youtube": [{"name": "per_day", "limit": 2, "window_seconds": DAY, "reset_timezone": "America/Los_Angeles"}]},
    )
    clock = Clock(now=_epoch("2026-01-15T22:00:00-08:00"))
    limiter = RateLimiter(table, clock=clock)
    limiter.acquire("youtube", rule, "all")
    limiter.acquire("youtube", rule, "all")
    # When a third unit is asked for / Then it waits the 2 h until Pacific midnight, not UTC's
    with pytest.raises(RateLimitedError) as info:
        limiter.acquire("youtube", rule, "all")
    assert info.value.retry_after == pytest.approx(2 * 3600)
    assert limiter.status("youtube", rule, "all").resets_at == _epoch("2026-01-16T00:00:00-08:00")
    # and at Pacific midnight the day's units are back
    clock.now = _epoch("2026-01-16T00:00:00-08:00")
    assert limiter.acquire("youtube", rule, "all") == 1
