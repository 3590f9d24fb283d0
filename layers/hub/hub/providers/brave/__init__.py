"""Brave Search API: web and news results from Brave's own index (not a Google reseller).

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import ProviderDescriptor
from hub.resilience.ratelimit import DAY, LimitRule

DESCRIPTOR = ProviderDescriptor(
    auth="api_key",
    default_base_url="https://api.search.brave.com",
    # Brave has no free endpoint: a probe would spend a billed search on every platform health
    # check. IntegrationTest still calls health_check() (one search) when asked.
    health_check=False,
    capabilities=frozenset({"WebSearch"}),
    limits=(
        # Search plan: USD 5 of free credit a month = 1,000 searches, then billed per 1,000
        # (https://brave.com/search/api/). The org's own budget is configuration
        # (RATE_LIMIT_OVERRIDES); Brave's headers (X-RateLimit-*) still govern on a 429.
        LimitRule("searches_per_month", 1_000, 30 * DAY, "account", "monthly credit: USD 5", applies_to="search"),
        # Search plan throughput: 50 requests per second (https://brave.com/search/api/).
        LimitRule("requests_per_second", 50, 1, "account", "Search plan: 50 rps", applies_to="search"),
    ),
    docs="https://api-dashboard.search.brave.com/app/documentation/web-search/get-started",
)
