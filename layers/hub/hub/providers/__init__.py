"""Provider adapters. ``ADAPTERS`` maps the provider name used in secret ids to its class.

The registry is built on first access (PEP 562), not at import: importing one adapter (or
``hub.providers.base.client``) must not import every other one — a receiver's cold start would pay
for all of them, and modules the adapters import (``hub.webhooks.standard``) would import
themselves in a circle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.providers.base.client import ProviderClient

_ADAPTERS: dict[str, type[ProviderClient]] | None = None


def _build() -> dict[str, type[ProviderClient]]:
    from hub.providers.anthropic.client import AnthropicClient
    from hub.providers.asaas.client import AsaasClient
    from hub.providers.evolution.client import EvolutionClient
    from hub.providers.focusnfe.client import FocusNfeClient
    from hub.providers.gemini.client import GeminiClient
    from hub.providers.mercadopago.client import MercadoPagoClient
    from hub.providers.meta.whatsapp_cloud import WhatsAppCloudClient
    from hub.providers.nuvemfiscal.client import NuvemFiscalClient
    from hub.providers.openai.client import OpenAIClient
    from hub.providers.pagbank.client import PagBankClient
    from hub.providers.pluggy.client import PluggyClient
    from hub.providers.replicate.client import ReplicateClient
    from hub.providers.resend.client import ResendClient
    from hub.providers.ses.client import SesClient
    from hub.providers.twilio.client import TwilioClient

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
        AsaasClient,
        PagBankClient,
        MercadoPagoClient,
        NuvemFiscalClient,
        FocusNfeClient,
        PluggyClient,
    )
    # Stripe is left out: most orgs hold only its webhook secret here (the platform's key
    # lives with the platform product), so a health check would report a false failure.
    return {cls.provider: cls for cls in classes}


def __getattr__(name: str) -> Any:
    global _ADAPTERS
    if name == "ADAPTERS":
        if _ADAPTERS is None:
            _ADAPTERS = _build()
        return _ADAPTERS
    raise AttributeError(f"module 'hub.providers' has no attribute {name!r}")
