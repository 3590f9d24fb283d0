"""Asaas: charges, Pix, subscriptions, transfers and payment webhooks.

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import ProviderDescriptor
from hub.resilience.ratelimit import HOUR, MINUTE, LimitRule

DESCRIPTOR = ProviderDescriptor(
    auth="api_key",
    default_base_url="https://api.asaas.com/v3",
    webhook=True,
    capabilities=frozenset(
        {
            "Charger",
            "CustomerRegistry",
            "Refunder",
            "SubscriptionBiller",
            "PaymentLinks",
            "PixQrCodes",
            "PixTransfers",
            "PaymentLedger",
            "WebhookRegistrar",
        }
    ),
    # https://docs.asaas.com/docs/limites-da-api : 25,000 requests per 12 h per account; bursts limited too.
    limits=(
        LimitRule("requests_per_minute", 100, MINUTE, "account", "seed: 100/min"),
        LimitRule("requests_per_12h", 25_000, 12 * HOUR, "account", "Asaas quota per 12 h"),
    ),
    docs="https://docs.asaas.com/reference",
)
