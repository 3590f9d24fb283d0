"""Fake third-party providers served on one port (default 4010), one path prefix each.

Adding a provider: write ``localcloud/sandboxes/<provider>.py`` with a :class:`Sandbox`
subclass, add it to :func:`all_sandboxes`, and add its demo secret in ``localcloud/demo.py``.
"""

from __future__ import annotations

from localcloud.sandboxes.anthropic import AnthropicSandbox
from localcloud.sandboxes.asaas import AsaasSandbox
from localcloud.sandboxes.base import Fault, Sandbox, SandboxServer, parse_fault
from localcloud.sandboxes.evolution import EvolutionSandbox
from localcloud.sandboxes.focusnfe import FocusNfeSandbox
from localcloud.sandboxes.gemini import GeminiSandbox
from localcloud.sandboxes.mercadopago import MercadoPagoSandbox
from localcloud.sandboxes.nuvemfiscal import NuvemFiscalSandbox
from localcloud.sandboxes.openai import OpenAISandbox
from localcloud.sandboxes.pagbank import PagBankSandbox
from localcloud.sandboxes.pluggy import PluggySandbox
from localcloud.sandboxes.replicate import ReplicateSandbox
from localcloud.sandboxes.resend import ResendSandbox
from localcloud.sandboxes.twilio import TwilioSandbox
from localcloud.sandboxes.whatsapp_cloud import WhatsAppCloudSandbox


def all_sandboxes() -> list[Sandbox]:
    return [
        EvolutionSandbox(),
        WhatsAppCloudSandbox(),
        TwilioSandbox(),
        ResendSandbox(),
        GeminiSandbox(),
        ReplicateSandbox(),
        AnthropicSandbox(),
        OpenAISandbox(),
        AsaasSandbox(),
        PagBankSandbox(),
        MercadoPagoSandbox(),
        NuvemFiscalSandbox(),
        FocusNfeSandbox(),
        PluggySandbox(),
    ]


__all__ = [
    "AnthropicSandbox",
    "AsaasSandbox",
    "EvolutionSandbox",
    "Fault",
    "FocusNfeSandbox",
    "GeminiSandbox",
    "MercadoPagoSandbox",
    "NuvemFiscalSandbox",
    "OpenAISandbox",
    "PagBankSandbox",
    "PluggySandbox",
    "ReplicateSandbox",
    "ResendSandbox",
    "Sandbox",
    "SandboxServer",
    "TwilioSandbox",
    "WhatsAppCloudSandbox",
    "all_sandboxes",
    "parse_fault",
]
