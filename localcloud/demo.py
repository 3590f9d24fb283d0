"""Demo organisation used by the local cloud (``make dev``), tests and benchmarks.

Everything here is fake and only meaningful against the local sandboxes.
Adding a provider = adding one :class:`DemoSecret` entry to :data:`DEMO_SECRETS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DEMO_ORG_ID = "demo"

# Evolution API v2 (WhatsApp) ------------------------------------------------
EVOLUTION_API_KEY = "demo-evolution-api-key"
EVOLUTION_INSTANCE = "somos-principal"
EVOLUTION_WEBHOOK_TOKEN = "demo-evolution-webhook-token"

# Webhook secrets of the other providers (inbound only so far) ----------------
STRIPE_WEBHOOK_SECRET = "whsec_demo_stripe_secret"
META_APP_SECRET = "demo-meta-app-secret"
META_VERIFY_TOKEN = "demo-meta-verify-token"
RESEND_WEBHOOK_SECRET = "whsec_ZGVtby1yZXNlbmQtc2VjcmV0LWtleS0xMjM0NTY="
ASAAS_WEBHOOK_TOKEN = "demo-asaas-webhook-token"
MERCADOPAGO_WEBHOOK_SECRET = "demo-mercadopago-secret"
CUSTOM_SOURCE = "crm"
CUSTOM_WEBHOOK_SECRET = "whsec_ZGVtby1jdXN0b20tc2VjcmV0LWtleS0xMjM0NTY="

# AI providers (sandboxes at /anthropic and /openai) -------------------------
ANTHROPIC_API_KEY = "demo-anthropic-key"
OPENAI_API_KEY = "demo-openai-key"

# Messaging (sandboxes at /twilio, /resend, /whatsapp_cloud; SES is moto's) -------
RESEND_API_KEY = "re_demo_SomosFullAccessKey123"
TWILIO_ACCOUNT_SID = "ACd0e1a2b3c4d5e6f708192a3b4c5d6e7f"
TWILIO_AUTH_TOKEN = "demo-twilio-auth-token"
TWILIO_FROM_NUMBER = "+5511940000000"
EMAIL_DOMAIN = "somosprodutora.com.br"
EMAIL_FROM = f"Somos Produtora <contato@{EMAIL_DOMAIN}>"
# A second demo org whose WhatsApp goes through Meta's Cloud API (24-hour window rules).
DEMO_CLOUD_ORG_ID = "demo-cloud"
WHATSAPP_CLOUD_ACCESS_TOKEN = "demo-whatsapp-cloud-token"
WHATSAPP_CLOUD_PHONE_NUMBER_ID = "106540352242922"
WHATSAPP_CLOUD_GRAPH_VERSION = "v26.0"
FALLBACK_TEMPLATE = {"name": "retomar_conversa", "language": "pt_BR", "body_parameters": ["{name}"]}

# Payments and fiscal (sandboxes at /asaas, /pagbank, /mercadopago, /nuvemfiscal, /focusnfe) ---
ASAAS_API_KEY = "$aact_demo_somos_produtora_sandbox_key"
PAGBANK_TOKEN = "demo-pagbank-token"
MERCADOPAGO_ACCESS_TOKEN = "APP_USR-demo-mercadopago-access-token"
NUVEMFISCAL_CLIENT_ID = "demo-nuvemfiscal-client"
NUVEMFISCAL_CLIENT_SECRET = "demo-nuvemfiscal-secret"
FOCUSNFE_TOKEN = "demo-focusnfe-token"
PLUGGY_CLIENT_ID = "d3m0c1ie-0000-4000-8000-00000000c1d0"
PLUGGY_CLIENT_SECRET = "demo-pluggy-client-secret"
PLUGGY_ITEM_ID = "a1b2c3d4-0000-4000-8000-0000000011e0"
PLUGGY_ACCOUNT_ID = "a1b2c3d4-0000-4000-8000-00000000acc1"
# The demo agency: a valid CNPJ, São Paulo (IBGE 3550308), Simples Nacional.
DEMO_CNPJ = "12345678000195"
DEMO_PAYMENTS = {
    "pix_key": "financeiro@somosprodutora.com.br",
    "merchant_name": "Somos Produtora",
    "merchant_city": "Sao Paulo",
    "transfer_allowlist": [{"name": "Conta PJ (PIX)", "pix_key": "12345678000195"}],
    # An advertising agency in São Paulo under the Simples Nacional (LC 116 item 17.06).
    "fiscal": {
        "prestador_cnpj": DEMO_CNPJ,
        "inscricao_municipal": "12345678",
        "municipality_ibge": "3550308",
        "simples_nacional": True,
        "c_trib_nac": "170601",
        "lc116_item": "17.06",
        "cnae": "7311400",
        "iss_rate": "2.9",
    },
}

DEFAULT_SECRETS_PREFIX = "hub"

# The org registry (OrgsTable): the demo orgs exist, so operations and webhooks accept them.
DEMO_ORGS = {DEMO_ORG_ID: "Somos Produtora (demo)", DEMO_CLOUD_ORG_ID: "Somos Produtora (demo, WhatsApp Cloud API)"}


@dataclass(frozen=True)
class DemoSecret:
    """One Secrets Manager secret seeded for the demo org.

    ``provider`` is both the secret id suffix (``<prefix>/<org>/<provider>``) and
    the sandbox path prefix (``http://127.0.0.1:4010/<provider>``).
    ``build`` receives that sandbox base URL and returns the SecretString JSON.
    """

    provider: str
    build: Callable[[str], dict[str, Any]]
    org_id: str = DEMO_ORG_ID

    def secret_id(self, prefix: str = DEFAULT_SECRETS_PREFIX, org_id: str | None = None) -> str:
        return f"{prefix}/{org_id or self.org_id}/{self.provider}"


def _evolution(base_url: str) -> dict[str, Any]:
    return {
        "base_url": base_url,
        "api_key": EVOLUTION_API_KEY,
        "instance": EVOLUTION_INSTANCE,
        "webhook_token": EVOLUTION_WEBHOOK_TOKEN,
    }


DEMO_SECRETS: list[DemoSecret] = [
    DemoSecret(provider="evolution", build=_evolution),
    DemoSecret(provider="stripe", build=lambda base_url: {"webhook_secret": STRIPE_WEBHOOK_SECRET}),
    DemoSecret(
        provider="meta",
        build=lambda base_url: {"app_secret": META_APP_SECRET, "verify_token": META_VERIFY_TOKEN},
    ),
    DemoSecret(
        provider="resend",
        build=lambda base_url: {
            "base_url": base_url,
            "api_key": RESEND_API_KEY,
            "webhook_secret": RESEND_WEBHOOK_SECRET,
        },
    ),
    DemoSecret(
        provider="asaas",
        build=lambda base_url: {
            "base_url": f"{base_url}/v3",
            "api_key": ASAAS_API_KEY,
            "environment": "sandbox",
            "webhook_token": ASAAS_WEBHOOK_TOKEN,
        },
    ),
    DemoSecret(
        provider="mercadopago",
        build=lambda base_url: {
            "base_url": base_url,
            "access_token": MERCADOPAGO_ACCESS_TOKEN,
            "webhook_secret": MERCADOPAGO_WEBHOOK_SECRET,
        },
    ),
    DemoSecret(
        provider="custom",
        build=lambda base_url: {"sources": {CUSTOM_SOURCE: {"webhook_secret": CUSTOM_WEBHOOK_SECRET}}},
    ),
    DemoSecret(provider="anthropic", build=lambda base_url: {"base_url": base_url, "api_key": ANTHROPIC_API_KEY}),
    # OpenAI's base URL carries the API version (https://api.openai.com/v1); so does the sandbox's.
    DemoSecret(provider="openai", build=lambda base_url: {"base_url": f"{base_url}/v1", "api_key": OPENAI_API_KEY}),
]


def demo_secret_values(sandbox_url: str, org_id: str = DEMO_ORG_ID) -> dict[str, dict[str, Any]]:
    """provider -> secret JSON of one demo org, with base URLs pointing at ``sandbox_url``."""
    root = sandbox_url.rstrip("/")
    return {s.provider: s.build(f"{root}/{s.provider}") for s in DEMO_SECRETS if s.org_id == org_id}


# Gemini API and Replicate (AI providers) ------------------------------------
GEMINI_API_KEY = "demo-gemini-key"
REPLICATE_API_TOKEN = "demo-replicate-token"

DEMO_SECRETS += [
    DemoSecret(provider="gemini", build=lambda base_url: {"base_url": base_url, "api_key": GEMINI_API_KEY}),
    # The sandbox mounts the API under /replicate/v1, as api.replicate.com serves it under /v1.
    DemoSecret(
        provider="replicate",
        build=lambda base_url: {"base_url": f"{base_url}/v1", "api_token": REPLICATE_API_TOKEN},
    ),
]

# Messaging: SMS, the SES fallback, the orgs' messaging settings, the Cloud API org ------
DEMO_SECRETS += [
    DemoSecret(
        provider="twilio",
        build=lambda base_url: {
            "base_url": base_url,
            "account_sid": TWILIO_ACCOUNT_SID,
            "auth_token": TWILIO_AUTH_TOKEN,
            "from_number": TWILIO_FROM_NUMBER,
        },
    ),
    # SES authenticates with the function's IAM role; the secret only configures it.
    DemoSecret(provider="ses", build=lambda base_url: {"from_address": EMAIL_FROM}),
    DemoSecret(provider="messaging", build=lambda base_url: {"email_from": EMAIL_FROM}),
    DemoSecret(
        provider="whatsapp_cloud",
        org_id=DEMO_CLOUD_ORG_ID,
        build=lambda base_url: {
            "base_url": base_url,
            "access_token": WHATSAPP_CLOUD_ACCESS_TOKEN,
            "phone_number_id": WHATSAPP_CLOUD_PHONE_NUMBER_ID,
            "graph_version": WHATSAPP_CLOUD_GRAPH_VERSION,
        },
    ),
    DemoSecret(
        provider="meta",
        org_id=DEMO_CLOUD_ORG_ID,
        build=lambda base_url: {"app_secret": META_APP_SECRET, "verify_token": META_VERIFY_TOKEN},
    ),
    DemoSecret(
        provider="messaging",
        org_id=DEMO_CLOUD_ORG_ID,
        build=lambda base_url: {
            "whatsapp_provider": "whatsapp_cloud",
            "whatsapp_fallback_template": FALLBACK_TEMPLATE,
            "email_from": EMAIL_FROM,
        },
    ),
]

# Payments and fiscal ------------------------------------------------------------------------
DEMO_SECRETS += [
    DemoSecret(
        provider="pagbank",
        build=lambda base_url: {"base_url": base_url, "token": PAGBANK_TOKEN, "environment": "sandbox"},
    ),
    DemoSecret(
        provider="nuvemfiscal",
        build=lambda base_url: {
            "base_url": base_url,
            "auth_url": f"{base_url}/oauth/token",
            "client_id": NUVEMFISCAL_CLIENT_ID,
            "client_secret": NUVEMFISCAL_CLIENT_SECRET,
            "ambiente": "homologacao",
        },
    ),
    DemoSecret(
        provider="focusnfe",
        build=lambda base_url: {"base_url": base_url, "token": FOCUSNFE_TOKEN, "environment": "homologacao"},
    ),
    DemoSecret(provider="payments", build=lambda base_url: DEMO_PAYMENTS),
    DemoSecret(
        provider="pluggy",
        build=lambda base_url: {
            "base_url": base_url,
            "client_id": PLUGGY_CLIENT_ID,
            "client_secret": PLUGGY_CLIENT_SECRET,
            "item_id": PLUGGY_ITEM_ID,
            "account_id": PLUGGY_ACCOUNT_ID,
        },
    ),
]
