"""Standard Webhooks: the one verifier for Resend (Svix) and ``custom/{source}`` senders.

Spec: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
(https://www.standardwebhooks.com). Headers ``webhook-id``, ``webhook-timestamp`` (unix
seconds) and ``webhook-signature`` (space-separated ``v1,<base64>`` entries, so a sender can
sign with an old and a new key while rotating). Signed content ``{id}.{timestamp}.{raw body}``,
HMAC-SHA256 keyed with the base64-decoded part of the ``whsec_…`` secret.

Svix, which signs Resend's webhooks, is the same scheme under ``svix-*`` header names
(https://docs.svix.com/receiving/verifying-payloads/how-manual), so Resend maps its headers
onto ``webhook-*`` and calls :func:`verify_standard_webhook` too.

The signature itself is checked by the maintained ``standardwebhooks`` package (constant-time
comparison, 5-minute tolerance both ways). We validate everything it would choke on first
(missing headers, a non-numeric timestamp, entries that are not ``version,base64``, a body
that is not UTF-8) so a forgery always ends as a WebhookAuthenticationError, never as an
unexpected exception.

Secret ``hub/{org_id}/custom``:
``{"sources": {"<source>": {"webhook_secret": "whsec_…", "previous_webhook_secret"?: "whsec_…"}}}``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from standardwebhooks import Webhook, WebhookVerificationError

from hub.errors import ConfigurationError, InvalidRequestError
from hub.events import CustomEventData, HubEvent
from hub.providers.base.client import parse_credentials
from hub.providers.base.webhook import rotating_secrets
from hub.webhooks.models import RawWebhook, WebhookAuthenticationError

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format prefix of signing secrets, not a secret
# The spec requires integer unix seconds; the library would also accept floats and exponents.
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
# Source names appear in the URL path and in the secret: same alphabet as provider names.
_SOURCE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
# The spec recommends full-stop delimited identifiers of [a-zA-Z0-9_]; we also accept '-'.
_EVENT_TYPE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
_MAX_EVENT_TYPE = 120


class StandardWebhookSecret(BaseModel):
    """One Standard Webhooks signing secret, plus the previous one while rotating."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    webhook_secret: SecretStr
    previous_webhook_secret: SecretStr | None = None

    def secrets(self) -> list[str]:
        return rotating_secrets(self, "webhook_secret", "previous_webhook_secret")


