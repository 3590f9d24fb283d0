"""WhatsApp Cloud API (Meta): outbound text, media and template messages.

The provider's API facts this module relies on, with their doc links: README.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from aws_lambda_powertools.shared.lazy_import import LazyLoader
from pydantic import Field, SecretStr

from hub.errors import (
    HubError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.phones import e164_digits
from hub.providers.base.client import ProviderCredentials, parse_retry_after
from hub.providers.meta.graph import GraphApiClient, classify_graph_error
from hub.providers.outbound import MediaMessage, SentMessage, WhatsAppTemplate
from hub.usage.meter import Billing

if TYPE_CHECKING:
    import httpx
else:  # imported on first use, not at init (cold start): a webhook receiver never calls out
    httpx = LazyLoader("httpx", globals(), "httpx")

PROVIDER = "whatsapp_cloud"
# https://developers.facebook.com/docs/graph-api/changelog (newest listed version)
DEFAULT_GRAPH_VERSION = "v26.0"

# https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes
REENGAGEMENT_CODE = 131047  # free-form message outside the 24-hour customer service window
UNDELIVERABLE_CODE = 131026
MEDIA_UPLOAD_CODE = 131053
PAYMENT_ISSUE_CODE = 131042  # "Business eligibility payment issue"
# 132000 param count mismatch, 132001 template does not exist (name/language), 132005 hydrated
# text too long, 132007 format character policy, 132012 parameter format mismatch, 132015
# template paused, 132016 template disabled, 132018 parameter formatting (newlines/tabs/spaces).
TEMPLATE_CODES = frozenset({132000, 132001, 132005, 132007, 132012, 132015, 132016, 132018})
# Decision on 131042: the token is valid; the WhatsApp Business Account cannot pay (no payment
# method, credit line exceeded). Not an AuthenticationError (that would disable the integration
# and tell the org to fix credentials); like Anthropic's/OpenAI's billing errors here, it is a
# RateLimitedError with a long wait: no retry inside this invocation, the caller retries later
# or falls back to another provider while someone fixes billing in WhatsApp Manager.
PAYMENT_RETRY_AFTER_SECONDS = 3600.0

_HINTS: dict[int, str] = {
    REENGAGEMENT_CODE: (
        "the 24-hour customer service window is closed: more than 24 hours have passed since the "
        "contact last wrote, so only an approved template message can be sent"
    ),
    UNDELIVERABLE_CODE: (
        "the message is undeliverable (the number may not be on WhatsApp, or the recipient has not "
        "accepted the current terms or uses an old app version)"
    ),
    MEDIA_UPLOAD_CODE: "WhatsApp could not fetch or accept the media (check the URL, its type and size)",
    PAYMENT_ISSUE_CODE: "the WhatsApp Business Account has a payment issue; fix billing in WhatsApp Manager",
}
_TEMPLATE_HINT = "template rejected (check the template name, language and its parameters)"


class WhatsAppCloudCredentials(ProviderCredentials):
    access_token: SecretStr
    phone_number_id: str = Field(min_length=1, pattern=r"^[0-9]+$")
    waba_id: str | None = Field(None, pattern=r"^[0-9]+$")
    graph_version: str | None = Field(None, pattern=r"^v[0-9]+\.[0-9]+$")


def _meta_error(body: Any) -> dict[str, Any] | None:
    """The inner Graph ``error`` object, when the body is one."""
    if isinstance(body, dict):
        inner = body.get("error")
        if isinstance(inner, dict) and isinstance(inner.get("code"), int):
            return inner
    return None


def meta_error_to_hub(
    provider: str,
    error: dict[str, Any],
    *,
    http_status: int,
    headers: httpx.Headers | None = None,
    retry_after: float | None = None,
) -> HubError:
    """Map one Graph ``error`` object (``{"message","type","code","error_data"?,"fbtrace_id"}``)
    to the taxonomy, with the WhatsApp-specific codes named. Also used by the Evolution adapter,
    which relays the Cloud API's error object for instances on the official API."""
    # The response headers carry the usage Meta bases throttling waits on (X-Business-Use-Case-Usage).
    mapped = classify_graph_error(provider, httpx.Response(http_status, json={"error": error}, headers=headers))
    assert mapped is not None  # the error object carries an integer code
    code: int = error["code"]
    error_data = error.get("error_data")
    details = error_data.get("details") if isinstance(error_data, dict) else None
    hint = _HINTS.get(code) or (_TEMPLATE_HINT if code in TEMPLATE_CODES else None)
    parts = [mapped.message]
    if hint:
        parts.append(hint)
    if isinstance(details, str) and details:
        parts.append(f"details: {details[:200]}")
    message = "; ".join(parts)
    if code == PAYMENT_ISSUE_CODE:
        return mapped.recast(RateLimitedError, message, retry_after=PAYMENT_RETRY_AFTER_SECONDS)
    if isinstance(mapped, RateLimitedError):
        wait = retry_after if retry_after is not None else mapped.retry_after
        return mapped.recast(RateLimitedError, message, retry_after=wait)
    if code == REENGAGEMENT_CODE or code in TEMPLATE_CODES or code in (UNDELIVERABLE_CODE, MEDIA_UPLOAD_CODE):
        return mapped.recast(InvalidRequestError, message)
    return mapped.recast(type(mapped), message)


