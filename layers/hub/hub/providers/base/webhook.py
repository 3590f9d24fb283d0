"""Helpers every webhook verifier shares: a secret that rotates (the current value plus, while a
rotation is in progress, the previous one), a constant-time comparison against all of them, and
the ``<timestamp>=…,v1=…`` signature header that Stripe and Mercado Pago both send."""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr

from hub.errors import HubError, InvalidRequestError, WebhookAuthenticationError
from hub.providers.base.client import OptionalSecret, ProviderCredentials, redact

MAX_SIGNATURE_HEADER_LENGTH = 4096


def _plain(value: Any) -> str | None:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return value if isinstance(value, str) and value else None


def rotating_secrets(creds: Any, current: str, previous: str, *, now: datetime | None = None) -> list[str]:
    """The values of ``creds.<current>`` and ``creds.<previous>`` (SecretStr or str), in that
    order, leaving out the ones that are unset or blank, and the previous one once
    ``creds.previous_valid_until`` (the rotation's grace window) has passed; e.g.
    ``rotating_secrets(creds, "webhook_secret", "previous_webhook_secret")``."""
    older = _plain(getattr(creds, previous, None))
    until = getattr(creds, "previous_valid_until", None)
    if older is not None and isinstance(until, datetime):
        until = until if until.tzinfo else until.replace(tzinfo=UTC)
        if (now or datetime.now(UTC)) >= until:
            older = None
    values = (_plain(getattr(creds, current, None)), older)
    return [value for value in values if value is not None]


class WebhookSecretCredentials(ProviderCredentials):
    """An org's webhook signing secret, plus the previous one while a rotation is in progress
    (Stripe keeps a rolled secret valid for up to 24 h; Mercado Pago while it is being reset)."""

    webhook_secret: SecretStr = Field(min_length=1)
    previous_webhook_secret: OptionalSecret = None

    def secrets(self) -> list[str]:
        return rotating_secrets(self, "webhook_secret", "previous_webhook_secret")


@dataclass(frozen=True)
class WebhookRegistration:
    """What a provider answered when the hub pointed its webhook at the hub's route
    (:class:`hub.providers.ports.WebhookRegistrar`): its id there, and the fields to store in the
    org's secret so the verifier accepts what it sends — the token the hub chose, or the signing
    secret the provider issued (Resend)."""

    provider_webhook_id: str | None
    secret_fields: Mapping[str, str] = field(default_factory=dict, repr=False)
    events: tuple[str, ...] = ()


# The hub's route is an absolute http(s) URL (https in production; http://127.0.0.1:3000 locally).
MAX_WEBHOOK_URL_LENGTH = 500  # Evolution stores the URL in a VARCHAR(500)


def webhook_target(url: str, *, provider: str) -> str:
    """The URL a provider is asked to call (:class:`hub.providers.ports.WebhookRegistrar`):
    an absolute ``http(s)://host/...`` URL of at most 500 characters, else
    :class:`InvalidRequestError` naming ``url``, before anything is sent."""
    parts = urlsplit(url) if isinstance(url, str) else None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or len(url) > MAX_WEBHOOK_URL_LENGTH
        or any(ch.isspace() for ch in url)
    ):
        raise InvalidRequestError(
            f"url: the webhook target must be an absolute http(s) URL of at most {MAX_WEBHOOK_URL_LENGTH} characters",
            provider=provider,
            code="invalid_webhook_url",
        )
    return url


def without_secret(error: HubError, *secrets: str) -> HubError:
    """``error`` with every value in ``secrets`` masked in its message and details: a webhook
    registration sends the token it chose in the body, and a provider echoing it in an error
    must not put it in logs or the caller's answer (the base scrubs only credentials)."""
    return redact(error, sorted({s for s in secrets if s}, key=len, reverse=True))


def _bytes(value: bytes | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def matches_any(candidate: bytes | str, expected: Iterable[bytes | str]) -> bool:
    """Whether ``candidate`` equals one of ``expected``: each comparison constant-time and all
    of them always made (no short-circuit), so timing tells nothing about which one matched."""
    given = _bytes(candidate)
    results = [hmac.compare_digest(given, _bytes(value)) for value in expected]
    return any(results)


def timestamped_signatures(
    value: str, *, header: str, timestamp_key: str, timestamp: re.Pattern[str], provider: str
) -> tuple[str, list[str]]:
    """``<timestamp_key>=…,v1=…[,v1=…]`` → (the timestamp, the v1 signatures); other schemes are
    ignored, blanks around keys and values too. Exactly one timestamp matching ``timestamp`` and
    at least one v1 signature, or :class:`WebhookAuthenticationError` naming ``header``."""
    malformed = WebhookAuthenticationError(f"malformed {header} header", provider=provider)
    if len(value) > MAX_SIGNATURE_HEADER_LENGTH:
        raise malformed
    timestamps: list[str] = []
    signatures: list[str] = []
    for item in value.split(","):
        key, sep, item_value = item.strip().partition("=")
        key, item_value = key.strip(), item_value.strip()
        if not sep or not key or not item_value:
            raise malformed
        if key == timestamp_key:
            timestamps.append(item_value)
        elif key == "v1":
            signatures.append(item_value)
    if len(timestamps) != 1 or not timestamp.fullmatch(timestamps[0]):
        raise malformed
    if not signatures:
        raise WebhookAuthenticationError(f"no v1 signature in the {header} header", provider=provider)
    return timestamps[0], signatures
