"""The one Logger, Tracer and Metrics of the hub; every module imports these."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from hub import errortracking
from hub.masking import mask_value
from hub.runtime import lambda_entry

F = TypeVar("F", bound=Callable[..., Any])


class MaskingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON log line, masked by hub.masking (the masking error reports use too)."""

    def serialize(self, log: dict[str, Any]) -> str:  # type: ignore[override]
        return super().serialize(mask_value(log))


logger = Logger(logger_formatter=MaskingFormatter())
# httpx logs every request at INFO with its full URL, query string included, where some
# providers carry their API key (SerpAPI's ``api_key``): keep it out of every log. The hub's own
# ``provider_call`` line (hub.providers.base.client) logs method and path only.
logging.getLogger("httpx").setLevel(logging.WARNING)
# Cold start: building Powertools' Tracer imports the X-Ray SDK (and patches botocore) even when
# tracing is disabled, so it is built only where traces are recorded (Powertools' own rule:
# in Lambda, outside SAM local, POWERTOOLS_TRACE_DISABLED unset).
tracer: Tracer | None = None if Tracer._is_tracer_disabled() else Tracer(auto_patch=False)
metrics = Metrics(namespace="IntegrationsHub")


def _xray_patch(modules: tuple[str, ...]) -> None:
    # Imported here: the X-Ray SDK loads only when tracing is on (cold start).
    from aws_xray_sdk.core import patch

    patch(modules, raise_errors=False)  # what is not installed is skipped, as patch_all does


def trace_httpx() -> None:
    """Trace outbound httpx calls: called right before the hub builds its httpx client, so a
    function that never calls a provider does not import httpx at init to patch it."""
    if tracer is not None:
        _xray_patch(("httpx",))


if tracer is not None:
    # The hub calls out through botocore (AWS) and httpx (providers) only. Tracer(auto_patch=True)
    # would patch_all(): import and patch every installed library X-Ray supports (sqlite3,
    # requests…) and httpx in every function; httpx is patched by trace_httpx() on first use.
    _xray_patch(("botocore",))


# Error reporting (hub.errortracking, docs/observability.md "Errors: Sentry"): initialised once
# per container, here at module scope, and only where a DSN secret is configured; otherwise
# sentry_sdk is never imported.
errortracking.init()


def lambda_handler(handler: F) -> F:
    """The decorators every hub handler wears, in one place: structured logs with the
    Lambda context, X-Ray tracing, EMF metrics flushed per invocation, the
    invocation deadline that bounds retries, and error reports to Sentry (when configured)."""
    wrapped: Callable[..., Any] = lambda_entry(handler)
    # Error reports (hub.errortracking): the identity when Sentry is off.
    wrapped = errortracking.reporting(wrapped)
    wrapped = metrics.log_metrics(wrapped)
    if tracer is not None:
        wrapped = tracer.capture_lambda_handler(wrapped)
    return cast(F, logger.inject_lambda_context(wrapped))
