"""JSON with money: a Decimal is written as a JSON number digit for digit, and read back as a
Decimal — never through a float. httpx's ``json=`` uses ``json.dumps``, which cannot write a
Decimal, so every provider body goes through :func:`dumps_json` (``ProviderClient``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from hub.errors import InvalidRequestError


def _encode(value: Any, allow_floats: bool) -> str:
    if value is None or isinstance(value, str | bool | int):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidRequestError("money values must be finite numbers", code="invalid_amount")
        # Plain notation: Decimal("1E+2") → 100, as providers document their numbers.
        return format(value, "f")
    if isinstance(value, float):
        if not allow_floats:
            raise TypeError("floats are never money: pass a Decimal")
        return json.dumps(value)
    if isinstance(value, Mapping):
        items = (f"{json.dumps(str(k), ensure_ascii=False)}:{_encode(v, allow_floats)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(v, allow_floats) for v in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def dumps_json(value: Any, *, allow_floats: bool = False) -> bytes:
    """Compact JSON bytes; ``{"value": Decimal("12345.67")}`` → ``{"value":12345.67}``.
    Floats are refused unless ``allow_floats`` (AI parameters such as a temperature)."""
    return _encode(value, allow_floats).encode("utf-8")


def loads_json(content: bytes) -> Any:
    """Parse JSON with fractional numbers as Decimal (raises ValueError when not JSON)."""
    return json.loads(content, parse_float=Decimal)
