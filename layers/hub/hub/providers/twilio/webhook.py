"""Twilio: the inbound webhook (verify and normalise); the client is in ``client.py``."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from hub.config import get_settings
from hub.errors import (
    InvalidRequestError,
)
from hub.events import HubEvent, InboundMessage, MessageStatusData
from hub.phones import to_e164
from hub.providers.base.webhook import matches_any, rotating_secrets
from hub.providers.twilio.client import (
    SIGNATURE_HEADER,
    STATUS_MAP,
    TWIML_EMPTY_RESPONSE,
    TwilioClient,
    TwilioCredentials,
    twilio_error_text,
)
from hub.resilience.ratelimit import DAY
from hub.webhooks.models import RawWebhook, WebhookAuthenticationError, WebhookSpec

# ----- webhooks ---------------------------------------------------------------------------

_MAX_FORM_FIELDS = 1000


def _form_pairs(body: bytes) -> list[tuple[str, str]]:
    text = body.decode("utf-8")  # strict: UnicodeDecodeError is a ValueError
    return parse_qsl(
        text,
        keep_blank_values=True,
        strict_parsing=True,
        encoding="utf-8",
        errors="strict",
        max_num_fields=_MAX_FORM_FIELDS,
    )


def parse_twilio_form(body: bytes) -> dict[str, str]:
    """Twilio's ``application/x-www-form-urlencoded`` body as a dict (a repeated key keeps
    its first value). Raises ValueError on anything that is not a well-formed UTF-8 form."""
    result: dict[str, str] = {}
    for key, value in _form_pairs(body):
        result.setdefault(key, value)
    return result


def compute_twilio_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]] | Mapping[str, str]) -> str:
    """base64(HMAC-SHA1(auth_token, url + name1 + value1 + name2 + value2 …)), parameter names
    sorted (code-point order, case-sensitive); a repeated name contributes each of its distinct
    values once, sorted. https://www.twilio.com/docs/usage/webhooks/webhooks-security and
    twilio-python's RequestValidator.compute_signature (twilio/request_validator.py:
    ``for param_name in sorted(set(params))`` … ``for value in sorted(set(values))``)."""
    pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
    grouped: dict[str, set[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, set()).add(value)
    data = url + "".join(name + value for name in sorted(grouped) for value in sorted(grouped[name]))
    digest = hmac.new(auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _url_variants(url: str) -> list[str]:
    """The URL without and with the scheme's default port: Twilio's SDK validators accept
    either because Twilio's own signing is inconsistent about it (twilio-python
    RequestValidator.validate: add_port/remove_port)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return [url]
    userinfo, at, hostport = parts.netloc.rpartition("@")
    host = hostport.rsplit(":", 1)[0] if port is not None else hostport
    default_port = 443 if parts.scheme == "https" else 80
    without = urlunsplit(parts._replace(netloc=f"{userinfo}{at}{host}"))
    with_port = urlunsplit(parts._replace(netloc=f"{userinfo}{at}{host}:{port or default_port}"))
    return list(dict.fromkeys([url, without, with_port]))


# RFC 3986 lets these stand unescaped in a query value; a URL configured at Twilio with them
# raw is signed raw.
_QUERY_SAFE = "/:@!$'()*,;"


def _query_strings(request: RawWebhook) -> list[str]:
    """The query string Twilio signed: the raw one when the event carries it (byte for byte);
    else API Gateway's REST events give only decoded parameters, so every value of every
    parameter, in the order received, encoded the ways a URL configured at Twilio is written
    (form encoding with ``+``, RFC 3986 ``%20``, and only what must be escaped)."""
    if request.raw_query is not None:
        return [request.raw_query]
    pairs = request.all_query_pairs()
    if not pairs:
        return [""]
    return list(
        dict.fromkeys(
            [
                urlencode(pairs),
                urlencode(pairs, quote_via=quote),
                urlencode(pairs, quote_via=quote, safe=_QUERY_SAFE),
            ]
        )
    )


def twilio_signed_urls(request: RawWebhook, creds: TwilioCredentials) -> list[str]:
    """The URLs Twilio may have signed: the configured public base URL + the request path
    (+ query), else PUBLIC_API_URL + path, else the URL rebuilt from API Gateway's view of the
    request; each with the query as received and with and without the default port."""
    base = creds.webhook_base_url or get_settings().public_api_url
    urls: list[str] = []
    if base:
        stem = base.rstrip("/") + request.path
    elif request.url:
        stem = request.url.split("?", 1)[0]
        urls.append(request.url)
    else:
        return []
    urls += [stem + ("?" + query if query else "") for query in _query_strings(request)]
    return list(dict.fromkeys(variant for url in urls for variant in _url_variants(url)))


