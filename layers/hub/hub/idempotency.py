"""Run an operation at most once per caller-supplied idempotency key (Powertools)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from hub.config import get_settings

DEFAULT_TTL_SECONDS = 24 * 3600


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
        expires_after_seconds=ttl_seconds,
        raise_on_no_idempotency_key=True,
    )


def _call(request: dict[str, Any], fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    return fn()


@cache
def _once(ttl_seconds: int) -> Callable[..., dict[str, Any]]:
    decorated: Callable[..., dict[str, Any]] = idempotent_function(
        _call,
        data_keyword_argument="request",
        persistence_store=persistence_store(f"operation:{ttl_seconds}"),
        config=_config(ttl_seconds),
        key_prefix="operation",
    )
    return decorated


def register_lambda_context(context: Any, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> None:
    _config(ttl_seconds).register_lambda_context(context)


def run_once(
    operation: str,
    org_id: str,
    idempotency_key: str | None,
    fn: Callable[[], dict[str, Any]],
    *,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
) -> dict[str, Any]:
    """``fn()`` once per (operation, org, key); a repeat returns the first result.
    Without a key the operation simply runs."""
    if not idempotency_key:
        return fn()
    request = {"operation": operation, "org_id": org_id, "idempotency_key": idempotency_key}
    return _once(ttl_seconds)(request=request, fn=fn)
