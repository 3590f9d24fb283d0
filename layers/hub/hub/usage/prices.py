"""What a billed provider call costs: per-unit prices in the currency the provider bills.

Defaults are the public list prices below (each with its source); a deployment replaces any of
them with ``USAGE_PRICES`` (JSON, amounts as strings or numbers, never floats at runtime):
``{"serpapi": {"search": {"amount": "0.0133", "currency": "USD"}}}``. A tariff absent from both
is counted (units) but not priced.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Literal

from hub.config import get_settings
from hub.errors import ConfigurationError

Currency = Literal["USD", "BRL"]
CURRENCIES: tuple[Currency, ...] = ("USD", "BRL")


@dataclass(frozen=True)
class Price:
    amount: Decimal  # per unit
    currency: Currency
    unit: str
    source: str = ""


DEFAULT_PRICES: dict[str, dict[str, Price]] = {
    # Developer plan: USD 75 for 5,000 searches a month = USD 0.015 per search
    # (https://serpapi.com/pricing). Cached and errored searches are free
    # (https://serpapi.com/account-api: "Only successful and processing searches are counted").
    "serpapi": {"search": Price(Decimal("0.015"), "USD", "search", "https://serpapi.com/pricing")},
    # Starter pack: USD 50 for 50,000 credits = USD 0.001 per credit (https://serper.dev/, pricing;
    # credits are prepaid and last 6 months). A search costs the credits its answer states
    # ("credits": 1, 2 for more than 10 results).
    "serper": {"credit": Price(Decimal("0.001"), "USD", "credit", "https://serper.dev/")},
    # Search plan: USD 5 per 1,000 requests = USD 0.005 per search; USD 5 of free credit a month
    # (https://brave.com/search/api/). Only successful requests are billed
    # (https://api-dashboard.search.brave.com/app/documentation/web-search/response-headers).
    "brave": {"search": Price(Decimal("0.005"), "USD", "search", "https://brave.com/search/api/")},
    # Outbound SMS to Brazil, per segment; Twilio bills USD and its Brazil rate changes: check
    # https://www.twilio.com/en-us/sms/pricing/br (or the Pricing API,
    # https://www.twilio.com/docs/messaging/api/pricing) and set the account's own rate.
    "twilio": {
        "sms_segment": Price(Decimal("0.0500"), "USD", "segment", "https://www.twilio.com/en-us/sms/pricing/br")
    },
    # Pro plan: USD 20 for 50,000 emails a month = USD 0.0004 per email (https://resend.com/pricing);
    # every To/Cc/Bcc recipient counts as one email against the quota
    # (https://resend.com/docs/knowledge-base/account-quotas-and-limits).
    "resend": {"email": Price(Decimal("0.0004"), "USD", "email", "https://resend.com/pricing")},
    # Per delivered template message to Brazil (+55) since 1 July 2025, in USD
    # (https://developers.facebook.com/docs/whatsapp/pricing; Brazil rates as published for
    # 2026: marketing 0.0625, utility 0.0068, authentication 0.0068). Non-template (service)
    # messages inside the customer service window are free.
    "whatsapp_cloud": {
        "marketing": Price(
            Decimal("0.0625"), "USD", "message", "https://developers.facebook.com/docs/whatsapp/pricing"
        ),
        "utility": Price(Decimal("0.0068"), "USD", "message", "https://developers.facebook.com/docs/whatsapp/pricing"),
        "authentication": Price(
            Decimal("0.0068"), "USD", "message", "https://developers.facebook.com/docs/whatsapp/pricing"
        ),
        "service": Price(Decimal("0"), "USD", "message", "https://developers.facebook.com/docs/whatsapp/pricing"),
    },
}


def _parse_override(provider: str, tariff: str, raw: Any) -> Price:
    where = f"USAGE_PRICES {provider}.{tariff}"
    if not isinstance(raw, dict) or raw.get("currency") not in CURRENCIES:
        raise ConfigurationError(f"{where}: needs an amount and a currency (USD or BRL)")
    try:
        amount = Decimal(str(raw["amount"]))
    except (KeyError, InvalidOperation):
        raise ConfigurationError(f"{where}: amount is not a decimal number") from None
    if not amount.is_finite() or amount < 0:
        raise ConfigurationError(f"{where}: amount must be zero or more")
    return Price(amount, raw["currency"], str(raw.get("unit", "unit")), str(raw.get("source", "USAGE_PRICES")))


@lru_cache(maxsize=1)
def price_table() -> dict[str, dict[str, Price]]:
    """The defaults with ``USAGE_PRICES`` applied (read once per container)."""
    table = {provider: dict(tariffs) for provider, tariffs in DEFAULT_PRICES.items()}
    raw = get_settings().usage_prices
    if raw:
        try:
            overrides = json.loads(raw, parse_float=Decimal)
        except ValueError:
            raise ConfigurationError("USAGE_PRICES is not valid JSON") from None
        if not isinstance(overrides, dict):
            raise ConfigurationError("USAGE_PRICES must be a JSON object of providers")
        for provider, tariffs in overrides.items():
            if not isinstance(tariffs, dict):
                raise ConfigurationError(f"USAGE_PRICES {provider}: must be an object of tariffs")
            for tariff, value in tariffs.items():
                table.setdefault(provider, {})[tariff] = _parse_override(provider, tariff, value)
    return table


def price_of(provider: str, tariff: str) -> Price | None:
    return price_table().get(provider, {}).get(tariff)
