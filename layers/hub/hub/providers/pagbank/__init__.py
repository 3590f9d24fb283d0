"""PagBank (PagSeguro): orders, Pix, boleto, checkout links and signed notifications.

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import ProviderDescriptor
from hub.resilience.ratelimit import MINUTE, LimitRule

DESCRIPTOR = ProviderDescriptor(
    auth="api_key",
    default_base_url="https://api.pagseguro.com",
    webhook=True,
    capabilities=frozenset({"Charger", "OrderLookup"}),
    limits=(LimitRule("requests_per_minute", 300, MINUTE, "account"),),
    aliases=("pagseguro",),
    docs="https://developer.pagbank.com.br/reference",
)
