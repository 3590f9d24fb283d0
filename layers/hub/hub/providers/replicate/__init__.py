"""Replicate: image generation (fallback of OpenAI images).

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import ProviderDescriptor

DESCRIPTOR = ProviderDescriptor(
    auth="api_key",
    default_base_url="https://api.replicate.com/v1",
    capabilities=frozenset({"ImageGenerator"}),
    docs="https://replicate.com/docs/reference/http",
)
