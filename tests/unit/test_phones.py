import ast
import importlib
from pathlib import Path

import pytest

from hub.errors import InvalidRequestError
from hub.phones import BrazilianPhone, brazilian_phone, e164_digits, to_e164

REPO = Path(__file__).resolve().parents[2]
_DATA_MODULES = [["phonenumbers", m] for m in ("geocoder", "carrier", "timezone")]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("(11) 98765-4321", "+5511987654321"),
        ("+55 11 98765-4321", "+5511987654321"),
        ("5511987654321", "+5511987654321"),
        # Area code 55 (Santa Maria/RS): the seed's _format_phone would drop the area code.
        ("(55) 99123-4567", "+5555991234567"),
        ("55991234567", "+5555991234567"),
        ("+1 650 253 0000", "+16502530000"),
    ],
)
def test_numbers_are_normalised_to_e164(raw: str, expected: str) -> None:
    assert to_e164(raw) == expected


@pytest.mark.parametrize("raw", ["", "abc", "123", "+55 11 1234"])
def test_invalid_numbers_are_rejected_with_the_field_name(raw: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        to_e164(raw, field="to")
    assert info.value.message.startswith("to ")


def test_digits_for_gateways() -> None:
    assert e164_digits("+5511987654321") == "5511987654321"


# ----- Brazilian numbers split for payment gateways (type from the numbering plan) ------------


@pytest.mark.parametrize(
    ("e164", "area", "number", "mobile"),
    [
        ("+5511987654321", "11", "987654321", True),
        ("+551133334444", "11", "33334444", False),  # São Paulo landline
        ("+5555991234567", "55", "991234567", True),  # DDD 55 (Santa Maria/RS)
        ("+554733332222", "47", "33332222", False),
    ],
)
def test_brazilian_numbers_split_into_ddd_and_number_with_their_type(
    e164: str, area: str, number: str, mobile: bool
) -> None:
    assert brazilian_phone(e164) == BrazilianPhone(area=area, number=number, mobile=mobile)
    assert brazilian_phone(e164).national == area + number  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "e164",
    [
        None,
        "",
        "+14155550100",  # foreign
        "+5508001234567",  # 0800: no DDD, a gateway would read "80" as the area code
        "+5511987654",  # too short to be valid
        "not a phone",
    ],
)
def test_numbers_a_gateway_cannot_take_are_not_split(e164: str | None) -> None:
    assert brazilian_phone(e164) is None


def test_the_lite_distribution_is_installed_and_nothing_imports_its_missing_data() -> None:
    # phonenumberslite ships without the geocoder/carrier/timezone data (~40 MB).
    for module in ("geocoder", "carrier", "timezone"):
        with pytest.raises(ImportError):
            importlib.import_module(f"phonenumbers.{module}")
    offenders = []
    for root in (REPO / "layers" / "hub" / "hub", REPO / "functions", REPO / "localcloud", REPO / "ops"):
        for path in root.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
                if any(name.split(".")[:2] in _DATA_MODULES for name in names):
                    offenders.append(str(path.relative_to(REPO)))
    assert offenders == []
