"""Stripe: subscriptions for international customers and signed webhooks.

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import ProviderDescriptor

DESCRIPTOR = ProviderDescriptor(
    auth="api_key",
    default_base_url="https://api.stripe.com",
    webhook=True,
    # Most orgs hold only Stripe's webhook secret (the platform's key lives with the platform
    # product), so a health probe would report a false failure.
    health_check=False,
    capabilities=frozenset({"SubscriptionBiller", "WebhookRegistrar"}),
    docs="https://docs.stripe.com/api",
)