def verify_twilio_webhook(request: RawWebhook, secret: dict[str, Any]) -> None:
    """X-Twilio-Signature over the URL and the form parameters, compared in constant time
    against the current and (during rotation) previous auth token; then the form's
    AccountSid must be this org's account. API-key auth does not change signing: Twilio
    signs with the account's auth token."""
    creds = TwilioClient.parse_credentials(secret)
    assert isinstance(creds, TwilioCredentials)
    signature = (request.header(SIGNATURE_HEADER) or "").strip()
    if not signature:
        raise WebhookAuthenticationError("missing X-Twilio-Signature header", provider="twilio")
    try:
        pairs = _form_pairs(request.body)
    except ValueError:
        raise WebhookAuthenticationError("the body is not a form Twilio could have signed", provider="twilio") from None
    urls = twilio_signed_urls(request, creds)
    if not urls:
        raise WebhookAuthenticationError("cannot rebuild the URL Twilio signed", provider="twilio")
    tokens = rotating_secrets(creds, "auth_token", "previous_auth_token")
    expected = [compute_twilio_signature(token, candidate, pairs) for token in tokens for candidate in urls]
    if not matches_any(signature, expected):
        raise WebhookAuthenticationError("invalid X-Twilio-Signature", provider="twilio")
    account_sid = next((value for name, value in pairs if name == "AccountSid"), None)
    if account_sid is None or not hmac.compare_digest(account_sid.encode(), creds.account_sid.encode()):
        raise WebhookAuthenticationError("AccountSid does not match this org's Twilio account", provider="twilio")


def _address(raw: str | None) -> tuple[Literal["whatsapp", "sms"], str | None]:
    """(channel, address): ``whatsapp:+55…`` is Twilio's WhatsApp channel; phone numbers
    become E.164 when they are valid ones, short codes and sender ids stay as given."""
    if not raw:
        return "sms", None
    channel: Literal["whatsapp", "sms"] = "sms"
    value = raw.strip()
    if value.lower().startswith("whatsapp:"):
        channel, value = "whatsapp", value.split(":", 1)[1]
    if value.startswith("+"):
        try:
            return channel, to_e164(value)
        except InvalidRequestError:
            pass
    return channel, value


def normalise_twilio_webhook(
    payload: Any, *, org_id: str, received_at: datetime, raw_ref: str, request: RawWebhook | None = None
) -> list[HubEvent]:
    """A status callback → ``message.status``; an inbound message → ``message.received``.
    Other statuses (``receiving``, ``partially_delivered``) are archived but produce no event."""
    if not isinstance(payload, Mapping):
        raise InvalidRequestError("a Twilio webhook is a form", provider="twilio")
    sid = payload.get("MessageSid")
    if not sid:
        raise InvalidRequestError("MessageSid is missing", provider="twilio")
    status = str(payload.get("MessageStatus") or payload.get("SmsStatus") or "").strip().lower()
    if status == "received":
        return [_inbound(payload, sid, org_id=org_id, received_at=received_at, raw_ref=raw_ref)]
    mapped = STATUS_MAP.get(status)
    if mapped is None:
        return []
    channel, recipient = _address(payload.get("To"))
    error_code = payload.get("ErrorCode") or None
    data = MessageStatusData(
        channel=channel,
        message_id=sid,
        status=mapped,
        recipient=recipient,
        error_code=error_code,
        error_message=twilio_error_text(error_code),
    )
    return [
        HubEvent.build(
            org_id=org_id,
            provider="twilio",
            type="message.status",
            dedupe_key=f"{sid}:{status}",
            occurred_at=received_at,
            received_at=received_at,
            data=data,
            raw_ref=raw_ref,
        )
    ]


def _inbound(payload: Mapping[str, str], sid: str, *, org_id: str, received_at: datetime, raw_ref: str) -> HubEvent:
    channel, sender = _address(payload.get("From"))
    if not sender:
        raise InvalidRequestError("From is missing", provider="twilio")
    try:
        num_media = int(payload.get("NumMedia") or 0)
    except ValueError:
        num_media = 0
    message = InboundMessage(
        channel=channel,
        message_id=sid,
        from_address=sender,
        message_type="media" if num_media > 0 else "text",
        text=payload.get("Body") or None,
        media_url=payload.get("MediaUrl0") or None,
    )
    return HubEvent.build(
        org_id=org_id,
        provider="twilio",
        type="message.received",
        dedupe_key=sid,
        occurred_at=received_at,
        received_at=received_at,
        data=message,
        raw_ref=raw_ref,
    )


# The dedupe window is at least the provider's documented retry window.
# Form-encoded bodies; Twilio expects TwiML back (an empty <Response/>: no auto-reply).
WEBHOOK = WebhookSpec(
    "twilio",
    verify_twilio_webhook,
    normalise_twilio_webhook,
    7 * DAY,
    parse_body=parse_twilio_form,
    success_content_type="text/xml",
    success_body=TWIML_EMPTY_RESPONSE,
)
