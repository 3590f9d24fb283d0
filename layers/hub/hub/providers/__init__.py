"""Provider adapters. ``ADAPTERS`` maps the provider name used in secret ids to its class."""

from __future__ import annotations

from hub.providers.anthropic import AnthropicClient
from hub.providers.base import ProviderClient
from hub.providers.evolution import EvolutionClient
from hub.providers.gemini import GeminiClient
from hub.providers.openai import OpenAIClient
from hub.providers.replicate import ReplicateClient

ADAPTERS: dict[str, type[ProviderClient]] = {
    cls.provider: cls for cls in (EvolutionClient, GeminiClient, ReplicateClient, AnthropicClient, OpenAIClient)
}
