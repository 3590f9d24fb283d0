"""Serper.dev: Google web, News and Places results as JSON (a second Google reseller).

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import ProviderDescriptor
from hub.resilience.ratelimit import DAY, LimitRule

DESCRIPTOR = ProviderDescriptor(
    auth="api_key",
    default_base_url="https://google.serper.dev",
    capabilities=frozenset({"WebSearch"}),
    limits=(
        # Serper sends no rate-limit headers: the hub counts. Credits are prepaid packs (2,500
        # free at sign-up; Starter 50,000 for 6 months: https://serper.dev/), so the monthly
        # budget is configuration: set the org's own with RATE_LIMIT_OVERRIDES. A search takes
        # the credits it costs (1, or 2 above 10 results); /account (health) is free.
        LimitRule("credits_per_month", 2_500, 30 * DAY, "account", "prepaid credits budget", applies_to="search"),
        # Starter plan throughput: 50 queries per second (https://serper.dev/).
        LimitRule("queries_per_second", 50, 1, "account", "Starter: 50 qps", applies_to="search"),
    ),
    docs="https://serper.dev/",
)
