"""Helpers every webhook verifier shares: a secret that rotates (the current value plus, while a
rotation is in progress, the previous one) and a constant-time comparison against all of them."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import Any

from pydantic import SecretStr


def _plain(value: Any) -> str | None:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return value if isinstance(value, str) and value else None


def rotating_secrets(creds: Any, current: str, previous: str) -> list[str]:
    """The values of ``creds.<current>`` and ``creds.<previous>`` (SecretStr or str), in that
    order, leaving out the ones that are unset or blank; e.g.
    ``rotating_secrets(creds, "webhook_secret", "previous_webhook_secret")``."""
    values = (_plain(getattr(creds, current, None)), _plain(getattr(creds, previous, None)))
    return [value for value in values if value is not None]


def _bytes(value: bytes | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def matches_any(candidate: bytes | str, expected: Iterable[bytes | str]) -> bool:
    """Whether ``candidate`` equals one of ``expected``: each comparison constant-time and all
    of them always made (no short-circuit), so timing tells nothing about which one matched."""
    given = _bytes(candidate)
    results = [hmac.compare_digest(given, _bytes(value)) for value in expected]
    return any(results)
