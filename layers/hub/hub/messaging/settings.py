"""An org's messaging settings: secret ``{prefix}/{org_id}/messaging`` (optional).

```json
{"whatsapp_provider": "evolution" | "whatsapp_cloud",
 "whatsapp_fallback_template": {"name": "retomar_conversa", "language": "pt_BR",
                                "body_parameters": ["{name}"]},
 "email_from": "Somos Produtora <contato@somosprodutora.com.br>",
 "email_reply_to": "atendimento@somosprodutora.com.br",
 "require_opt_in": false}
```

Without the secret: WhatsApp goes through whichever of Evolution API / Cloud API the org
has credentials for (Evolution first: self-hosted, no per-conversation cost), there is no
fallback template, email needs an explicit ``from`` and consent is opt-out based.
It lives in Secrets Manager with the org's other provider settings: one place, cached,
per stage.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.credentials import get_provider_secret, org_settings
from hub.errors import AuthenticationError
from hub.providers.outbound import TEMPLATE_LANGUAGE, TEMPLATE_NAME

WhatsAppProvider = Literal["evolution", "whatsapp_cloud"]


class FallbackTemplate(BaseModel):
    """The approved template sent instead of free text outside the 24-hour window.
    Body parameters may use ``{name}`` (the contact's name, or "cliente") and ``{text}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=TEMPLATE_NAME.pattern)
    language: str = Field(pattern=TEMPLATE_LANGUAGE.pattern)
    body_parameters: list[str] = Field(default_factory=list)


class MessagingSettings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    whatsapp_provider: WhatsAppProvider | None = None
    whatsapp_fallback_template: FallbackTemplate | None = None
    email_from: str | None = None
    email_reply_to: str | None = None
    require_opt_in: bool = False


def messaging_settings(org_id: str) -> MessagingSettings:
    return org_settings(org_id, "messaging", MessagingSettings)


def has_credentials(org_id: str, provider: str) -> bool:
    try:
        get_provider_secret(org_id, provider)
    except AuthenticationError:
        return False
    return True


def whatsapp_provider_for(org_id: str, settings: MessagingSettings) -> WhatsAppProvider:
    if settings.whatsapp_provider is not None:
        return settings.whatsapp_provider
    if has_credentials(org_id, "evolution"):
        return "evolution"
    if has_credentials(org_id, "whatsapp_cloud"):
        return "whatsapp_cloud"
    raise AuthenticationError(
        "no WhatsApp credentials configured for this org (evolution or whatsapp_cloud)",
        provider="whatsapp",
        code="credentials_missing",
    )
