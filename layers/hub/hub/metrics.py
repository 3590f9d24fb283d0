"""The operators' metrics: CloudWatch Embedded Metric Format (EMF) with dimensions.

One metric name per measure, dimensioned by provider (and function, error class, quota rule…),
never one name per provider: a dashboard or alarm asks ``ProviderCalls`` grouped by
``Provider`` and sees every provider, the ones added later included
(docs/observability.md, "Metrics, alarms and dashboard").

Each emission is its own EMF blob (Powertools ``EphemeralMetrics``, flushed at once): the hub's
shared ``metrics`` object applies its dimensions to everything it flushes at the end of the
invocation, so per-call dimensions (this provider, that error class) cannot go through it. A
blob carries at most 3 metrics and 4 dimensions (EMF allows 100 and 30). Powertools adds the
``service`` dimension (``POWERTOOLS_SERVICE_NAME``) to the first dimension set; this module adds
it to every other set too, so every metric of the namespace has it, as the shared object's do.

Cardinality rule. A dimension value makes a metric of its own (billed per month), so only
bounded values are dimensions: the provider key (the registry's), the function (the stack's),
the error class (the taxonomy's, anything else is ``Unexpected``), the quota rule (the
descriptor's), the currency, the budget threshold (80/100/120). The org is a dimension of one
metric only, ``BudgetThresholdCrossed``: at most three data points per org a month. Per-call
metrics carry the org id and the operation as EMF properties instead: not metrics, but kept in
the log line, so CloudWatch Logs Insights can break a provider's calls down by org
(``stats sum(ProviderCalls) by org_id``) at no metric cost.

Emitting never fails or delays the caller: a metric that cannot be written is logged and
dropped (stdout only; the Lambda's log agent ships it, no API call).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_lambda_powertools.metrics import EphemeralMetrics

from hub.config import get_settings
from hub.errors import HubError, OutcomeUnknownError, ProviderUnavailableError
from hub.observability import logger

NAMESPACE = "IntegrationsHub"

# Every metric this module emits: name -> (unit, its dimension sets, ``service`` aside).
# docs/observability.md's catalogue and tests/unit/test_metrics_template.py (the dashboard and
# alarms name only these) read it.
CATALOGUE: dict[str, tuple[str, tuple[tuple[str, ...], ...]]] = {
    # Per logical provider call (hub.providers.base.client.ProviderClient.guarded): retries are
    # one call; a call refused before sending (breaker open, the hub's own limit) is none.
    "ProviderCalls": ("Count", (("Provider",), ("Provider", "Function"))),
    "ProviderLatency": ("Milliseconds", (("Provider",), ("Provider", "Function"))),
    # 100 when the call failed for the provider's sake (unavailable, or an unknown outcome),
    # else 0: its average over a period is the provider's failure rate in percent.
    "ProviderFailureRate": ("Percent", (("Provider",), ("Provider", "Function"))),
    "ProviderErrors": ("Count", (("Provider", "ErrorClass"), ("Provider", "Function", "ErrorClass"))),
    # A breaker going open (closed -> open, or a failed half-open probe): emitted once, by the
    # caller whose conditional write opened it (hub.resilience.breaker).
    "BreakerOpened": ("Count", (("Provider",),)),
    # The health schedule's readings (hub.health.record_report), one per org and provider every
    # 5 minutes: 1 healthy / 0 unhealthy; 1 breaker not closed / 0 closed; what is left of
    # each limit (its smallest value over the orgs is the one about to run out).
    "ProviderHealthy": ("Count", (("Provider",),)),
    "BreakerOpen": ("Count", (("Provider",),)),
    "QuotaRemaining": ("Count", (("Provider", "Rule"),)),
    "QuotaRemainingPercent": ("Percent", (("Provider", "Rule"),)),
    # What billed calls and AI calls cost, in nano-units of the currency billed (integers, as
    # the spend table keeps them: hub.usage.meter, hub.ai.spend).
    "SpendNano": ("Count", (("Provider", "Currency"),)),
    # An org's spend crossed 80/100/120 % of its monthly budget (hub.ai.spend.budget_events,
    # once per org, threshold and month).
    "BudgetThresholdCrossed": ("Count", (("ThresholdPercent",), ("ThresholdPercent", "Org"))),
    # Hub events forwarded to the orgs' analytics sinks (hub.analytics.forward), per sink and
    # outcome: sent, delayed (on the retry queue), rejected (for good), unknown (at most once).
    "AnalyticsEvents": ("Count", (("Provider", "Outcome"),)),
}

# The error classes of the taxonomy (hub.errors) keep their name; anything else is one value.
UNEXPECTED = "Unexpected"
# Failures that say the provider is failing (what the breaker counts, and a write whose answer
# was lost); a rejected request (4xx), the provider's rate limit or bad credentials are not.
_PROVIDER_FAILURES = (ProviderUnavailableError, OutcomeUnknownError)


def error_class(error: BaseException) -> str:
    """The ErrorClass dimension of ``error``: its class name for the hub's taxonomy, else
    ``Unexpected`` (a bounded set of values)."""
    return type(error).__name__ if isinstance(error, HubError) else UNEXPECTED


def _emit(
    values: Sequence[tuple[str, float]],
    dimension_sets: Sequence[Mapping[str, str]],
    properties: Mapping[str, Any] | None = None,
) -> None:
    """One EMF blob: ``values`` (names of :data:`CATALOGUE`) under each of ``dimension_sets``."""
    try:
        blob = EphemeralMetrics(namespace=NAMESPACE)
        first, *more = dimension_sets
        for name, dimension in first.items():
            blob.add_dimension(name=name, value=dimension)
        service = {"service": blob.service} if blob.service else {}
        for dimensions in more:
            blob.add_dimensions(**service, **dimensions)
        for key, prop in (properties or {}).items():
            if prop is not None:
                blob.add_metadata(key=key, value=prop)
        for name, value in values:
            blob.add_metric(name=name, unit=CATALOGUE[name][0], value=value)
        blob.flush_metrics()
    except Exception as exc:  # noqa: BLE001 - a metric never fails what it measures
        logger.warning("metric_not_emitted", extra={"metrics": [n for n, _ in values], "error": type(exc).__name__})


def _with_function(dimensions: Mapping[str, str]) -> list[Mapping[str, str]]:
    """``dimensions``, and the same with the Function dimension when running in Lambda."""
    function = get_settings().function_name
    return [dimensions, {**dimensions, "Function": function}] if function else [dimensions]


def provider_call(
    provider: str,
    *,
    latency_ms: float,
    error: BaseException | None = None,
    org_id: str | None = None,
    operation: str | None = None,
) -> None:
    """One logical provider call: ProviderCalls, ProviderLatency, ProviderFailureRate, and when it
    failed ProviderErrors by ErrorClass. The org and operation ride along as properties."""
    failed = isinstance(error, _PROVIDER_FAILURES)
    properties = {"org_id": org_id, "operation": operation}
    values: list[tuple[str, float]] = [
        ("ProviderCalls", 1),
        ("ProviderLatency", round(latency_ms, 1)),
        ("ProviderFailureRate", 100 if failed else 0),
    ]
    _emit(
        values,
        _with_function({"Provider": provider}),
        properties,
    )
    if error is not None:
        _emit(
            [("ProviderErrors", 1)],
            _with_function({"Provider": provider, "ErrorClass": error_class(error)}),
            properties,
        )


def breaker_opened(provider: str) -> None:
    _emit([("BreakerOpened", 1)], [{"Provider": provider}])


def provider_health(
    provider: str,
    *,
    healthy: bool,
    breaker_open: bool | None,
    quotas: Sequence[tuple[str, int, int]] = (),
    org_id: str | None = None,
) -> None:
    """One org's reading of one provider by the health check: healthy or not, its breaker
    (None: the provider has none), and ``quotas`` as (rule, limit, remaining)."""
    values: list[tuple[str, float]] = [("ProviderHealthy", 1 if healthy else 0)]
    if breaker_open is not None:
        values.append(("BreakerOpen", 1 if breaker_open else 0))
    _emit(values, [{"Provider": provider}], {"org_id": org_id})
    for rule, limit, remaining in quotas:
        percent = round(100 * remaining / limit, 1) if limit > 0 else 0
        _emit(
            [("QuotaRemaining", remaining), ("QuotaRemainingPercent", percent)],
            [{"Provider": provider, "Rule": rule}],
            {"org_id": org_id},
        )


def spend(provider: str, currency: str, nano: int, *, org_id: str | None = None) -> None:
    """A cost added to an org's spend, in nano-units of ``currency`` (an integer)."""
    if nano > 0:
        _emit([("SpendNano", nano)], [{"Provider": provider, "Currency": currency.upper()}], {"org_id": org_id})


def budget_threshold(org_id: str, percent: int) -> None:
    """An org's spend crossed ``percent`` of its monthly budget (once per org and month)."""
    _emit(
        [("BudgetThresholdCrossed", 1)],
        [{"ThresholdPercent": str(percent)}, {"ThresholdPercent": str(percent), "Org": org_id}],
    )


# Analytics forwarding (hub.analytics.forward): what became of a batch's events at one sink.
ANALYTICS_OUTCOMES = ("sent", "delayed", "rejected", "unknown")


def analytics_events(provider: str, counts: Mapping[str, int], *, org_id: str | None = None) -> None:
    """Events of one (org, sink) group by outcome (:data:`ANALYTICS_OUTCOMES`; zeros left out);
    the org is a property, not a dimension (cardinality rule)."""
    for outcome, count in counts.items():
        if outcome in ANALYTICS_OUTCOMES and count > 0:
            _emit([("AnalyticsEvents", count)], [{"Provider": provider, "Outcome": outcome}], {"org_id": org_id})
