"""Phone numbers: E.164 through Google's libphonenumber port (``phonenumbers``).

The seed's ``_format_phone`` prefixed 55 to any number not starting with 55, which
breaks Brazilian numbers whose area code is 55 (Santa Maria/RS): "55 99999-9999" is a
national number, not "+55 9999-9999". libphonenumber knows the numbering plan.
"""

from __future__ import annotations

import phonenumbers

from hub.errors import InvalidRequestError

DEFAULT_REGION = "BR"
# The longest phone a request may carry, however it is written ("+55 (11) 98765-4321" is 19).
MAX_PHONE_INPUT = 40


def to_e164(raw: str, *, default_region: str = DEFAULT_REGION, field: str = "phone") -> str:
    """Normalise a phone number to E.164 (``+5511999999999``) or raise InvalidRequestError."""
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
