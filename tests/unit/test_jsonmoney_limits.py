"""The one bounded JSON parser every receiver uses: ordinary provider bodies parse exactly
(fractions as Decimal), hostile ones are a JsonLimitError naming the problem."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hub.jsonmoney import MAX_DEPTH, MAX_NUMBER_DIGITS, JsonLimitError, loads_json


def test_ordinary_bodies_parse_with_decimal_money() -> None:
    body = b'{"value": 12345.67, "ts": 1764000000, "nested": [[{"a": "\\ud83d\\ude00 \\"[[[\\""}]], "n": -0.5e-3}'
    assert loads_json(body) == {
        "value": Decimal("12345.67"),
        "ts": 1764000000,
        "nested": [[{"a": '\U0001f600 "[[["'}]],
        "n": Decimal("-0.0005"),
    }


def test_limits_are_inclusive() -> None:
    assert loads_json("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    assert loads_json("9" * MAX_NUMBER_DIGITS) == int("9" * MAX_NUMBER_DIGITS)
    assert loads_json('"' + "[" * 10_000 + '"') == "[" * 10_000  # brackets inside strings do not nest
    # Absurd as money but cheap to hold: the normalisers refuse such amounts, not the parser
    assert loads_json(b'{"value": 1e400}') == {"value": Decimal("1E+400")}
    assert loads_json(b"-1E-1000") == Decimal("-1E-1000")


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "nests deeper than 64 levels"),
        ("[" * 10_000 + "]" * 10_000, "nests deeper than 64 levels"),
        ("9" * 5_000, "more than 40 digits"),
        ("-" + "1" * 41, "more than 40 digits"),
        ("0." + "1" * 41, "more than 40 digits"),
        ("1e999999999999", "exponent"),
        ("1E+1001", "exponent"),
        ("1e-1001", "exponent"),
        ("NaN", "NaN is not a JSON value"),
        ("[Infinity]", "Infinity is not a JSON value"),
        ('{"x": "\\udc00"}', "unpaired UTF-16 surrogate"),
        ('["\\ud800x"]', "unpaired UTF-16 surrogate"),
    ],
)
def test_hostile_bodies_name_the_problem(body: str, problem: str) -> None:
    with pytest.raises(JsonLimitError, match=problem):
        loads_json(body.encode())


def test_only_utf8_and_only_json() -> None:
    with pytest.raises(UnicodeDecodeError):
        loads_json('{"a": 1}'.encode("utf-16"))
    with pytest.raises(ValueError, match="Expecting"):
        loads_json(b"{'a': 1}")
