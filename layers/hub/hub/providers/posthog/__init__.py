"""PostHog (Cloud US/EU or self-hosted): hub events captured through the public /batch/ endpoint.

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import ProviderDescriptor

DESCRIPTOR = ProviderDescriptor(
    auth="api_key",
    # https://posthog.com/docs/api/capture: US Cloud; EU Cloud (eu.i.posthog.com) by the secret's
    # ``region``, a self-hosted instance by its ``base_url``.
    default_base_url="https://us.i.posthog.com",
    capabilities=frozenset({"AnalyticsSink"}),
    # PostHog publishes no rate limit for its public POST-only capture endpoints (the private
    # API's limits, https://posthog.com/docs/api#rate-limiting, exclude them); what bounds a
    # request is its size (README.md). Nothing for the hub to count across instances.
    limits=(),
    docs="https://posthog.com/docs/api/capture",
)
