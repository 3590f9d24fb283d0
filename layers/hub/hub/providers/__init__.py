"""Provider adapters. ``ADAPTERS`` maps the provider name used in secret ids to its class.

The registry is built on first access (PEP 562), not at import: importing one adapter (or
``hub.providers.base``) must not import every other one — a receiver's cold start would pay
for all of them, and modules the adapters import (``hub.webhooks.standard``) would import
themselves in a circle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.providers.base import ProviderClient

_ADAPTERS: dict[str, type[ProviderClient]] | None = None


def _build() -> dict[str, type[ProviderClient]]:
    from hub.providers.anthropic import AnthropicClient
    from hub.providers.evolution import EvolutionClient
    from hub.providers.gemini import GeminiClient
    from hub.providers.openai import OpenAIClient
    from hub.providers.replicate import ReplicateClient
    from hub.providers.resend import ResendClient
    from hub.providers.ses import SesClient
    from hub.providers.twilio import TwilioClient
    from hub.providers.whatsapp_cloud import WhatsAppCloudClient

    classes: tuple[type[ProviderClient], ...] = (
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
    return {cls.provider: cls for cls in classes}


def __getattr__(name: str) -> Any:
    global _ADAPTERS
    if name == "ADAPTERS":
        if _ADAPTERS is None:
            _ADAPTERS = _build()
        return _ADAPTERS
    raise AttributeError(f"module 'hub.providers' has no attribute {name!r}")
