"""Phone numbers: E.164 through Google's libphonenumber port.

The distribution is ``phonenumberslite`` (import name ``phonenumbers``, same API): the full
``phonenumbers`` adds ~40 MB of geocoder/carrier/timezone data the hub never uses. Import
nothing from ``phonenumbers.geocoder``, ``.carrier`` or ``.timezone``: they are not installed
(``tests/unit/test_phones.py`` checks it).

The seed's ``_format_phone`` prefixed 55 to any number not starting with 55, which
breaks Brazilian numbers whose area code is 55 (Santa Maria/RS): "55 99999-9999" is a
national number, not "+55 9999-9999". libphonenumber knows the numbering plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.errors import InvalidRequestError

DEFAULT_REGION = "BR"
# The longest phone a request may carry, however it is written ("+55 (11) 98765-4321" is 19).
MAX_PHONE_INPUT = 40


def to_e164(raw: str, *, default_region: str = DEFAULT_REGION, field: str = "phone") -> str:
    """Normalise a phone number to E.164 (``+5511999999999``) or raise InvalidRequestError."""
    import phonenumbers  # on first use, not at init (cold start): most importers never parse a phone

    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        raise InvalidRequestError(f"{field} is not a phone number", code="invalid_phone") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidRequestError(f"{field} is not a valid phone number", code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def e164_digits(e164: str) -> str:
    """``+5511999999999`` → ``5511999999999`` (the form WhatsApp gateways expect)."""
    return e164.lstrip("+")


@dataclass(frozen=True)
class BrazilianPhone:
    """A Brazilian number split the way payment gateways take it."""

    area: str  # DDD, 2 digits
    number: str  # the subscriber number: 9 digits (mobile) or 8 (landline)
    mobile: bool  # libphonenumber's number type is MOBILE (not FIXED_LINE or anything else)

    @property
    def national(self) -> str:
        """DDD + number, 10-11 digits (``11987654321``)."""
        return self.area + self.number


def brazilian_phone(e164: str | None) -> BrazilianPhone | None:
    """A valid Brazilian geographic number (``+55`` + DDD + number) split into DDD and number,
    with its type from Brazil's numbering plan (not from the number's length or first digit).
    None for no number, foreign numbers, and numbers without a DDD (0800, 0300…)."""
    if not e164:
        return None
    import phonenumbers  # on first use (cold start)

    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    if parsed.country_code != 55 or not phonenumbers.is_valid_number(parsed):
        return None
    area_length = phonenumbers.length_of_geographical_area_code(parsed)
    if area_length != 2:
        return None
    national = phonenumbers.national_significant_number(parsed)
    mobile = phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE
    return BrazilianPhone(area=national[:area_length], number=national[area_length:], mobile=mobile)
