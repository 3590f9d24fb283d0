"""Meta Graph webhooks: WhatsApp Cloud API, Instagram and Facebook Pages (one app, one secret).

The provider's API facts this module relies on, with their doc links: README.md.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from hub.errors import InvalidRequestError
from hub.events import HubEvent, InboundMessage, MessageStatusData, SocialCommentData, SocialMentionData
from hub.phones import to_e164
from hub.providers.base.client import ProviderCredentials, parse_credentials
from hub.providers.base.webhook import matches_any, rotating_secrets
from hub.resilience.ratelimit import DAY
from hub.webhooks.models import RawWebhook, WebhookAuthenticationError, WebhookSpec

PROVIDER = "meta"
SIGNATURE_HEADER = "x-hub-signature-256"
_SIGNATURE = re.compile(r"^sha256=([0-9a-fA-F]{64})$")
_DIGITS = re.compile(r"^\+?([0-9]{8,15})$")
_Status = Literal["sent", "delivered", "read", "failed"]
# Cloud API statuses with a hub equivalent (MessageStatusData.status).
_STATUSES: dict[str, _Status] = {"sent": "sent", "delivered": "delivered", "read": "read", "failed": "failed"}


class MetaWebhookCredentials(ProviderCredentials):
    app_secret: SecretStr
    # Accepted too while the app secret is being reset.
    previous_app_secret: SecretStr | None = None
    verify_token: SecretStr


def _credentials(secret: Mapping[str, Any]) -> MetaWebhookCredentials:
    return parse_credentials(MetaWebhookCredentials, secret, provider=PROVIDER)


# ----- verification (https://developers.facebook.com/docs/graph-api/webhooks/getting-started) ---


# https://developers.facebook.com/docs/graph-api/webhooks/getting-started#event-notifications
def verify_meta_webhook(request: RawWebhook, secret: dict[str, Any]) -> None:
    """``X-Hub-Signature-256: sha256=<hex>`` = HMAC-SHA256(raw body, app secret), compared in
    constant time against the current and (during a reset) the previous app secret."""
    creds = _credentials(secret)
    header = request.header(SIGNATURE_HEADER)
    if not header:
        raise WebhookAuthenticationError("missing X-Hub-Signature-256 header", provider=PROVIDER)
    match = _SIGNATURE.fullmatch(header.strip())
    if match is None:
        raise WebhookAuthenticationError("malformed X-Hub-Signature-256 header", provider=PROVIDER)
    received = bytes.fromhex(match.group(1))
    keys = rotating_secrets(creds, "app_secret", "previous_app_secret")
    expected = [hmac.new(key.encode("utf-8"), request.body, hashlib.sha256).digest() for key in keys]
    if not matches_any(received, expected):
        raise WebhookAuthenticationError("invalid signature", provider=PROVIDER)


# https://developers.facebook.com/docs/graph-api/webhooks/getting-started#verification-requests
def meta_subscription_challenge(query: Mapping[str, str], secret: dict[str, Any]) -> str:
    """The GET verification request: ``hub.mode=subscribe`` and a matching
    ``hub.verify_token`` (constant time) → the ``hub.challenge`` to answer with (200)."""
    creds = _credentials(secret)
    if query.get("hub.mode") != "subscribe":
        raise WebhookAuthenticationError("hub.mode must be subscribe", provider=PROVIDER)
    token = query.get("hub.verify_token") or ""
    expected = creds.verify_token.get_secret_value()
    if not token or not hmac.compare_digest(token.encode("utf-8"), expected.encode("utf-8")):
        raise WebhookAuthenticationError("invalid verify token", provider=PROVIDER)
    challenge = query.get("hub.challenge") or ""
    if not challenge:
        raise WebhookAuthenticationError("missing hub.challenge", provider=PROVIDER)
    return challenge


# ----- payload models ------------------------------------------------------------------


class _Model(BaseModel):
    # Ids are documented as numeric strings; accept bare numbers too rather than reject a batch.
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


class _Change(_Model):
    field: str
    value: Any = None


class _Entry(_Model):
    id: str | None = None
    time: int | None = None
    changes: list[_Change] = Field(default_factory=list)
    # entry[].messaging (Messenger / Instagram DMs) is not normalised yet.


class _Envelope(_Model):
    object: str
    entry: list[_Entry] = Field(default_factory=list)


# WhatsApp Cloud API, field "messages":
# https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/text
# https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/interactive
# https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/reference/messages/status


class _WaProfile(_Model):
    name: str | None = None


class _WaContact(_Model):
    wa_id: str | None = None
    profile: _WaProfile | None = None


class _WaMessage(_Model):
    id: str = Field(min_length=1)
    from_: str = Field(alias="from", min_length=1)
    timestamp: str | int | None = None
    type: str = "unknown"
    text: dict[str, Any] | None = None
    image: dict[str, Any] | None = None
    video: dict[str, Any] | None = None
    document: dict[str, Any] | None = None
    button: dict[str, Any] | None = None
    interactive: dict[str, Any] | None = None


class _WaError(_Model):
    code: int | str | None = None
    title: str | None = None
    message: str | None = None
    error_data: dict[str, Any] | None = None


class _WaStatus(_Model):
    id: str = Field(min_length=1)
    status: str
    timestamp: str | int | None = None
    recipient_id: str | None = None
    errors: list[_WaError] = Field(default_factory=list)


class _WaValue(_Model):
    contacts: list[_WaContact] = Field(default_factory=list)
    messages: list[_WaMessage] = Field(default_factory=list)
    statuses: list[_WaStatus] = Field(default_factory=list)


# Instagram, field "comments":
# https://developers.facebook.com/docs/graph-api/webhooks/reference/instagram (FBInstagramCommentsField)
# https://developers.facebook.com/docs/instagram-api/guides/webhooks


class _IgUser(_Model):
    id: str | None = None
    username: str | None = None


class _IgMedia(_Model):
    id: str | None = None


class _IgComment(_Model):
    id: str = Field(min_length=1)
    from_: _IgUser | None = Field(None, alias="from")
    media: _IgMedia | None = None
    text: str | None = None


# Instagram, field "mentions" ({"comment_id", "media_id"}; no comment_id for a caption mention):
# https://developers.facebook.com/docs/graph-api/webhooks/reference/instagram (FBInstagramMentionsField)
# https://developers.facebook.com/docs/instagram-platform/instagram-api-with-facebook-login/mentions


class _IgMention(_Model):
    media_id: str | None = None
    comment_id: str | None = None


# Facebook Pages, field "feed" (item "comment"):
# https://developers.facebook.com/docs/graph-api/webhooks/reference/page (feed)
# https://developers.facebook.com/docs/graph-api/webhooks/getting-started/webhooks-for-pages


class _FbUser(_Model):
    id: str | None = None
    name: str | None = None


class _FbFeedChange(_Model):
    item: str | None = None
    verb: str | None = None
    comment_id: str | None = None
    post_id: str | None = None
    from_: _FbUser | None = Field(None, alias="from")
    message: str | None = None
    created_time: int | None = None


# Facebook Pages, field "mention" (the page mentioned in a post or a comment):
# https://developers.facebook.com/docs/graph-api/webhooks/reference/page (mention)


class _FbMention(_Model):
    post_id: str | None = None
    comment_id: str | None = None
    item: str | None = None
    verb: str | None = None
    sender_id: str | None = None
    sender_name: str | None = None
    created_time: int | None = None


# ----- normalisation -------------------------------------------------------------------


def _unix(value: str | int | None) -> datetime | None:
    """Unix seconds (Meta sends strings for WhatsApp, ints elsewhere); milliseconds tolerated."""
    if value is None or not str(value).isdigit():
        return None
    seconds = int(value)
    if seconds > 10**11:  # milliseconds (Messenger-style entry.time)
        seconds //= 1000
    return datetime.fromtimestamp(seconds, tz=UTC)


def _phone(raw: str, *, field: str) -> str:
    """WhatsApp ids are digits without '+'. libphonenumber first; if its metadata does not
    know a (syntactically E.164) number yet, keep ``+digits`` rather than reject the batch."""
    try:
        return to_e164("+" + raw.lstrip("+"), field=field)
    except InvalidRequestError:
        digits = _DIGITS.fullmatch(raw)
        if digits is None:
            raise
        return "+" + digits.group(1)


def _wa_text(message: _WaMessage) -> str | None:
    if message.text and isinstance(message.text.get("body"), str):
        return str(message.text["body"])
    for media in (message.image, message.video, message.document):
        if media and isinstance(media.get("caption"), str):
            return str(media["caption"])
    if message.button and isinstance(message.button.get("text"), str):
        return str(message.button["text"])
    if message.interactive:
        reply = message.interactive.get(str(message.interactive.get("type")))
        if isinstance(reply, dict) and isinstance(reply.get("title"), str):
            return str(reply["title"])  # button_reply / list_reply
    return None


def _wa_error(errors: list[_WaError]) -> tuple[str | None, str | None]:
    if not errors:
        return None, None
    first = errors[0]
    details = (first.error_data or {}).get("details")
    parts: list[str] = []
    for part in (first.title, first.message, details if isinstance(details, str) else None):
        if part and part not in parts:
            parts.append(part)
    code = str(first.code) if first.code is not None else None
    return code, ": ".join(parts) or None


def _whatsapp_events(value: Any, common: dict[str, Any]) -> Iterator[HubEvent]:
    data = _WaValue.model_validate(value or {})
    names = {c.wa_id: c.profile.name for c in data.contacts if c.wa_id and c.profile}
    only_name = next(iter(names.values())) if len(names) == 1 else None
    for message in data.messages:
        inbound = InboundMessage(
            channel="whatsapp",
            message_id=message.id,
            from_address=_phone(message.from_, field="messages.from"),
            from_name=names.get(message.from_, only_name),
            message_type=message.type,
            text=_wa_text(message),
        )
        yield HubEvent.build(
            type="message.received",
            dedupe_key=message.id,
            occurred_at=_unix(message.timestamp) or common["received_at"],
            data=inbound,
            **common,
        )
    for status in data.statuses:
        hub_status = _STATUSES.get(status.status)
        if hub_status is None:
            continue  # e.g. "deleted"/"warning" (On-Premises) have no hub equivalent
        recipient = None
        if status.recipient_id:
            try:
                recipient = _phone(status.recipient_id, field="statuses.recipient_id")
            except InvalidRequestError:
                recipient = None  # a WhatsApp user id that is not a phone number
        error_code, error_message = _wa_error(status.errors) if hub_status == "failed" else (None, None)
        status_data = MessageStatusData(
            channel="whatsapp",
            message_id=status.id,
            status=hub_status,
            recipient=recipient,
            error_code=error_code,
            error_message=error_message,
        )
        yield HubEvent.build(
            type="message.status",
            # One message goes sent → delivered → read: one event per transition.
            dedupe_key=f"{status.id}:{status.status}",
            occurred_at=_unix(status.timestamp) or common["received_at"],
            data=status_data,
            **common,
        )


def _instagram_comment(value: Any, entry: _Entry, common: dict[str, Any]) -> HubEvent:
    comment = _IgComment.model_validate(value or {})
    data = SocialCommentData(
        network="instagram",
        comment_id=comment.id,
        post_id=comment.media.id if comment.media else None,
        author_id=comment.from_.id if comment.from_ else None,
        author_name=comment.from_.username if comment.from_ else None,
        text=comment.text,
    )
    return HubEvent.build(
        type="social.comment",
        dedupe_key=comment.id,
        occurred_at=_unix(entry.time) or common["received_at"],
        data=data,
        **common,
    )


def _instagram_mention(value: Any, entry: _Entry, common: dict[str, Any]) -> HubEvent | None:
    mention = _IgMention.model_validate(value or {})
    if not mention.media_id and not mention.comment_id:
        return None  # nothing to point at
    data = SocialMentionData(
        network="instagram",
        account_id=entry.id,
        media_id=mention.media_id,
        comment_id=mention.comment_id,
        mentioned_in="comment" if mention.comment_id else "caption",
    )
    return HubEvent.build(
        type="social.mention",
        # Prefixed: a comment can also arrive as a "comments" change (dedupe key: its id).
        dedupe_key=f"mention:{mention.comment_id or mention.media_id}",
        occurred_at=_unix(entry.time) or common["received_at"],
        data=data,
        **common,
    )


def _facebook_comment(value: Any, entry: _Entry, common: dict[str, Any]) -> HubEvent | None:
    change = _FbFeedChange.model_validate(value or {})
    if change.item != "comment" or change.verb != "add" or not change.comment_id:
        return None  # posts, reactions, edits and removals produce no event
    data = SocialCommentData(
        network="facebook",
        comment_id=change.comment_id,
        post_id=change.post_id,
        author_id=change.from_.id if change.from_ else None,
        author_name=change.from_.name if change.from_ else None,
        text=change.message,
    )
    return HubEvent.build(
        type="social.comment",
        dedupe_key=f"{change.comment_id}:{change.verb}",
        occurred_at=_unix(change.created_time) or _unix(entry.time) or common["received_at"],
        data=data,
        **common,
    )


def _facebook_mention(value: Any, entry: _Entry, common: dict[str, Any]) -> HubEvent | None:
    mention = _FbMention.model_validate(value or {})
    if mention.verb not in (None, "add") or not (mention.post_id or mention.comment_id):
        return None  # an edit or removal of a mention, or nothing to point at
    in_comment = mention.item == "comment" or (mention.comment_id is not None and mention.item != "post")
    data = SocialMentionData(
        network="facebook",
        account_id=entry.id,
        media_id=mention.post_id,
        comment_id=mention.comment_id if in_comment else None,
        mentioned_in="comment" if in_comment else "post",
        author_id=mention.sender_id,
        author_name=mention.sender_name,
    )
    target = mention.comment_id if in_comment and mention.comment_id else mention.post_id
    return HubEvent.build(
        type="social.mention",
        dedupe_key=f"mention:{target}",
        occurred_at=_unix(mention.created_time) or _unix(entry.time) or common["received_at"],
        data=data,
        **common,
    )


# Payload references: see the URLs above each model (WhatsApp, Instagram, Pages).
def normalise_meta_webhook(
    payload: Any, *, org_id: str, received_at: datetime, raw_ref: str, request: RawWebhook | None = None
) -> list[HubEvent]:
    """WhatsApp ``messages`` → ``message.received`` / ``message.status``; Instagram
    ``comments`` and Page ``feed`` comment additions → ``social.comment``; Instagram ``mentions``
    and Page ``mention`` → ``social.mention``. Other objects,
    fields and ``entry[].messaging`` are archived but produce no event."""
    envelope = _Envelope.model_validate(payload)
    common: dict[str, Any] = {"org_id": org_id, "provider": PROVIDER, "received_at": received_at, "raw_ref": raw_ref}
    events: list[HubEvent] = []
    for entry in envelope.entry:
        for change in entry.changes:
            if envelope.object == "whatsapp_business_account" and change.field == "messages":
                events.extend(_whatsapp_events(change.value, common))
            elif envelope.object == "instagram" and change.field == "comments":
                events.append(_instagram_comment(change.value, entry, common))
            elif envelope.object == "instagram" and change.field == "mentions":
                mention = _instagram_mention(change.value, entry, common)
                if mention is not None:
                    events.append(mention)
            elif envelope.object == "page" and change.field == "feed":
                event = _facebook_comment(change.value, entry, common)
                if event is not None:
                    events.append(event)
            elif envelope.object == "page" and change.field == "mention":
                event = _facebook_mention(change.value, entry, common)
                if event is not None:
                    events.append(event)
    return events


# The dedupe window is at least the provider's documented retry window.
# Meta retries for about 7 days.
WEBHOOK = WebhookSpec(
    "meta", verify_meta_webhook, normalise_meta_webhook, 8 * DAY, challenge=meta_subscription_challenge
)
