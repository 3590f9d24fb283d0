"""One retry policy for every provider call.

Retry only what may succeed on a second try, with capped exponential backoff and full jitter,
honouring the provider's ``Retry-After``. Inside a Lambda we never sleep for long: at most
``max_total_sleep`` seconds per call and never past the function's remaining time minus a
safety margin. When the budget is spent the last error is raised, so SQS (visibility timeout)
or Step Functions (the next provider) takes over outside the function.

Three kinds of failure, three answers (docs/resilience.md, "The call path"):

* **go to the next provider** (:data:`FAILOVER_CODES`): a refused connection or a connect
  timeout (nothing reached the provider, and a second try a moment later meets the same closed
  port), a read or first-byte timeout (the provider has the request and is stuck: waiting again
  doubles the delay), an open circuit breaker. Never retried here, nor by the fallback chains.
* **a provider answering it is unavailable** (5xx, Anthropic/OpenAI's 408/409, a connection
  dropped before anything was sent): one quick retry (``unavailable_attempts`` = 2, a backoff of
  at most ``initial_backoff``), and only if the provider's own advised wait is at most
  ``unavailable_max_wait``; then the caller fails over.
* **rate limited** (429, our own quotas): up to ``max_attempts``, waiting what the provider
  says, within the sleep budget.
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

# ProviderUnavailableError codes that mean "this provider, right now, is not going to answer":
# the caller moves to the next provider at once (providers.base sets the first four; a streaming
# call's time-to-first-byte gives up with first_byte_timeout; the breaker raises circuit_open).
FAILOVER_CODES = frozenset({"connect_failed", "connect_timeout", "read_timeout", "first_byte_timeout", "circuit_open"})


def fails_over(exc: BaseException) -> bool:
    """Whether ``exc`` says "go to the next provider now" (see :data:`FAILOVER_CODES`)."""
    return isinstance(exc, ProviderUnavailableError) and exc.code in FAILOVER_CODES


def should_retry(exc: BaseException) -> bool:
    """The single retry predicate: 5xx and dropped connections (ProviderUnavailableError) and
    429s (RateLimitedError); never an unknown outcome nor what :func:`fails_over`. A provider's
    explicit advice on its answer (``HubError.retry_now``, from ``x-should-retry``) wins over
    the type."""
    if isinstance(exc, OutcomeUnknownError):
        return False  # sending again could apply the write twice (docs/errors.md)
    if fails_over(exc):
        return False  # the provider is down or stuck: the next provider answers sooner
    if isinstance(exc, HubError) and exc.retry_now is not None:
        return exc.retry_now
    return isinstance(exc, (ProviderUnavailableError, RateLimitedError))


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    initial_backoff: float = 0.2
    max_backoff: float = 1.0
    max_total_sleep: float = 2.0
    safety_margin: float = 1.0
    # A provider answering that it is unavailable gets one quick retry, then the caller fails over.
    unavailable_attempts: int = 2
    # ... and only when the wait before it (ours, or the provider's Retry-After) is this short.
    unavailable_max_wait: float = 0.5
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
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ProviderUnavailableError) and (
            state.attempt_number >= self.unavailable_attempts or upcoming > self.unavailable_max_wait
        ):
            return True  # one quick retry at most: the next provider is the better bet
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
