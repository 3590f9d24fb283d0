"""The Standard Webhooks signature checks, once for both verifiers that use them: Resend's
(Svix, ``svix-`` headers) and custom sources' (``webhook-`` headers). Requests are signed with
the ``standardwebhooks`` reference library. No network."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.providers.resend.webhook import verify_resend_webhook
from hub.webhooks.models import RawWebhook, WebhookAuthenticationError
from hub.webhooks.standard import verify_custom_webhook
from tests.helpers import raw_webhook
from tests.signing import (
    VECTOR_BODY,
    VECTOR_SECRET,
    VECTOR_TIMESTAMP,
    freeze_standard_webhooks_clock,
    standard_headers,
    vector_headers,
)

RECEIVED = datetime(2025, 11, 22, 12, 0, 5, tzinfo=UTC)


@dataclass(frozen=True)
class Scheme:
    provider: str
    prefix: str  # of the header names: svix-id, webhook-id, ...
    path: str
    secret: str  # the org's current signing secret
    holding: Callable[[str], dict[str, Any]]  # the org's provider secret holding a signing secret
    verifier: Callable[[RawWebhook, dict[str, Any]], None]

    def headers(self, body: str, *, at: datetime | None = None, secret: str | None = None) -> dict[str, str]:
        return standard_headers(self.prefix, body, secret=secret or self.secret, msg_id="msg_test_1", at=at)

    def raw(self, body: str | bytes, headers: dict[str, str]) -> RawWebhook:
        headers = {"content-type": "application/json", **headers}
        return raw_webhook(self.provider, body, headers, path=self.path, received_at=RECEIVED)

    def signed(self, body: str = '{"type":"a.b","data":{"id":"A1"}}', **kwargs: Any) -> RawWebhook:
        return self.raw(body, self.headers(body, **kwargs))

    def verify(self, request: RawWebhook, secret: str | None = None) -> None:
        self.verifier(request, self.holding(secret or self.secret))


SCHEMES = [
    Scheme(
        "resend",
        "svix",
        "/webhooks/resend/demo",
        "whsec_ZGVtby1yZXNlbmQtc2VjcmV0LWtleS0xMjM0NTY=",
        lambda secret: {"webhook_secret": secret},
        verify_resend_webhook,
    ),
    Scheme(
        "custom",
        "webhook",
        "/webhooks/custom/crm/demo",
        "whsec_ZGVtby1jdXN0b20tc2VjcmV0LWtleS0xMjM0NTY=",
        lambda secret: {"sources": {"crm": {"webhook_secret": secret}}},
        lambda request, secret: verify_custom_webhook(request, secret, "crm"),
    ),
]
by_provider = pytest.mark.parametrize("scheme", SCHEMES, ids=lambda s: s.provider)


@by_provider
def test_reference_vector(scheme: Scheme, monkeypatch: pytest.MonkeyPatch) -> None:
    # The Standard Webhooks / Svix test vector: secret, id, timestamp, payload and signature.
    freeze_standard_webhooks_clock(monkeypatch, VECTOR_TIMESTAMP)
    scheme.verify(scheme.raw(VECTOR_BODY, vector_headers(scheme.prefix)), VECTOR_SECRET)


@by_provider
def test_tampered_body_is_rejected(scheme: Scheme) -> None:
    body = '{"type":"a.b","data":{"id":"A1"}}'
    request = scheme.raw(body.replace("A1", "A2"), scheme.headers(body))
    with pytest.raises(WebhookAuthenticationError, match="invalid signature"):
        scheme.verify(request)


@by_provider
@pytest.mark.parametrize(
    ("offset", "reason"), [(timedelta(minutes=-6), "too old"), (timedelta(minutes=6), "in the future")]
)
def test_stale_and_future_timestamps_are_rejected(scheme: Scheme, offset: timedelta, reason: str) -> None:
    with pytest.raises(WebhookAuthenticationError, match=reason):
        scheme.verify(scheme.signed(at=datetime.now(UTC) + offset))


@by_provider
@pytest.mark.parametrize("offset", [timedelta(minutes=-4), timedelta(minutes=4)])
def test_timestamps_within_five_minutes_are_accepted(scheme: Scheme, offset: timedelta) -> None:
    scheme.verify(scheme.signed(at=datetime.now(UTC) + offset))


@by_provider
@pytest.mark.parametrize("missing", ["id", "timestamp", "signature"])
def test_missing_header_is_rejected(scheme: Scheme, missing: str) -> None:
    body = "{}"
    headers = scheme.headers(body)
    del headers[f"{scheme.prefix}-{missing}"]
    with pytest.raises(WebhookAuthenticationError, match="missing"):
        scheme.verify(scheme.raw(body, headers))


@by_provider
@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("signature", "v1"),
        ("signature", "v1,***"),
        ("signature", "sha256=abcdef"),
        ("signature", "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
        ("signature", "v1,not base64!"),
        ("signature", "v1,%%%%"),
        ("signature", "v1,abc,def"),
        ("signature", ",abc="),
        ("signature", "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
        (
            "signature",
            "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==",
        ),
        ("timestamp", "abc"),
        ("timestamp", "1.7e9"),
        ("timestamp", "2025-11-22T12:00:00Z"),
        ("timestamp", "1763812800.5"),
        ("timestamp", "-1763812800"),
        ("timestamp", "99999999999999999999"),
    ],
)
def test_malformed_headers_are_rejected(scheme: Scheme, header: str, value: str) -> None:
    body = "{}"
    headers = scheme.headers(body)
    headers[f"{scheme.prefix}-{header}"] = value
    with pytest.raises(WebhookAuthenticationError):
        scheme.verify(scheme.raw(body, headers))
