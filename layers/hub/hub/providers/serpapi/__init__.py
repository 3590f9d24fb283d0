"""SerpAPI: Google web, Maps and News search results as JSON.

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import ProviderDescriptor
from hub.resilience.ratelimit import DAY, LimitRule

DESCRIPTOR = ProviderDescriptor(
    auth="api_key",
    default_base_url="https://serpapi.com",
    capabilities=frozenset({"WebSearch"}),
    limits=(
        # The plan's monthly searches are the quota (https://serpapi.com/pricing: Developer
        # 5,000/month); cached searches are free but cannot be told apart beforehand, so every
        # search counts here. SerpAPI resets on the billing day: a 30-day window approximates
        # it; set the org's own plan with RATE_LIMIT_OVERRIDES. /account (health) is free.
        LimitRule("searches_per_month", 5_000, 30 * DAY, "account", "plan searches", applies_to="search"),
    ),
    docs="https://serpapi.com/search-api",
)