class WhatsAppCloudClient(GraphApiClient):
    provider: ClassVar[str] = PROVIDER
    credentials_model: ClassVar[type[ProviderCredentials]] = WhatsAppCloudCredentials
    graph_version: ClassVar[str] = DEFAULT_GRAPH_VERSION
    # The Cloud API documents no idempotency key and no way to list sent messages: a send whose
    # answer was lost stays an unknown outcome until a status webhook or the caller resolves it.
    idempotency_header: ClassVar[str | None] = None
    writes_have_effects: ClassVar[bool] = True
    # Free-form messages only within 24 h of the contact's last message; templates any time
    # (https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-messages#customer-service-windows).
    enforces_service_window: ClassVar[bool] = True

    credentials: WhatsAppCloudCredentials

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credentials.access_token.get_secret_value()}"}

    def account_scope(self) -> str:
        # Throughput and messaging limits are per business phone number.
        return self.credentials.phone_number_id

    def api_version(self) -> str:
        return self.credentials.graph_version or self.graph_version

    def classify_response(self, response: httpx.Response) -> HubError | None:
        # GraphApiClient.classify reads the usage headers of every answer, then calls this.
        if response.status_code < 400:
            return None
        try:
            error = _meta_error(response.json())
        except ValueError:
            error = None
        if error is None:
            return super().classify_response(response)
        retry_after = parse_retry_after(response.headers["retry-after"]) if "retry-after" in response.headers else None
        return meta_error_to_hub(
            self.provider, error, http_status=response.status_code, headers=response.headers, retry_after=retry_after
        )

    # ----- sending ------------------------------------------------------------------------
    def _send(self, to_e164: str, kind: str, content: dict[str, Any], *, tariff: str = "service") -> SentMessage:
        # https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
        body = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": e164_digits(to_e164),
            "type": kind,
            kind: content,
        }
        path = f"/{self.api_version()}/{self.credentials.phone_number_id}/messages"
        # Billed per delivered template by its category; non-template (service) messages are
        # free (https://developers.facebook.com/docs/whatsapp/pricing; hub.usage.prices).
        billing = Billing(1, tariff)
        response = self.effect(lambda: self.request("POST", path, json=body, operation="send", billing=billing))
        payload = response.json()
        messages = payload.get("messages") if isinstance(payload, dict) else None
        first = messages[0] if isinstance(messages, list) and messages and isinstance(messages[0], dict) else {}
        message_id = first.get("id")
        if not message_id:
            raise ProviderUnavailableError(
                "whatsapp_cloud accepted the message but returned no message id", provider=self.provider
            )
        return SentMessage(
            provider=self.provider,
            message_id=str(message_id),
            to=to_e164,
            status=first.get("message_status") or "accepted",
        )

    def send_text(
        self, to_e164: str, text: str, *, delay_ms: int | None = None, preview_url: bool = False
    ) -> SentMessage:
        """A free-form text message (only inside the 24-hour customer service window).
        ``delay_ms`` is Evolution's typing delay: the Cloud API has none (ignored)."""
        return self._send(to_e164, "text", {"body": text, "preview_url": preview_url})

    def send_media(self, to_e164: str, media: MediaMessage) -> SentMessage:
        """An image, video, audio or document by link (Meta downloads it)."""
        # https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-messages#media-messages
        if media.media_type == "audio" and media.caption:
            raise InvalidRequestError(
                "WhatsApp audio messages cannot carry a caption; send the text separately",
                provider=self.provider,
                code="caption_not_supported",
            )
        content: dict[str, Any] = {"link": media.url}
        if media.caption and media.media_type != "audio":
            content["caption"] = media.caption
        if media.filename and media.media_type == "document":
            content["filename"] = media.filename
        return self._send(to_e164, media.media_type, content)

    def send_template(self, to_e164: str, template: WhatsAppTemplate) -> SentMessage:
        """An approved template (the only kind allowed outside the 24-hour window)."""
        # https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates
        content: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
        components = template.components()
        if components:
            content["components"] = components
        # A template whose category the caller did not state is priced as marketing, the
        # highest rate: the report errs on the side of cost.
        return self._send(to_e164, "template", content, tariff=template.category or "marketing")

    def health_check(self) -> None:
        """GET the phone number node: 200 means the token can reach this number."""
        self.request(
            "GET",
            f"/{self.api_version()}/{self.credentials.phone_number_id}",
            params={"fields": "id,display_phone_number,verified_name,quality_rating"},
            timeout=5.0,
        )
