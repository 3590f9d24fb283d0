"""Per-invocation facts the layer needs without reading the Lambda context everywhere.

Handlers call :func:`start_invocation` (via :func:`lambda_entry`); adapters ask
:func:`remaining_seconds` before sleeping, so a retry never outlives the function.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

_deadline: ContextVar[float | None] = ContextVar("hub_invocation_deadline", default=None)

F = TypeVar("F", bound=Callable[..., Any])


def start_invocation(context: Any) -> None:
    """Record when this invocation must be finished (monotonic clock)."""
    get_remaining = getattr(context, "get_remaining_time_in_millis", None)
    if get_remaining is None:
        _deadline.set(None)
        return
    _deadline.set(time.monotonic() + get_remaining() / 1000.0)


def remaining_seconds() -> float | None:
    """Seconds left in this invocation, or None outside Lambda (tests, scripts)."""
    deadline = _deadline.get()
    if deadline is None:
        return None
    return deadline - time.monotonic()


@contextmanager
def deadline_within(seconds: float) -> Iterator[None]:
    """Inside the block, the invocation ends in ``seconds`` at the latest (never later than it
    already does): provider calls size their timeouts and retries to it, so one step of a chain
    (a search engine) cannot eat the time the next steps need."""
    bound = time.monotonic() + seconds
    current = _deadline.get()
    token = _deadline.set(bound if current is None else min(current, bound))
    try:
        yield
    finally:
        _deadline.reset(token)


def lambda_entry(handler: F) -> F:
    """Decorator for handlers: records the invocation deadline before running."""

    @functools.wraps(handler)
    def wrapper(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
        start_invocation(context)
        return handler(event, context, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
