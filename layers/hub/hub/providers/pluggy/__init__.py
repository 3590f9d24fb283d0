"""Pluggy: Open Finance aggregator: bank statements for reconciliation.

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import ProviderDescriptor
from hub.resilience.ratelimit import MINUTE, LimitRule

DESCRIPTOR = ProviderDescriptor(
    auth="client_credentials",
    default_base_url="https://api.pluggy.ai",
    capabilities=frozenset({"BankStatements"}),
    # Per-minute limits on auth and transactions (https://docs.pluggy.ai/docs/rate-limits).
    limits=(
        LimitRule("auth_per_minute", 360, MINUTE, "provider", applies_to="auth"),
        LimitRule("transactions_per_minute", 360, MINUTE, "provider", applies_to="transactions"),
    ),
    docs="https://docs.pluggy.ai/reference",
)
