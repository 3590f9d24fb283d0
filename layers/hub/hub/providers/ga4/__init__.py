"""Google Analytics 4 Measurement Protocol: hub events sent to an org's GA4 web data stream.

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import ProviderDescriptor

DESCRIPTOR = ProviderDescriptor(
    auth="api_key",
    # https://developers.google.com/analytics/devguides/collection/protocol/ga4/reference
    # (the EU endpoint, region1.google-analytics.com, is chosen by the secret's ``region``).
    default_base_url="https://www.google-analytics.com",
    capabilities=frozenset({"AnalyticsSink"}),
    # Google publishes no request rate for the Measurement Protocol, only collection limits per
    # property (https://support.google.com/analytics/answer/9267744: 100,000 events per user a
    # day, 25 parameters an event), which the adapter checks per event; nothing for the hub to
    # count across instances.
    limits=(),
    docs="https://developers.google.com/analytics/devguides/collection/protocol/ga4",
)
