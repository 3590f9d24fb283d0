"""Google Gemini: text and image generation.

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import ProviderDescriptor
from hub.resilience.ratelimit import MINUTE, LimitRule

DESCRIPTOR = ProviderDescriptor(
    auth="api_key",
    default_base_url="https://generativelanguage.googleapis.com",
    capabilities=frozenset({"TextGenerator"}),
    # Per-project RPM depends on the tier; the free tier is low. Configure per deployment.
    limits=(LimitRule("requests_per_minute", 1_000, MINUTE, "provider"),),
    docs="https://ai.google.dev/api/generate-content",
)
