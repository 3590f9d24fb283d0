"""One retry policy for every provider call.

Retry only what may succeed on a second try (``ProviderUnavailableError``,
``RateLimitedError``), with capped exponential backoff and full jitter, honouring the
provider's ``Retry-After``. Inside a Lambda we never sleep for long: at most
``max_total_sleep`` seconds per call and never past the function's remaining time
minus a safety margin. When the budget is spent the last error is raised, so SQS
(visibility timeout) or Step Functions (Retry) does the longer wait outside the function.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception
from tenacity.wait import wait_random_exponential

from hub.errors import HubError, OutcomeUnknownError, ProviderUnavailableError, RateLimitedError
from hub.runtime import remaining_seconds

T = TypeVar("T")


def should_retry(exc: BaseException) -> bool:
    """The single retry predicate: connection errors, connect timeouts, 5xx (all mapped to
    ProviderUnavailableError by the client) and 429s; not read timeouts. A provider's explicit
    advice on its answer (``HubError.retry_now``, from ``x-should-retry``) wins over the type."""
    if isinstance(exc, OutcomeUnknownError):
        return False  # sending again could apply the write twice (docs/errors.md)
    if isinstance(exc, HubError) and exc.retry_now is not None:
        return exc.retry_now
    if isinstance(exc, ProviderUnavailableError) and exc.code == "read_timeout":
        return False  # the provider is working on it: retrying doubles the wait (see providers.base)
    return isinstance(exc, (ProviderUnavailableError, RateLimitedError))


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    initial_backoff: float = 0.2
    max_backoff: float = 1.0
    max_total_sleep: float = 2.0
    safety_margin: float = 1.0
    sleep: Callable[[float], None] = time.sleep  # injectable for tests

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimitedError) and exc.retry_after > 0:
            return exc.retry_after
        if isinstance(exc, HubError) and exc.retry_wait is not None and exc.retry_wait > 0:
            return exc.retry_wait  # the provider's Retry-After on another retried answer
        backoff = wait_random_exponential(multiplier=self.initial_backoff, max=self.max_backoff)
        return float(backoff(state))

    def _stop(self, state: RetryCallState) -> bool:
        if state.attempt_number >= self.max_attempts:
            return True
        upcoming = state.upcoming_sleep
        if state.idle_for + upcoming > self.max_total_sleep:
            return True
        remaining = remaining_seconds()
        return remaining is not None and remaining - upcoming < self.safety_margin

    def call(self, fn: Callable[[], T]) -> T:
        retrying = Retrying(
            retry=retry_if_exception(should_retry),
            wait=self._wait,
            stop=self._stop,
            reraise=True,
            sleep=self.sleep,
        )
        return retrying(fn)
