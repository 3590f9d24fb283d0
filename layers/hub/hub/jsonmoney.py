"""JSON with money: a Decimal is written as a JSON number digit for digit, and read back as a
Decimal — never through a float. httpx's ``json=`` uses ``json.dumps``, which cannot write a
Decimal, so every provider body goes through :func:`dumps_json` (``ProviderClient``).

Reading is bounded (:func:`loads_json`): every webhook receiver parses untrusted bytes, and a
validly signed body can still be hostile. ``json.loads`` alone recurses once per nesting
level (10 000 ``[`` are a ``RecursionError``), converts any run of digits to an int
(Python refuses more than 4 300 digits with a ``ValueError``, and quadratic work below that),
accepts ``NaN``/``Infinity`` (not JSON) and unpaired surrogates (which no UTF-8 encoder will
write later). The limits below are far above what any provider sends and each violation is a
:class:`JsonLimitError` (a ``ValueError``) naming the problem.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
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


# Limits of :func:`loads_json`. Provider payloads nest fewer than 10 levels, and their
# numbers (amounts, unix timestamps, ids) have fewer than 20 digits.
MAX_DEPTH = 64
MAX_NUMBER_DIGITS = 40
# |adjusted exponent| of a fractional or exponent number, as Decimal counts it. Only cost is
# bounded here (``int(Decimal("1e999999999"))`` would build a billion-digit int): a value like
# ``1e400`` parses, and is then refused as money by the normaliser (Asaas flags it with a 200,
# see docs/payments.md), as any other absurd amount.
MAX_EXPONENT = 1000

# A JSON string token (unrolled loop: no backtracking), and the brackets outside strings.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
# A \uD800-\uDFFF escape somewhere: only then are strings checked for unpaired surrogates.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JsonLimitError(ValueError):
    """The body is JSON (or close to it) but outside what the hub accepts; ``str()`` names why."""


def _check_depth(text: str) -> None:
    depth = 0
    for bracket in _BRACKETS.findall(_STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise JsonLimitError(f"JSON nests deeper than {MAX_DEPTH} levels")
        else:
            depth -= 1


def _digits(literal: str) -> int:
    mantissa = literal.lower().split("e", 1)[0]
    return sum(ch.isdigit() for ch in mantissa)


def _parse_int(literal: str) -> int:
    if _digits(literal) > MAX_NUMBER_DIGITS:
        raise JsonLimitError(f"a number has more than {MAX_NUMBER_DIGITS} digits")
    return int(literal)


def _parse_decimal(literal: str) -> Decimal:
    if _digits(literal) > MAX_NUMBER_DIGITS:
        raise JsonLimitError(f"a number has more than {MAX_NUMBER_DIGITS} digits")
    # A long exponent is refused on the text, before Decimal sees it.
    exponent = literal.lower().partition("e")[2]
    if exponent and len(exponent.lstrip("+-").lstrip("0")) > len(str(MAX_EXPONENT)):
        raise JsonLimitError(f"a number's exponent is beyond ±{MAX_EXPONENT}")
    try:
        value = Decimal(literal)
    except InvalidOperation:  # pragma: no cover - the JSON grammar already matched it
        raise JsonLimitError("a number is malformed") from None
    if value and abs(value.adjusted()) > MAX_EXPONENT:
        raise JsonLimitError(f"a number's exponent is beyond ±{MAX_EXPONENT}")
    return value


def _refuse_constant(name: str) -> Any:
    raise JsonLimitError(f"{name} is not a JSON value")


def _check_surrogates(value: Any) -> None:
    """Depth is already bounded, so a stack walk is cheap; only runs when an escape could be one."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise JsonLimitError("a string holds an unpaired UTF-16 surrogate (\\ud800-\\udfff)") from None


def loads_json(content: bytes | str) -> Any:
    """Parse untrusted JSON, bounded: fractional numbers as Decimal (never float), integers as
    int. Raises ValueError when the body is not UTF-8 JSON (``json.JSONDecodeError``,
    ``UnicodeDecodeError``) or breaks a limit (:class:`JsonLimitError`: nesting deeper than
    MAX_DEPTH, a number of more than MAX_NUMBER_DIGITS digits or an exponent beyond
    ±MAX_EXPONENT, NaN/Infinity, an unpaired surrogate)."""
    # UTF-8 only: json.loads(bytes) would also guess UTF-16/32.
    text = content.decode("utf-8") if isinstance(content, bytes) else content
    _check_depth(text)
    value = json.loads(text, parse_float=_parse_decimal, parse_int=_parse_int, parse_constant=_refuse_constant)
    if _SURROGATE_ESCAPE.search(text):
        _check_surrogates(value)
    return value
