"""Demo organisations used by the local cloud (``make dev``), tests and benchmarks.

Everything here is fake and only meaningful against the local sandboxes. A provider's demo
secret lives with its sandbox (``DEMO_SECRETS`` in ``localcloud/sandboxes/<provider>.py``);
this module holds what belongs to the orgs themselves: their ids, payment and fiscal settings,
messaging settings and the custom webhook source.
"""

from __future__ import annotations

from typing import Any

from localcloud.sandboxes.base import DEFAULT_SECRETS_PREFIX, DEMO_ORG_ID, DemoSecret

__all__ = ["DEFAULT_SECRETS_PREFIX", "DEMO_ORG_ID", "DemoSecret", "demo_secret_values", "demo_secrets"]

# A second demo org whose WhatsApp goes through Meta's Cloud API (24-hour window rules).
DEMO_CLOUD_ORG_ID = "demo-cloud"
# The org registry (OrgsTable): the demo orgs exist, so operations and webhooks accept them.
DEMO_ORGS = {DEMO_ORG_ID: "Somos Produtora (demo)", DEMO_CLOUD_ORG_ID: "Somos Produtora (demo, WhatsApp Cloud API)"}

EMAIL_DOMAIN = "somosprodutora.com.br"
EMAIL_FROM = f"Somos Produtora <contato@{EMAIL_DOMAIN}>"
FALLBACK_TEMPLATE = {"name": "retomar_conversa", "language": "pt_BR", "body_parameters": ["{name}"]}

# The hub's own Standard Webhooks receiver (/webhooks/custom/{source}/{org_id}).
CUSTOM_SOURCE = "crm"
CUSTOM_WEBHOOK_SECRET = "whsec_ZGVtby1jdXN0b20tc2VjcmV0LWtleS0xMjM0NTY="

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

# Org settings (not providers): messaging, payments, the custom webhook source.
ORG_SECRETS: tuple[DemoSecret, ...] = (
    DemoSecret("custom", lambda base_url: {"sources": {CUSTOM_SOURCE: {"webhook_secret": CUSTOM_WEBHOOK_SECRET}}}),
    DemoSecret("messaging", lambda base_url: {"email_from": EMAIL_FROM}),
    DemoSecret(
        "messaging",
        lambda base_url: {
            "whatsapp_provider": "whatsapp_cloud",
            "whatsapp_fallback_template": FALLBACK_TEMPLATE,
            "email_from": EMAIL_FROM,
        },
        org_id=DEMO_CLOUD_ORG_ID,
    ),
    DemoSecret("payments", lambda base_url: DEMO_PAYMENTS),
)


def demo_secrets() -> list[DemoSecret]:
    """Every demo secret: the orgs' own and each sandbox module's ``DEMO_SECRETS``."""
    from localcloud.sandboxes import sandbox_modules  # sandboxes import this module's constants

    found = list(ORG_SECRETS)
    for module in sandbox_modules():
        found.extend(getattr(module, "DEMO_SECRETS", ()))
    return found


def demo_secret_values(sandbox_url: str, org_id: str = DEMO_ORG_ID) -> dict[str, dict[str, Any]]:
    """provider -> secret JSON of one demo org, with base URLs pointing at ``sandbox_url``."""
    root = sandbox_url.rstrip("/")
    return {s.provider: s.build(f"{root}/{s.provider}") for s in demo_secrets() if s.org_id == org_id}
