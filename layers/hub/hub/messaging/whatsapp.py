"""WhatsApp sends (text, media, template) through the org's channel: Evolution API or Cloud API.

Every send: validate → E.164 → consent → (Cloud API) the 24-hour customer-service window
→ the provider → a record in the messages table (what ``MessageStatus`` answers and status
webhooks update).

The window (https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-messages#customer-service-windows):
free-form messages only within 24 h of the contact's last inbound message (recorded by the
inbound-events consumer from Meta's and Evolution's webhooks); outside it only templates.
Outside the window a text is sent as the org's fallback template when one is configured
(and the caller allows it), and refused with an InvalidRequestError naming the rule
otherwise. Evolution API drives a WhatsApp Web session, to which Meta's window does not
apply, so it is not enforced there.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub.credentials import validate_org_id
from hub.errors import InvalidRequestError
from hub.messaging import contacts, records
from hub.messaging.media import StoredObject, presigned_url
from hub.messaging.records import MessageSent, SendContext
from hub.messaging.settings import MessagingSettings, messaging_settings, whatsapp_provider_for
from hub.phones import MAX_PHONE_INPUT, to_e164
from hub.providers import ports
from hub.providers.outbound import MediaMessage, MediaType, SentMessage, WhatsAppTemplate
from hub.requests import DEFAULT_MAX_STRING, IdempotencyKey, OperationRequest, OrgId
from hub.urls import PublicHttpsUrl


class _WhatsAppRequest(OperationRequest):
    model_config = ConfigDict(str_strip_whitespace=True)

    org_id: OrgId
    to: str = Field(
        min_length=3, max_length=MAX_PHONE_INPUT, description="phone number; national BR numbers are accepted"
    )
    idempotency_key: IdempotencyKey | None = None


class SendTextRequest(_WhatsAppRequest):
    text: str = Field(min_length=1, max_length=4096)
    delay_ms: int | None = Field(None, ge=0, le=60_000, description="Evolution only: typing delay")
    preview_url: bool = False
    use_fallback_template: bool = Field(True, description="outside the 24 h window, send the org's template")
    contact_name: str | None = Field(None, max_length=100, description="fills {name} in the fallback template")


class MediaSource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=DEFAULT_MAX_STRING)

    # The provider downloads it from its own network: public https only (hub.urls). Files of
    # our own go as bucket + key and are presigned by the hub, never checked as caller URLs.
    url: PublicHttpsUrl | None = None
    bucket: str | None = Field(None, max_length=63)
    key: str | None = Field(None, max_length=1024)

    @model_validator(mode="after")
    def _one_source(self) -> MediaSource:
        if (self.url is None) == (self.bucket is None or self.key is None):
            raise ValueError("give either url, or bucket and key (an object in one of our buckets)")
        return self


class SendMediaRequest(_WhatsAppRequest):
    media_type: MediaType
    media: MediaSource
    caption: str | None = Field(None, max_length=1024)
    filename: str | None = Field(None, max_length=240)
    mimetype: str | None = Field(None, max_length=100)


class SendTemplateRequest(_WhatsAppRequest):
    template: WhatsAppTemplate


# ----- the channel ---------------------------------------------------------------------------


def _client(org_id: str, settings: MessagingSettings) -> ports.WhatsAppSender:
    provider = whatsapp_provider_for(org_id, settings)
    return ports.whatsapp_sender(org_id, provider)


def _prepare(request: _WhatsAppRequest) -> tuple[str, MessagingSettings, contacts.ChannelState]:
    validate_org_id(request.org_id)
    to = to_e164(request.to, field="to")
    settings = messaging_settings(request.org_id)
    state = contacts.ensure_can_send(request.org_id, "whatsapp", to, require_opt_in=settings.require_opt_in)
    return to, settings, state


def _outside_window(state: contacts.ChannelState, provider: str) -> InvalidRequestError:
    last = state.last_inbound_at.isoformat() if state.last_inbound_at else "never"
    return InvalidRequestError(
        "outside WhatsApp's 24-hour customer-service window (the contact's last message: "
        f"{last}): the Cloud API only delivers approved templates now; send WhatsAppSendTemplate "
        "or configure whatsapp_fallback_template in the org's messaging settings",
        provider=provider,
        code="outside_service_window",
    )


def _record(
    org_id: str, sent: SentMessage, context: SendContext | None, *, via_template: str | None = None
) -> MessageSent:
    records.record_sent(
        org_id,
        sent.message_id,
        channel="whatsapp",
        provider=sent.provider,
        to=sent.to,
        via_template=via_template,
        context=context,
    )
    return MessageSent(
        provider=sent.provider, message_id=sent.message_id, to=sent.to, status=sent.status, via_template=via_template
    )


def _fallback_template(settings: MessagingSettings, request: SendTextRequest) -> WhatsAppTemplate | None:
    configured = settings.whatsapp_fallback_template
    if configured is None or not request.use_fallback_template:
        return None
    values: dict[str, Any] = {"name": request.contact_name or "cliente", "text": " ".join(request.text.split())}
    try:
        parameters = [p.format(**values)[:1024] for p in configured.body_parameters]
        return WhatsAppTemplate(name=configured.name, language=configured.language, body_parameters=parameters)
    except (KeyError, ValueError) as exc:
        raise InvalidRequestError(
            f"the org's whatsapp_fallback_template cannot be filled: {exc}", code="invalid_fallback_template"
        ) from None


def send_text(request: SendTextRequest, context: SendContext | None = None) -> MessageSent:
    to, settings, state = _prepare(request)
    client = _client(request.org_id, settings)
    if client.enforces_service_window and not state.within_service_window():
        template = _fallback_template(settings, request)
        if template is None:
            raise _outside_window(state, client.provider)
        sent = client.send_template(to, template)
        return _record(request.org_id, sent, context, via_template=template.name)
    sent = client.send_text(to, request.text, delay_ms=request.delay_ms, preview_url=request.preview_url)
    return _record(request.org_id, sent, context)


def send_media(request: SendMediaRequest, context: SendContext | None = None) -> MessageSent:
    to, settings, state = _prepare(request)
    if request.media.url is not None:
        url = request.media.url
        filename = request.filename
    else:
        assert request.media.bucket is not None and request.media.key is not None
        stored = StoredObject(bucket=request.media.bucket, key=request.media.key)
        url = presigned_url(request.org_id, stored, field="media")
        filename = request.filename or stored.filename
    if request.media_type == "audio" and request.caption:
        raise InvalidRequestError("audio messages cannot carry a caption", code="validation_error")
    media = MediaMessage(
        media_type=request.media_type,
        url=url,
        mimetype=request.mimetype,
        filename=filename if request.media_type == "document" else None,
        caption=request.caption,
    )
    client = _client(request.org_id, settings)
    if client.enforces_service_window and not state.within_service_window():
        raise _outside_window(state, client.provider)
    return _record(request.org_id, client.send_media(to, media), context)


def send_template(request: SendTemplateRequest, context: SendContext | None = None) -> MessageSent:
    to, settings, _ = _prepare(request)
    client = _client(request.org_id, settings)
    sent = client.send_template(to, request.template)
    return _record(request.org_id, sent, context, via_template=request.template.name)
