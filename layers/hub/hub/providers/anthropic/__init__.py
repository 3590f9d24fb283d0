"""Anthropic: Claude text generation.

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import ProviderDescriptor

DESCRIPTOR = ProviderDescriptor(
    auth="api_key",
    default_base_url="https://api.anthropic.com",
    capabilities=frozenset({"TextGenerator"}),
    docs="https://docs.anthropic.com/en/api/messages",
)
