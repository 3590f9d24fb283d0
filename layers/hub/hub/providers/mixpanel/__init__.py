"""Mixpanel: hub events imported through the Ingestion API's /import (service account auth).

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import ProviderDescriptor

DESCRIPTOR = ProviderDescriptor(
    auth="basic",
    # https://developer.mixpanel.com/reference/import-events (US; EU and India residency hosts by
    # the secret's ``region``).
    default_base_url="https://api.mixpanel.com",
    capabilities=frozenset({"AnalyticsSink"}),
    # https://docs.mixpanel.com/reference/rate-limits: 2 GB of uncompressed JSON a minute or
    # ~30k events a second per project, on a rolling minute: far above an org's hub events. A
    # 429 (no Retry-After documented) is the signal, answered as RateLimitedError.
    limits=(),
    docs="https://developer.mixpanel.com/reference/import-events",
)