class CustomWebhookCredentials(BaseModel):
    """Secret ``hub/{org_id}/custom``: one signing secret per sending system."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    sources: dict[str, StandardWebhookSecret] = Field(default_factory=dict)


def _signing_key(secret: str, *, provider: str) -> bytes:
    """``whsec_<base64>`` (or bare base64) → the HMAC key bytes; strict, unlike the library."""
    encoded = secret.strip().removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"{provider} webhook secret is not whsec_<base64>", provider=provider) from None
    if not key:
        raise ConfigurationError(f"{provider} webhook secret is empty", provider=provider)
    return key


def _normalised_signature_header(value: str, *, provider: str) -> str:
    """Every entry must be ``<version>,<base64>`` and at least one must be ``v1``. Returns the
    entries joined by single spaces (the library splits on exactly one space)."""
    entries = value.split()
    has_v1 = False
    for entry in entries:
        version, sep, signature = entry.partition(",")
        if not sep or not version or not signature or "," in signature:
            raise WebhookAuthenticationError("malformed signature header", provider=provider)
        if version == "v1":
            try:
                base64.b64decode(signature, validate=True)
            except (binascii.Error, ValueError):
                raise WebhookAuthenticationError("malformed signature header", provider=provider) from None
            has_v1 = True
    if not has_v1:
        raise WebhookAuthenticationError("no v1 signature in the signature header", provider=provider)
    return " ".join(entries)


# https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#verifying-signatures
def verify_standard_webhook(
    request: RawWebhook, secrets: Sequence[str], *, provider: str, header_prefix: str = "webhook"
) -> str:
    """Verify a Standard Webhooks (``header_prefix="webhook"``) or Svix (``"svix"``)
    delivery against the current and previous secrets; return the verified message id.

    Raises WebhookAuthenticationError (missing/malformed headers, stale or future
    timestamp, no matching signature) or ConfigurationError (a secret is not whsec_<base64>).
    """
    if not secrets:
        raise WebhookAuthenticationError("no webhook_secret is configured for this org", provider=provider)
    names = (f"{header_prefix}-id", f"{header_prefix}-timestamp", f"{header_prefix}-signature")
    msg_id, timestamp, signature = (request.header(name) or "" for name in names)
    if not (msg_id and timestamp and signature):
        raise WebhookAuthenticationError(f"missing {header_prefix}-id/-timestamp/-signature headers", provider=provider)
    if not _TIMESTAMP.fullmatch(timestamp):
        raise WebhookAuthenticationError(f"malformed {header_prefix}-timestamp header", provider=provider)
    signature = _normalised_signature_header(signature, provider=provider)
    try:
        body = request.body.decode("utf-8")  # senders sign the JSON text; the library wants str
    except UnicodeDecodeError:
        raise WebhookAuthenticationError("body is not UTF-8", provider=provider) from None

    keys = [_signing_key(secret, provider=provider) for secret in secrets]
    headers = {"webhook-id": msg_id, "webhook-timestamp": timestamp, "webhook-signature": signature}
    for key in keys:
        try:
            Webhook(key).verify(body, headers, json_parse=False)
        except WebhookVerificationError as exc:
            reason = str(exc).lower()
            # The timestamp does not depend on the key: no point trying the next one.
            if "too old" in reason:
                raise WebhookAuthenticationError("webhook timestamp is too old", provider=provider) from None
            if "too new" in reason:
                raise WebhookAuthenticationError("webhook timestamp is in the future", provider=provider) from None
            continue
        return msg_id
    raise WebhookAuthenticationError("invalid signature", provider=provider)


# ----- custom/{source} senders -------------------------------------------------------------


def _source_secret(secret: Mapping[str, Any], source: str) -> StandardWebhookSecret:
    if not _SOURCE.fullmatch(source or ""):
        raise WebhookAuthenticationError("unknown webhook source", provider="custom")
    creds = parse_credentials(CustomWebhookCredentials, secret, provider="custom")
    found = creds.sources.get(source)
    if found is None:
        raise WebhookAuthenticationError("unknown webhook source", provider="custom")
    return found


# https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#webhook-headers-sending-metadata-to-consumers
def verify_custom_webhook(request: RawWebhook, secret: dict[str, Any], source: str) -> None:
    """``webhook-id``/``webhook-timestamp``/``webhook-signature`` signed with the secret of
    ``sources[source]`` (or its ``previous_webhook_secret`` while rotating)."""
    source_secret = _source_secret(secret, source)
    verify_standard_webhook(request, source_secret.secrets(), provider="custom", header_prefix="webhook")


def _occurred_at(body: Mapping[str, Any], request: RawWebhook, received_at: datetime) -> datetime:
    value = body.get("timestamp")
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    header = request.header("webhook-timestamp") or ""
    if _TIMESTAMP.fullmatch(header):
        return datetime.fromtimestamp(int(header), tz=UTC)
    return received_at


# https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#payload-structure
def normalise_custom_webhook(
    payload: Any, *, org_id: str, received_at: datetime, raw_ref: str, request: RawWebhook, source: str
) -> list[HubEvent]:
    """``{"type": "lead.created", "timestamp"?: ISO-8601, "data"?: {...}}`` → one
    ``custom.lead.created`` event whose data is ``{"source", "payload": data}``."""
    if not isinstance(payload, dict):
        raise InvalidRequestError("body must be a JSON object", code="invalid_payload")
    event_type = payload.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise InvalidRequestError("type: a non-empty string is required", code="invalid_payload")
    if len(event_type) > _MAX_EVENT_TYPE or not _EVENT_TYPE.fullmatch(event_type):
        raise InvalidRequestError(
            "type: must be dot-separated identifiers of letters, digits, '_' or '-'", code="invalid_payload"
        )
    webhook_id = request.header("webhook-id")
    if not webhook_id:
        raise InvalidRequestError("webhook-id header is required", code="invalid_payload")
    data = CustomEventData(source=source, payload=payload.get("data", {}))
    return [
        HubEvent.build(
            org_id=org_id,
            provider="custom",
            type=f"custom.{event_type}",
            # Per source: two partner systems may well reuse the same message ids.
            dedupe_key=f"{source}:{webhook_id}",
            occurred_at=_occurred_at(payload, request, received_at),
            received_at=received_at,
            data=data,
            raw_ref=raw_ref,
        )
    ]
