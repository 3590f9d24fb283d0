import pytest

from hub.errors import InvalidRequestError
from hub.phones import e164_digits, to_e164


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
