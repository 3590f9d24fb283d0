"""The operators' metrics as CloudWatch reads them: the EMF lines a function prints (captured
from stdout), with their dimension sets and values, for provider calls through the adapter
base, the health schedule's readings, breakers, spend and budgets."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

import httpx
import pytest
from botocore.exceptions import ClientError

from hub import metrics
from hub.ai import spend
from hub.config import get_settings
from hub.errors import InvalidRequestError, ProviderUnavailableError
from hub.health import HealthReport, QuotaView, ServiceHealth, record_report
from hub.providers.base.client import ProviderClient, ProviderCredentials
from hub.resilience.breaker import BreakerPolicy, CircuitBreaker
from hub.retry import RetryPolicy

FUNCTION = "hub-dev-WebSearch-1A2B3C"
SERVICE = "integrations-hub-test"  # tests/conftest.py TEST_ENV
NOVEMBER = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class ShopClient(ProviderClient):
    provider: ClassVar[str] = "shop"
    default_base_url: ClassVar[str] = "https://api.shop.test/v1"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": "Bearer sk_live_metrics_secret"}

    def health_check(self) -> None:
        self.request("GET", "/me")


def shop(answer: Callable[[httpx.Request], httpx.Response], *, attempts: int = 1) -> ShopClient:
    http = httpx.Client(transport=httpx.MockTransport(answer))
    policy = RetryPolicy(max_attempts=attempts, sleep=lambda seconds: None)
    return ShopClient(ProviderCredentials(), http=http, retry_policy=policy, org_id="acme")


def emf(out: str) -> list[dict[str, Any]]:
    """The EMF blobs among the printed lines (the logger prints JSON too)."""
    blobs = []
    for line in out.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            blobs.append(json.loads(line))
    return blobs


def with_metric(blobs: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [b for b in blobs if any(m["Name"] == name for m in b["_aws"]["CloudWatchMetrics"][0]["Metrics"])]


def dimension_sets(blob: dict[str, Any]) -> list[set[str]]:
    return [set(d) for d in blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"]]


def unit_of(blob: dict[str, Any], name: str) -> str:
    return next(m["Unit"] for m in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"] if m["Name"] == name)


@pytest.fixture
def in_lambda(monkeypatch: pytest.MonkeyPatch) -> None:
    """Running as a deployed function: Lambda sets its name in the environment."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", FUNCTION)
    get_settings.cache_clear()


