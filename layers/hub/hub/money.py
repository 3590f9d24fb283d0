"""Money: integer centavos inside the hub, Decimal at the edges, never a float.

Rounding where a rate applies is half-to-even (ABNT NBR 5891): 0.125 → 0.12, 0.135 → 0.14.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from hub.errors import InvalidRequestError

CENT = Decimal("0.01")


def round_cents(value: Decimal) -> Decimal:
    """Round reais to centavos, half-to-even (ABNT NBR 5891)."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def cents_to_reais(cents: int) -> Decimal:
    """12345 → Decimal('123.45') (exact)."""
    return (Decimal(cents) / 100).quantize(CENT)


def reais_to_cents(value: Decimal | str | int, *, field: str = "value") -> int:
    """Decimal('123.45') / '123.45' → 12345. A value with more than two decimals is refused:
    it is not money, and rounding it silently would move centavos."""
    if isinstance(value, float):  # pragma: no cover - guarded by types; floats are never money
        raise InvalidRequestError(f"{field} must not be a float")
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError):
        raise InvalidRequestError(f"{field} is not a number") from None
    if not amount.is_finite() or amount != amount.quantize(CENT):
        raise InvalidRequestError(f"{field} must have at most two decimal places")
    return int(amount * 100)


def percent_of(cents: int, rate_percent: Decimal) -> int:
    """``rate_percent`` % of an amount in centavos, rounded half-to-even to the centavo."""
    return int(round_cents(cents_to_reais(cents) * rate_percent / 100) * 100)
