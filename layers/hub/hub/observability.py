"""The one Logger, Tracer and Metrics of the hub; every module imports these."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics, Tracer

from hub.runtime import lambda_entry

F = TypeVar("F", bound=Callable[..., Any])

logger = Logger()
# httpx logs every request at INFO with its full URL, query string included, where some
# providers carry their API key (SerpAPI's ``api_key``): keep it out of every log. The hub's own
# ``provider_call`` line (hub.providers.base.client) logs method and path only.
logging.getLogger("httpx").setLevel(logging.WARNING)
tracer = Tracer()
metrics = Metrics(namespace="IntegrationsHub")


def lambda_handler(handler: F) -> F:
    """The decorators every hub handler wears, in one place: structured logs with the
    Lambda context, X-Ray tracing, EMF metrics flushed per invocation, and the
    invocation deadline that bounds retries."""
    wrapped: Callable[..., Any] = lambda_entry(handler)
    wrapped = metrics.log_metrics(wrapped)
    wrapped = tracer.capture_lambda_handler(wrapped)
    return cast(F, logger.inject_lambda_context(wrapped))