def test_a_successful_call_is_counted_with_provider_and_function_dimensions(
    in_lambda: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a provider that answers
    client = shop(lambda request: httpx.Response(200, json={"ok": True}))
    # When one call is made
    client.request("GET", "/orders", operation="orders")
    # Then one EMF blob: a call, its latency and a 0 % failure, per provider and per function
    blobs = emf(capsys.readouterr().out)
    [call] = with_metric(blobs, "ProviderCalls")
    assert call["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "IntegrationsHub"
    assert dimension_sets(call) == [{"Provider", "service"}, {"Provider", "Function", "service"}]
    assert call["Provider"] == "shop" and call["Function"] == FUNCTION and call["service"] == SERVICE
    assert call["ProviderCalls"] == [1.0] and call["ProviderFailureRate"] == [0.0]
    assert call["ProviderLatency"][0] >= 0 and unit_of(call, "ProviderLatency") == "Milliseconds"
    assert unit_of(call, "ProviderFailureRate") == "Percent"
    # the org and operation ride along as properties, not dimensions (cardinality)
    assert call["org_id"] == "acme" and call["operation"] == "orders"
    assert not any("org_id" in s for s in dimension_sets(call))
    assert with_metric(blobs, "ProviderErrors") == []
    # and no credential reaches the metric lines
    assert "sk_live_metrics_secret" not in json.dumps(blobs)


def test_a_failed_call_is_one_call_with_its_error_class_whatever_the_retries(
    in_lambda: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a provider that answers 503 to every attempt
    seen: list[httpx.Request] = []

    def unavailable(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503, json={"message": "down"})

    client = shop(unavailable, attempts=3)
    # When the call is made
    with pytest.raises(ProviderUnavailableError):
        client.request("GET", "/orders")
    # Then it was retried, yet the metrics count one call, failed for the provider's sake
    # (100 %), and one error of class ProviderUnavailableError
    assert len(seen) >= 2
    blobs = emf(capsys.readouterr().out)
    [call] = with_metric(blobs, "ProviderCalls")
    assert call["ProviderCalls"] == [1.0] and call["ProviderFailureRate"] == [100.0]
    [error] = with_metric(blobs, "ProviderErrors")
    assert dimension_sets(error) == [
        {"Provider", "ErrorClass", "service"},
        {"Provider", "Function", "ErrorClass", "service"},
    ]
    assert error["Provider"] == "shop" and error["ErrorClass"] == "ProviderUnavailableError"
    assert error["ProviderErrors"] == [1.0]


def test_a_rejected_request_is_an_error_but_not_a_provider_failure(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a provider that rejects the request (400), outside Lambda (no function name)
    client = shop(lambda request: httpx.Response(400, json={"message": "bad field"}))
    with pytest.raises(InvalidRequestError):
        client.request("POST", "/orders", json={"x": 1})
    blobs = emf(capsys.readouterr().out)
    [call] = with_metric(blobs, "ProviderCalls")
    # Then the failure rate stays 0 (the provider is fine), the error is counted by class, and
    # without a function name there is no per-function dimension set
    assert call["ProviderFailureRate"] == [0.0]
    assert dimension_sets(call) == [{"Provider", "service"}]
    [error] = with_metric(blobs, "ProviderErrors")
    assert error["ErrorClass"] == "InvalidRequestError"


def test_an_exception_outside_the_taxonomy_is_one_bounded_error_class(capsys: pytest.CaptureFixture[str]) -> None:
    client = shop(lambda request: httpx.Response(200, json={}))
    with pytest.raises(KeyError):
        client.guarded(lambda: {}["missing"], operation="parse")
    [error] = with_metric(emf(capsys.readouterr().out), "ProviderErrors")
    assert error["ErrorClass"] == metrics.UNEXPECTED


def test_a_metric_that_cannot_be_written_never_fails_the_call(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # Given metrics that cannot be flushed
    def broken(self: Any, raise_on_empty_metrics: bool = False) -> None:
        raise OSError("stdout closed")

    monkeypatch.setattr(metrics.EphemeralMetrics, "flush_metrics", broken)
    client = shop(lambda request: httpx.Response(200, json={"ok": True}))
    # When a call is made, Then it answers, and the loss is logged
    assert client.request("GET", "/orders").json() == {"ok": True}
    assert emf(capsys.readouterr().out) == []
    assert "metric_not_emitted" in [record.getMessage() for record in caplog.records]


class FakeTable:
    """A DynamoDB client answering what record_report and the breaker write."""

    def __init__(self, *, conditional_fails: bool = False) -> None:
        self.conditional_fails = conditional_fails
        self.puts: list[dict[str, Any]] = []

    def put_item(self, **kwargs: Any) -> dict[str, Any]:
        self.puts.append(kwargs)
        return {}

    def update_item(self, **kwargs: Any) -> dict[str, Any]:
        if self.conditional_fails and "#s = :expected" in kwargs.get("ConditionExpression", ""):
            raise ClientError({"Error": {"Code": "ConditionalCheckFailedException"}}, "UpdateItem")
        return {"Attributes": {"failures": {"N": "5"}}}


def test_health_readings_are_one_metric_per_measure_with_a_provider_dimension(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a report: serper healthy with a quota partly spent, brave down with its breaker open
    monkeypatch.setenv("HEALTH_TABLE", "health")
    get_settings.cache_clear()
    table = FakeTable()
    monkeypatch.setattr("hub.health.aws_client", lambda service: table)
    quota = QuotaView(
        rule="searches_per_month", limit=2500, remaining=500, resets_at=datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    )
    report = HealthReport(
        status="degraded",
        org_id="acme",
        checked_at=NOVEMBER,
        services={
            "serper": ServiceHealth(status="healthy", latency_ms=80.0, breaker="closed", quotas=[quota]),
            "brave": ServiceHealth(status="unhealthy", error="ProviderUnavailableError: down", breaker="open"),
            "storage": ServiceHealth(status="healthy", latency_ms=5.0),
        },
    )
    # When the schedule records it
    record_report(report)
    blobs = emf(capsys.readouterr().out)
    # Then ProviderHealthy and BreakerOpen per provider (no Unhealthy_<provider> names)
    names = {m["Name"] for b in blobs for m in b["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert not any(name.startswith("Unhealthy_") for name in names)
    health = {b["Provider"]: b for b in with_metric(blobs, "ProviderHealthy")}
    assert set(health) == {"serper", "brave", "storage"}
    assert all(dimension_sets(b) == [{"Provider", "service"}] for b in health.values())
    assert health["serper"]["ProviderHealthy"] == [1.0] and health["serper"]["BreakerOpen"] == [0.0]
    assert health["brave"]["ProviderHealthy"] == [0.0] and health["brave"]["BreakerOpen"] == [1.0]
    assert "BreakerOpen" not in health["storage"]  # storage has no breaker
    # and what is left of each limit, by provider and rule
    [left] = with_metric(blobs, "QuotaRemaining")
    assert dimension_sets(left) == [{"Provider", "Rule", "service"}]
    assert left["Provider"] == "serper" and left["Rule"] == "searches_per_month"
    assert left["QuotaRemaining"] == [500.0] and left["QuotaRemainingPercent"] == [20.0]


def test_the_caller_that_opens_a_breaker_counts_it_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an Evolution breaker (one per server) at its 5th failure, opened by this caller
    table = FakeTable()
    monkeypatch.setattr("hub.resilience.breaker.aws_client", lambda service: table)
    breaker = CircuitBreaker("resilience", "evolution#wa.acme.example", BreakerPolicy(failure_threshold=5))
    breaker.record_failure(probe=False)
    [opened] = with_metric(emf(capsys.readouterr().out), "BreakerOpened")
    # Then BreakerOpened by provider, without the server (unbounded values)
    assert opened["Provider"] == "evolution" and opened["BreakerOpened"] == [1.0]
    # And a second caller whose write finds it already open counts nothing
    monkeypatch.setattr("hub.resilience.breaker.aws_client", lambda service: FakeTable(conditional_fails=True))
    breaker.record_failure(probe=False)
    assert with_metric(emf(capsys.readouterr().out), "BreakerOpened") == []


def test_ai_spend_and_a_crossed_budget_are_metrics_with_the_org_only_on_the_budget(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an org with a USD 10 budget that has spent 9.50 (without a bus: the event is logged)
    monkeypatch.setenv("SPEND_TABLE", "spend")
    get_settings.cache_clear()
    spent_nano = 9_500_000_000

    class SpendTable(FakeTable):
        def get_item(self, **kwargs: Any) -> dict[str, Any]:
            return {"Item": {"monthly_usd": {"S": "10"}, "hard_stop": {"BOOL": False}}}

        def update_item(self, **kwargs: Any) -> dict[str, Any]:
            nonlocal spent_nano
            spent_nano += int(kwargs["ExpressionAttributeValues"][":nano"]["N"])
            return {"Attributes": {"cost_nano_usd": {"N": str(spent_nano)}}}

    monkeypatch.setattr(spend, "aws_client", lambda service: SpendTable())
    # When an AI call costing USD 0.75 is recorded
    spend.record_spend(
        "acme", "anthropic", "claude", input_tokens=10, output_tokens=5, cost_usd=Decimal("0.75"), now=NOVEMBER
    )
    blobs = emf(capsys.readouterr().out)
    # Then its cost, in integer nano-dollars, by provider and currency (no org dimension)
    [cost] = with_metric(blobs, "SpendNano")
    assert dimension_sets(cost) == [{"Provider", "Currency", "service"}]
    assert cost["Provider"] == "anthropic" and cost["Currency"] == "USD" and cost["SpendNano"] == [750_000_000.0]
    assert cost["org_id"] == "acme"
    # And the 80 % and 100 % thresholds crossed, each by threshold and by org
    crossed = with_metric(blobs, "BudgetThresholdCrossed")
    assert sorted(b["ThresholdPercent"] for b in crossed) == ["100", "80"]
    for blob in crossed:
        assert dimension_sets(blob) == [{"ThresholdPercent", "service"}, {"ThresholdPercent", "Org", "service"}]
        assert blob["Org"] == "acme" and blob["BudgetThresholdCrossed"] == [1.0]


def test_every_catalogue_metric_is_emitted_with_its_declared_unit_and_dimension_sets(
    in_lambda: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # When every emitter runs once
    metrics.provider_call("shop", latency_ms=12.0, error=ProviderUnavailableError("down", provider="shop"))
    metrics.breaker_opened("shop")
    metrics.provider_health("shop", healthy=True, breaker_open=False, quotas=[("per_minute", 60, 30)])
    metrics.spend("shop", "brl", 1_000)
    metrics.budget_threshold("acme", 120)
    metrics.analytics_events("shop", {"sent": 3, "delayed": 0}, org_id="acme")
    blobs = emf(capsys.readouterr().out)
    # Then each catalogue entry appears exactly as CATALOGUE declares it (the template test
    # relies on these sets to check the dashboard and alarms)
    for name, (unit, sets) in metrics.CATALOGUE.items():
        [blob] = with_metric(blobs, name)
        assert unit_of(blob, name) == unit, name
        assert dimension_sets(blob) == [{*s, "service"} for s in sets], name
