"""Provider adapters. ``ADAPTERS`` maps the provider name used in secret ids to its class."""

from __future__ import annotations

from hub.providers.anthropic import AnthropicClient
from hub.providers.base import ProviderClient
from hub.providers.evolution import EvolutionClient
from hub.providers.gemini import GeminiClient
from hub.providers.openai import OpenAIClient
from hub.providers.replicate import ReplicateClient
from hub.providers.resend import ResendClient
from hub.providers.ses import SesClient
from hub.providers.twilio import TwilioClient
from hub.providers.whatsapp_cloud import WhatsAppCloudClient

ADAPTERS: dict[str, type[ProviderClient]] = {
    cls.provider: cls
    for cls in (
        EvolutionClient,
        WhatsAppCloudClient,
        TwilioClient,
        ResendClient,
        SesClient,
        GeminiClient,
        ReplicateClient,
        AnthropicClient,
        OpenAIClient,
    )
}
