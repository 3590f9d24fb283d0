"""A static proof, checked by mypy, that each adapter implements the ports its descriptor declares.

Never imported at runtime (everything is under ``TYPE_CHECKING``); the registry-wide runtime check
is ``tests/unit/providers/test_ports.py``. A new adapter of a port gets a line here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.providers import ports
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
    from hub.providers.stripe.client import StripeClient
    from hub.providers.twilio.client import TwilioClient

    def _messaging(
        evolution: EvolutionClient,
        cloud: WhatsAppCloudClient,
        twilio: TwilioClient,
        resend: ResendClient,
        ses: SesClient,
    ) -> None:
        whatsapp: list[ports.WhatsAppSender] = [evolution, cloud]
        sms: list[ports.SmsSender] = [twilio]
        email: list[ports.EmailSender] = [resend, ses]
        del whatsapp, sms, email

    def _ai(anthropic: AnthropicClient, openai: OpenAIClient, gemini: GeminiClient, replicate: ReplicateClient) -> None:
        text: list[ports.TextGenerator] = [anthropic, openai, gemini]
        images: list[ports.ImageGenerator] = [openai, replicate]
        embedders: list[ports.Embedder] = [openai]
        del text, images, embedders

    def _payments(
        asaas: AsaasClient,
        pagbank: PagBankClient,
        mercadopago: MercadoPagoClient,
        stripe: StripeClient,
        pluggy: PluggyClient,
    ) -> None:
        chargers: list[ports.Charger] = [asaas, pagbank, mercadopago]
        refunders: list[ports.Refunder] = [asaas, mercadopago]
        billers: list[ports.SubscriptionBiller] = [asaas, stripe]
        customers: ports.CustomerRegistry = asaas
        lookup: ports.PaymentLookup = mercadopago
        orders: ports.OrderLookup = pagbank
        links: ports.PaymentLinks = asaas
        qr_codes: ports.PixQrCodes = asaas
        transfers: ports.PixTransfers = asaas
        ledger: ports.PaymentLedger = asaas
        bank: ports.BankStatements = pluggy
        del chargers, refunders, billers, customers, lookup, orders, links, qr_codes, transfers, ledger, bank

    def _fiscal(nuvemfiscal: NuvemFiscalClient, focusnfe: FocusNfeClient) -> None:
        issuers: list[ports.NfseIssuer] = [nuvemfiscal, focusnfe]
        cnpj: ports.CnpjLookup = nuvemfiscal
        del issuers, cnpj
