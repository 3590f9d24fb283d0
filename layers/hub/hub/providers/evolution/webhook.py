"""Evolution: the inbound webhook (verify and normalise); the client is in ``client.py``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.errors import InvalidRequestError
from hub.events import HubEvent, InboundMessage, MessageStatusData
from hub.phones import to_e164
from hub.providers.base.webhook import matches_any, rotating_secrets
from hub.providers.evolution.client import WHATSAPP_JID_SUFFIX, EvolutionClient, EvolutionCredentials
from hub.resilience.ratelimit import DAY
from hub.webhooks.models import RawWebhook, WebhookAuthenticationError, WebhookSpec

# ----- inbound webhook -------------------------------------------------------------------


def verify_evolution_webhook(request: RawWebhook, secret: dict[str, Any]) -> None:
    """Authorization: Bearer <webhook_token>, compared in constant time against the
    current and (during rotation) the previous token."""
    creds = EvolutionClient.parse_credentials(secret)
    assert isinstance(creds, EvolutionCredentials)
    expected = rotating_secrets(creds, "webhook_token", "previous_webhook_token")
    if not expected:
        raise WebhookAuthenticationError("no webhook_token is configured for this org", provider="evolution")
    header = request.header("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise WebhookAuthenticationError("missing bearer token", provider="evolution")
    if not matches_any(token, expected):
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
    date_time: str | None = None


_HubStatus = Literal["queued", "sent", "delivered", "read", "failed"]
# Baileys' numeric statuses as Evolution names them (whatsapp.baileys.service.ts).
_BAILEYS_STATUS_NAMES = {0: "ERROR", 1: "PENDING", 2: "SERVER_ACK", 3: "DELIVERY_ACK", 4: "READ", 5: "PLAYED"}
# Evolution status → hub status. SENT/DELIVERED/FAILED come from official-API instances
# (Meta's statuses upper-cased). DELETED and anything unknown produce no event.
_EVOLUTION_STATUSES: dict[str, _HubStatus] = {
    "ERROR": "failed",
    "FAILED": "failed",
    "PENDING": "queued",
    "SERVER_ACK": "sent",
    "SENT": "sent",
    "DELIVERY_ACK": "delivered",
    "DELIVERED": "delivered",
    "READ": "read",
    "PLAYED": "read",
}


class _EvolutionStatusKey(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    remoteJid: str | None = None
    fromMe: bool | None = None


class _EvolutionStatusUpdate(BaseModel):
    """One messages.update item: v2 ``{keyId, remoteJid, fromMe, status}`` (``messageId`` is
    Evolution's database id, not WhatsApp's), early v2 ``{id, remoteJid, fromMe, status}``, or
    Baileys' raw ``{key, update: {status}}``."""

    model_config = ConfigDict(extra="ignore")

    keyId: str | None = None
    id: str | None = None
    remoteJid: str | None = None
    remoteJidAlt: str | None = None
    fromMe: bool | None = None
    status: str | int | None = None
    key: _EvolutionStatusKey | None = None
    update: dict[str, Any] | None = None

    def message_id(self) -> str | None:
        return self.keyId or self.id or (self.key.id if self.key else None)

    def from_me(self) -> bool:
        if self.fromMe is not None:
            return self.fromMe
        return bool(self.key and self.key.fromMe)

    def hub_status(self) -> _HubStatus | None:
        raw: Any = self.status
        if raw is None and self.update is not None:
            raw = self.update.get("status")
        if isinstance(raw, int) or (isinstance(raw, str) and raw.isdigit()):
            raw = _BAILEYS_STATUS_NAMES.get(int(raw))
        return _EVOLUTION_STATUSES.get(str(raw).upper()) if raw is not None else None

    def recipient(self) -> str | None:
        for jid in (self.remoteJid, self.remoteJidAlt, self.key.remoteJid if self.key else None):
            if jid and jid.endswith(WHATSAPP_JID_SUFFIX):
                try:
                    return to_e164("+" + jid[: -len(WHATSAPP_JID_SUFFIX)], field="data.remoteJid")
                except InvalidRequestError:
                    return None
        return None  # @lid privacy ids, groups


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
    """``messages.upsert`` from a contact → ``message.received``; ``messages.update`` of our own
    messages → ``message.status``. Upserts of our own messages (``fromMe``), status updates of
    the contact's messages, groups and other event kinds are archived but produce no event."""
    envelope = _EvolutionEnvelope.model_validate(payload)
    event_name = envelope.event.lower().replace("_", ".")
    if event_name == "messages.update":
        return _status_events(envelope, org_id=org_id, received_at=received_at, raw_ref=raw_ref)
    if event_name != "messages.upsert":
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


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _status_events(envelope: _EvolutionEnvelope, *, org_id: str, received_at: datetime, raw_ref: str) -> list[HubEvent]:
    items = envelope.data if isinstance(envelope.data, list) else [envelope.data]
    occurred_at = _parse_time(envelope.date_time) or received_at
    events: list[HubEvent] = []
    for item in items:
        update = _EvolutionStatusUpdate.model_validate(item or {})
        message_id = update.message_id()
        status = update.hub_status()
        if not update.from_me() or not message_id or status is None:
            continue  # the contact's messages being read by us, deletions, unknown statuses
        data = MessageStatusData(channel="whatsapp", message_id=message_id, status=status, recipient=update.recipient())
        events.append(
            HubEvent.build(
                org_id=org_id,
                provider="evolution",
                type="message.status",
                # READ then PLAYED (voice notes) are both "read": one event per hub transition.
                dedupe_key=f"{message_id}:{status}",
                occurred_at=occurred_at,
                received_at=received_at,
                data=data,
                raw_ref=raw_ref,
            )
        )
    return events


# The dedupe window is at least the provider's documented retry window.
# Evolution puts the instance's API key in every webhook body ({event, instance, data,
# destination, date_time, sender, server_url, apikey}: EvolutionAPI/evolution-api
# src/api/integrations/event/webhook/webhook.controller.ts, sendData). Bodies are not signed
# (a bearer token authenticates them), so nothing is lost by redacting.
WEBHOOK = WebhookSpec(
    "evolution",
    verify_evolution_webhook,
    normalise_evolution_webhook,
    7 * DAY,
    archive_redact=("apikey",),
)
