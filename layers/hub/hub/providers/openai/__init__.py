"""OpenAI: text, images and embeddings.

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import ProviderDescriptor

DESCRIPTOR = ProviderDescriptor(
    auth="api_key",
    default_base_url="https://api.openai.com/v1",
    capabilities=frozenset({"TextGenerator", "ImageGenerator", "Embedder"}),
    docs="https://platform.openai.com/docs/api-reference",
)
