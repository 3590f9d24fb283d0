"""Mercado Pago: Pix charges, refunds and signed payment webhooks.

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import ProviderDescriptor

DESCRIPTOR = ProviderDescriptor(
    auth="api_key",
    default_base_url="https://api.mercadopago.com",
    webhook=True,
    capabilities=frozenset({"Charger", "Refunder", "PaymentLookup"}),
    docs="https://www.mercadopago.com.br/developers/en/reference",
)
