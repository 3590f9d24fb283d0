"""Evolution API v2 (self-hosted WhatsApp gateway): outbound adapter and inbound webhook.

Docs: https://doc.evolution-api.com/v2/api-reference (message/sendText,
instance/connectionState) and the webhook configuration page (custom ``headers`` sent
with every webhook call: we require ``Authorization: Bearer <webhook_token>``).

Secret ``hub/{org_id}/evolution``:
``{"base_url", "api_key", "instance", "webhook_token", "previous_webhook_token"?}``.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, Field, SecretStr

from hub.errors import HubError, InvalidRequestError, ProviderUnavailableError
from hub.events import HubEvent, InboundMessage
from hub.phones import e164_digits, to_e164
from hub.providers.base import ProviderClient, ProviderCredentials
from hub.providers.outbound import SentMessage
from hub.webhooks.models import RawWebhook, WebhookAuthenticationError

WHATSAPP_JID_SUFFIX = "@s.whatsapp.net"


class EvolutionCredentials(ProviderCredentials):
    base_url: str = Field(min_length=1)
    api_key: SecretStr
    instance: str = Field(min_length=1)
    webhook_token: SecretStr | None = None
    # Accepted too while a token rotation is in progress.
    previous_webhook_token: SecretStr | None = None


class EvolutionClient(ProviderClient):
    provider: ClassVar[str] = "evolution"
    # Self-hosted: there is no public default; the secret must carry base_url.
    default_base_url: ClassVar[str] = ""
    credentials_model: ClassVar[type[ProviderCredentials]] = EvolutionCredentials
    # Evolution API takes no idempotency header; callers dedupe before sending.
    idempotency_header: ClassVar[str | None] = None

    credentials: EvolutionCredentials

    def auth_headers(self) -> dict[str, str]:
        return {"apikey": self.credentials.api_key.get_secret_value()}

    def breaker_scope(self) -> str:
        # Self-hosted: each org runs its own server, so one org's outage must not trip
        # the breaker of the others.
        return f"{self.provider}#{httpx.URL(self.base_url).host}"

    def error_details(self, response: httpx.Response) -> tuple[str, str | None]:
        # Evolution errors: {"status": 400, "error": "Bad Request", "response": {"message": [...]}}
        try:
            body = response.json()
        except ValueError:
            return super().error_details(response)
        messages = (body.get("response") or {}).get("message") if isinstance(body, dict) else None
        if isinstance(messages, list):
            for item in messages:
                if isinstance(item, dict) and item.get("exists") is False:
                    return ("the number is not on WhatsApp", "number_not_on_whatsapp")
            return ("; ".join(str(m) for m in messages)[:300], None)
        if isinstance(messages, str):
            return (messages[:300], None)
        return super().error_details(response)

    def classify(self, response: httpx.Response) -> HubError | None:
        error = super().classify(response)
        # Evolution answers some send failures (e.g. a dropped session) with a 400 whose
        # message is "Connection Closed": the instance, not the request, is at fault.
        if isinstance(error, InvalidRequestError) and "connection closed" in error.message.lower():
            return ProviderUnavailableError(error.message, provider=self.provider, http_status=error.http_status)
        return error

    def send_text(self, to_e164: str, text: str, *, delay_ms: int | None = None) -> SentMessage:
        """POST /message/sendText/{instance} with the v2 flat body; answers 201."""
        body: dict[str, Any] = {"number": e164_digits(to_e164), "text": text}
        if delay_ms is not None:
            body["delay"] = delay_ms
        response = self.request("POST", f"/message/sendText/{self.credentials.instance}", json=body, operation="send")
        payload = response.json()
        key = payload.get("key") or {}
        message_id = key.get("id")
        if not message_id:
            raise ProviderUnavailableError(
                "evolution accepted the message but returned no message id", provider=self.provider
            )
        return SentMessage(provider=self.provider, message_id=message_id, to=to_e164, status=payload.get("status"))

    def health_check(self) -> None:
        """GET /instance/connectionState/{instance}: healthy only when the session is open."""
        response = self.request("GET", f"/instance/connectionState/{self.credentials.instance}", timeout=5.0)
        state = ((response.json() or {}).get("instance") or {}).get("state")
        if state != "open":
            raise ProviderUnavailableError(
                f"evolution instance is not connected (state={state})", provider=self.provider
            )


# ----- inbound webhook -------------------------------------------------------------------


def verify_evolution_webhook(request: RawWebhook, secret: dict[str, Any]) -> None:
    """Authorization: Bearer <webhook_token>, compared in constant time against the
    current and (during rotation) the previous token."""
    creds = EvolutionClient.parse_credentials(secret)
    assert isinstance(creds, EvolutionCredentials)
    expected = [t.get_secret_value() for t in (creds.webhook_token, creds.previous_webhook_token) if t]
    if not expected:
        raise WebhookAuthenticationError("no webhook_token is configured for this org", provider="evolution")
    header = request.header("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise WebhookAuthenticationError("missing bearer token", provider="evolution")
    matches = [hmac.compare_digest(token.encode(), candidate.encode()) for candidate in expected]
    if not any(matches):
        raise WebhookAuthenticationError("invalid webhook token", provider="evolution")


class _EvolutionKey(BaseModel):
    remoteJid: str
    fromMe: bool = False
    id: str = Field(min_length=1)
    remoteJidAlt: str | None = None


class _EvolutionMessageData(BaseModel):
    key: _EvolutionKey
    pushName: str | None = None
    message: dict[str, Any] | None = None
    messageType: str = "unknown"
    messageTimestamp: int | str | None = None


class _EvolutionEnvelope(BaseModel):
    event: str
    instance: str | None = None
    data: Any = None


def _text_of(message: dict[str, Any] | None) -> str | None:
    if not message:
        return None
    if isinstance(message.get("conversation"), str):
        return str(message["conversation"])
    for kind in ("extendedTextMessage", "imageMessage", "videoMessage", "documentMessage"):
        part = message.get(kind)
        if isinstance(part, dict):
            value = part.get("text") or part.get("caption")
            if isinstance(value, str):
                return value
    return None


def _sender_phone(key: _EvolutionKey) -> str | None:
    for jid in (key.remoteJid, key.remoteJidAlt):
        if jid and jid.endswith(WHATSAPP_JID_SUFFIX):
            return to_e164("+" + jid[: -len(WHATSAPP_JID_SUFFIX)], field="data.key.remoteJid")
    return None  # groups (@g.us), broadcasts, privacy ids without a phone


def normalise_evolution_webhook(
    payload: Any, *, org_id: str, received_at: datetime, raw_ref: str, request: RawWebhook | None = None
) -> list[HubEvent]:
    """``messages.upsert`` from a contact → ``message.received``. Our own messages
    (``fromMe``), groups and other event kinds are archived but produce no event."""
    envelope = _EvolutionEnvelope.model_validate(payload)
    if envelope.event.lower().replace("_", ".") != "messages.upsert":
        return []
    items = envelope.data if isinstance(envelope.data, list) else [envelope.data]
    events: list[HubEvent] = []
    for item in items:
        data = _EvolutionMessageData.model_validate(item)
        if data.key.fromMe:
            continue
        phone = _sender_phone(data.key)
        if phone is None:
            continue
        occurred_at = received_at
        if data.messageTimestamp is not None and str(data.messageTimestamp).isdigit():
            occurred_at = datetime.fromtimestamp(int(data.messageTimestamp), tz=UTC)
        message = InboundMessage(
            channel="whatsapp",
            message_id=data.key.id,
            from_address=phone,
            from_name=data.pushName,
            message_type=data.messageType,
            text=_text_of(data.message),
            instance=envelope.instance,
        )
        events.append(
            HubEvent.build(
                org_id=org_id,
                provider="evolution",
                type="message.received",
                dedupe_key=data.key.id,
                occurred_at=occurred_at,
                received_at=received_at,
                data=message,
                raw_ref=raw_ref,
            )
        )
    return events
