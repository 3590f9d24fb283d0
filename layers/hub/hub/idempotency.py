"""Run an operation at most once per caller-supplied idempotency key (Powertools).

An idempotency key names one request, not one answer (Stripe's rule):
* the same key with the same payload answers the first result;
* the same key with another payload is refused (:class:`IdempotencyConflictError`), never
  answered with the first request's result (Powertools payload validation on a hash of the
  validated request);
* the same key while the first request runs answers :class:`RequestInProgressError`;
* a first attempt that ended in :class:`OutcomeUnknownError` is recorded against the key, and
  the same key again resolves it before anything is sent again (``hub.outcomes``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from hub import outcomes
from hub.config import get_settings
from hub.errors import IdempotencyConflictError, OutcomeUnknownError, RequestInProgressError

DEFAULT_TTL_SECONDS = 24 * 3600
# How long a caller waits before asking again about a request still running.
IN_PROGRESS_RETRY_AFTER = 5.0


@cache
def persistence_store(usage: str) -> DynamoDBPersistenceLayer:
    """One persistence layer per idempotency configuration (``usage``). Powertools configures
    a layer once, with the first config it sees (key expression, TTL), so two decorated
    functions sharing one layer would key each other's records: webhook events would all
    hash to ``[null, org, null]`` after an operation ran in the same process."""
    return DynamoDBPersistenceLayer(table_name=get_settings().require("idempotency_table"))


@cache
def _config(ttl_seconds: int) -> IdempotencyConfig:
    return IdempotencyConfig(
        event_key_jmespath="[operation, org_id, idempotency_key]",
        payload_validation_jmespath="payload_hash",
        expires_after_seconds=ttl_seconds,
        raise_on_no_idempotency_key=True,
    )


def _call(request: dict[str, Any], fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    return fn()


def once_per_key(
    fn: Callable[..., dict[str, Any]],
    *,
    data_keyword_argument: str,
    key_prefix: str,
    config: IdempotencyConfig,
    ttl_seconds: int,
) -> Callable[..., dict[str, Any]]:
    """``fn`` made idempotent by Powertools on its ``data_keyword_argument``, with its own
    persistence layer per ``key_prefix`` and TTL (see :func:`persistence_store`)."""
    decorated: Callable[..., dict[str, Any]] = idempotent_function(
        fn,
        data_keyword_argument=data_keyword_argument,
        persistence_store=persistence_store(f"{key_prefix}:{ttl_seconds}"),
        config=config,
        key_prefix=key_prefix,
    )
    return decorated


@cache
def _once(ttl_seconds: int) -> Callable[..., dict[str, Any]]:
    return once_per_key(
        _call,
        data_keyword_argument="request",
        key_prefix="operation",
        config=_config(ttl_seconds),
        ttl_seconds=ttl_seconds,
    )


def register_lambda_context(context: Any, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> None:
    _config(ttl_seconds).register_lambda_context(context)


def payload_hash(payload: Mapping[str, Any] | None) -> str:
    """A stable hash of a validated request (keys sorted; the idempotency key itself excluded
    by the caller)."""
    canonical = json.dumps(payload or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _conflict(operation: str, idempotency_key: str) -> IdempotencyConflictError:
    return IdempotencyConflictError(
        f"idempotency_key {idempotency_key!r} was already used for a different {operation} request; "
        "a key names one request: use a new key for a new request",
        code="idempotency_key_reused",
    )


def run_once(
    operation: str,
    org_id: str,
    idempotency_key: str | None,
    fn: Callable[[], dict[str, Any]],
    *,
    payload: Mapping[str, Any] | None = None,
    resend: bool = False,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
) -> dict[str, Any]:
    """``fn()`` once per (operation, org, key); a repeat with the same ``payload`` returns the
    first result. Without a key the operation simply runs. ``resend`` (the caller's explicit
    word) sends again although an earlier attempt's outcome is still unknown."""
    if not idempotency_key:
        return fn()
    digest = payload_hash(payload)
    started_at = datetime.now(UTC)
    recorded = outcomes.get(operation, org_id, idempotency_key)
    if recorded is not None:
        if recorded.payload_hash != digest:
            raise _conflict(operation, idempotency_key)
        started_at = recorded.started_at
    request = {"operation": operation, "org_id": org_id, "idempotency_key": idempotency_key, "payload_hash": digest}
    try:
        with outcomes.resolving(None if resend else recorded):
            result = _once(ttl_seconds)(request=request, fn=fn)
    except IdempotencyValidationError:
        raise _conflict(operation, idempotency_key) from None
    except IdempotencyAlreadyInProgressError:
        raise RequestInProgressError(
            f"a {operation} request with idempotency_key {idempotency_key!r} is running; ask again shortly "
            "for its answer",
            code="request_in_progress",
            retry_after=IN_PROGRESS_RETRY_AFTER,
        ) from None
    except OutcomeUnknownError as exc:
        exc.idempotency_key = idempotency_key
        outcomes.record(operation, org_id, idempotency_key, digest, exc, started_at=started_at, ttl_seconds=ttl_seconds)
        raise
    if recorded is not None:
        outcomes.forget(operation, org_id, idempotency_key)
    return result
