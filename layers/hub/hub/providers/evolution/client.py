"""Evolution API v2 (self-hosted WhatsApp gateway): outbound adapter and inbound webhook.

The provider's API facts this module relies on, with their doc links: README.md.
"""

from __future__ import annotations

import mimetypes
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from aws_lambda_powertools.shared.lazy_import import LazyLoader
from pydantic import Field, SecretStr

from hub.errors import HubError, InvalidRequestError, ProviderUnavailableError
from hub.phones import e164_digits
from hub.providers.base.client import ProviderClient, ProviderCredentials
from hub.providers.base.webhook import WebhookRegistration, webhook_target, without_secret
from hub.providers.meta.whatsapp_cloud import meta_error_to_hub
from hub.providers.outbound import MediaMessage, SentMessage, WhatsAppTemplate

if TYPE_CHECKING:
    import httpx
else:  # imported on first use, not at init (cold start): a webhook receiver never calls out
    httpx = LazyLoader("httpx", globals(), "httpx")

WHATSAPP_JID_SUFFIX = "@s.whatsapp.net"
# Evolution's answer when the instance's integration lacks an endpoint (Baileys: sendTemplate).
METHOD_NOT_AVAILABLE = "method not available"
TEMPLATES_NOT_SUPPORTED = "templates_not_supported"
# How many of the chat's newest messages a lookup of a lost send reads.
FIND_MESSAGES_PAGE_SIZE = 50
# messageTimestamp has a resolution of seconds; the provider's clock may lag ours a little.
CLOCK_SLACK_SECONDS = 5
# A text is stored as a plain conversation, or as extendedTextMessage when it carries a preview.
TEXT_TYPES = ("conversation", "extendedTextMessage")
# The events the hub's receiver turns into hub events (webhook.py): inbound messages and the
# delivery states of ours. Names from EventController.events (evolution-api
# src/api/integrations/event/event.controller.ts), the enum webhookSchema validates against.
WEBHOOK_EVENTS = ("MESSAGES_UPSERT", "MESSAGES_UPDATE")


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
    credentials_model: ClassVar[type[ProviderCredentials]] = EvolutionCredentials
    # Evolution API takes no idempotency header; a send whose answer was lost is looked up
    # with findMessages before it is ever sent again (ProviderClient.effect).
    idempotency_header: ClassVar[str | None] = None
    writes_have_effects: ClassVar[bool] = True
    # A WhatsApp Web session: Meta's 24-hour customer-service window does not apply to it.
    enforces_service_window: ClassVar[bool] = False

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
        # "Method not available ..." (400 on the Evolution channel, 500 from Baileys' plain
        # Error): the instance's integration lacks the endpoint. Retrying cannot help.
        if error is not None and METHOD_NOT_AVAILABLE in error.message.lower():
            return error.recast(InvalidRequestError, code="method_not_available")
        return error

    def _sent(self, response: httpx.Response, to_e164: str) -> SentMessage:
        """The message Evolution stored (``{"key": {"id"}, "status"}``) as a SentMessage."""
        payload = response.json()
        if not isinstance(payload, dict):
            payload = {}
        key = payload.get("key") or {}
        message_id = key.get("id") if isinstance(key, dict) else None
        if not message_id:
            # The official-API channel relays Meta's refusal as the 2xx body itself.
            if isinstance(payload.get("code"), int):
                raise meta_error_to_hub(self.provider, payload, http_status=response.status_code)
            raise ProviderUnavailableError(
                "evolution accepted the message but returned no message id", provider=self.provider
            )
        return SentMessage(provider=self.provider, message_id=message_id, to=to_e164, status=payload.get("status"))

    def find_sent(
        self, to_e164: str, since: datetime, message_types: tuple[str, ...], content: str | None
    ) -> SentMessage | None:
        """The message we sent to ``to_e164`` at or after ``since`` with this type and text or
        caption, from the chat's newest messages (None when there is none)."""
        jid = f"{e164_digits(to_e164)}{WHATSAPP_JID_SUFFIX}"
        body = {"where": {"key": {"remoteJid": jid}}, "page": 1, "offset": FIND_MESSAGES_PAGE_SIZE}
        response = self.request(
            "POST", f"/chat/findMessages/{self.credentials.instance}", json=body, operation="lookup", effect=False
        )
        payload = response.json()
        messages = payload.get("messages") if isinstance(payload, dict) else None
        records = messages.get("records") if isinstance(messages, dict) else None
        earliest = since.timestamp() - CLOCK_SLACK_SECONDS
        for record in records if isinstance(records, list) else []:
            if not isinstance(record, dict) or record.get("messageType") not in message_types:
                continue
            key = record.get("key") or {}
            stamp = record.get("messageTimestamp")
            if not isinstance(key, dict) or key.get("fromMe") is not True or not key.get("id"):
                continue
            if key.get("remoteJid") != jid or not isinstance(stamp, int | str) or int(stamp) < earliest:
                continue
            if content is not None and _content_of(record.get("message")) != content:
                continue
            return SentMessage(
                provider=self.provider, message_id=str(key["id"]), to=to_e164, status=record.get("status")
            )
        return None

    def send_text(
        self, to_e164: str, text: str, *, delay_ms: int | None = None, preview_url: bool = False
    ) -> SentMessage:
        """POST /message/sendText/{instance} with the v2 flat body; answers 201. ``delay_ms``: the
        typing delay; ``preview_url`` is the Cloud API's and has no v2 field here (ignored)."""
        body: dict[str, Any] = {"number": e164_digits(to_e164), "text": text}
        if delay_ms is not None:
            body["delay"] = delay_ms

        def send() -> SentMessage:
            path = f"/message/sendText/{self.credentials.instance}"
            return self._sent(self.request("POST", path, json=body, operation="send"), to_e164)

        return self.effect(send, find=lambda since: self.find_sent(to_e164, since, TEXT_TYPES, text))

    def send_media(self, to_e164: str, media: MediaMessage) -> SentMessage:
        """Image/video/document: POST /message/sendMedia/{instance}; audio (a voice note):
        POST /message/sendWhatsAppAudio/{instance}. Both answer 201."""
        number = e164_digits(to_e164)
        instance = self.credentials.instance
        if media.media_type == "audio":
            # https://doc.evolution-api.com/v2/api-reference/message-controller/send-audio
            if media.caption:
                raise InvalidRequestError(
                    "WhatsApp audio messages cannot carry a caption; send the text separately",
                    provider=self.provider,
                    code="caption_not_supported",
                )
            body: dict[str, Any] = {"number": number, "audio": media.url}
            return self.effect(
                lambda: self._sent(
                    self.request("POST", f"/message/sendWhatsAppAudio/{instance}", json=body, operation="send"),
                    to_e164,
                ),
                find=lambda since: self.find_sent(to_e164, since, ("audioMessage",), None),
            )
        # https://doc.evolution-api.com/v2/api-reference/message-controller/send-media
        body = {"number": number, "mediatype": media.media_type, "media": media.url}
        filename = media.filename or _filename_from_url(media.url)
        mimetype = media.mimetype or mimetypes.guess_type(filename or "")[0]
        if mimetype:
            body["mimetype"] = mimetype
        if media.caption:
            body["caption"] = media.caption
        if filename:
            body["fileName"] = filename
        return self.effect(
            lambda: self._sent(
                self.request("POST", f"/message/sendMedia/{instance}", json=body, operation="send"), to_e164
            ),
            find=lambda since: self.find_sent(to_e164, since, (f"{media.media_type}Message",), media.caption or ""),
        )

    def send_template(self, to_e164: str, template: WhatsAppTemplate) -> SentMessage:
        """POST /message/sendTemplate/{instance} ``{"number", "name", "language", "components"}``
        (201). Only instances on the official WhatsApp Business API support templates."""
        body: dict[str, Any] = {
            "number": e164_digits(to_e164),
            "name": template.name,
            "language": template.language,
            "components": template.components(),
        }
        try:
            response = self.effect(
                lambda: self.request(
                    "POST", f"/message/sendTemplate/{self.credentials.instance}", json=body, operation="send"
                ),
                # No lookup: the official-API channel stores templates under Meta's own message shape.
            )
        except InvalidRequestError as exc:
            if exc.code != "method_not_available":
                raise
            raise InvalidRequestError(
                "this Evolution instance does not support template messages: only instances integrated "
                "with the official WhatsApp Business API (WHATSAPP-BUSINESS) can send templates",
                provider=self.provider,
                http_status=exc.http_status,
                code=TEMPLATES_NOT_SUPPORTED,
            ) from None
        return self._sent(response, to_e164)

    # https://doc.evolution-api.com/v2/api-reference/webhook/set ; the body's shape is the
    # server's webhookSchema (evolution-api src/api/integrations/event/webhook/webhook.schema.ts:
    # ``{"webhook": {"enabled", "url", "headers", "byEvents", "base64", "events"}}``, enabled and
    # url required) and WebhookController.set upserts one webhook per instance.
    def register_webhook(self, url: str, secret: str, *, existing_id: str | None = None) -> WebhookRegistration:
        """``POST /webhook/set/{instance}`` pointing the instance's webhook at ``url``, with
        ``Authorization: Bearer <secret>`` among the custom ``headers`` Evolution sends with every
        delivery (WebhookController.emit) — what :func:`verify_evolution_webhook` checks as
        ``webhook_token``. Evolution keeps one webhook per instance and the call replaces it, so
        ``existing_id`` changes nothing and a retry is harmless (sent under the retry policy)."""
        webhook_target(url, provider=self.provider)
        if not secret or any(ch.isspace() for ch in secret):
            raise InvalidRequestError("secret: a webhook token without spaces is required", provider=self.provider)
        body = {
            "webhook": {
                "enabled": True,
                "url": url,
                "headers": {"Authorization": f"Bearer {secret}"},
                "byEvents": False,
                "base64": False,
                "events": list(WEBHOOK_EVENTS),
            }
        }
        try:
            path = f"/webhook/set/{self.credentials.instance}"
            response = self.request("POST", path, json=body, operation="register_webhook", effect=False)
        except HubError as exc:
            raise without_secret(exc, secret) from None
        payload = self.json_object(response)
        # The stored record (prisma Webhook: id, url, headers, enabled, events, …); some v2
        # releases wrap it as {"webhook": {...}}.
        record = payload.get("webhook") if isinstance(payload.get("webhook"), dict) else payload
        webhook_id = record.get("id") if isinstance(record, dict) else None
        return WebhookRegistration(
            provider_webhook_id=str(webhook_id) if webhook_id else existing_id,
            secret_fields={"webhook_token": secret},
            events=WEBHOOK_EVENTS,
        )

    def health_check(self) -> None:
        """GET /instance/connectionState/{instance}: healthy only when the session is open."""
        response = self.request("GET", f"/instance/connectionState/{self.credentials.instance}", timeout=5.0)
        state = ((response.json() or {}).get("instance") or {}).get("state")
        if state != "open":
            raise ProviderUnavailableError(
                f"evolution instance is not connected (state={state})", provider=self.provider
            )


def _content_of(message: Any) -> str | None:
    """The text or caption of a stored Baileys message (conversation, extendedTextMessage.text,
    <media>Message.caption)."""
    if not isinstance(message, dict):
        return None
    if isinstance(message.get("conversation"), str):
        return str(message["conversation"])
    for value in message.values():
        if isinstance(value, dict):
            for field in ("text", "caption"):
                if isinstance(value.get(field), str):
                    return str(value[field])
            return ""
    return None


def _filename_from_url(url: str) -> str | None:
    name = httpx.URL(url).path.rsplit("/", 1)[-1]
    return name or None
