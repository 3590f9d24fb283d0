"""Sign a webhook body the way each provider does, with the demo org's secrets.

Uses each provider's own library where one exists (stripe, standardwebhooks)."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import standardwebhooks.webhooks
import stripe
from standardwebhooks import Webhook

from hub.webhooks.models import RawWebhook, WebhookAuthenticationError
from localcloud import demo
from localcloud.sandboxes import asaas as asaas_sandbox
from localcloud.sandboxes import evolution as evolution_sandbox
from localcloud.sandboxes import mercadopago as mercadopago_sandbox
from localcloud.sandboxes import meta as meta_sandbox
from localcloud.sandboxes import resend as resend_sandbox
from localcloud.sandboxes import stripe as stripe_sandbox


def standard_headers(
    prefix: str, body: str, *, secret: str, msg_id: str | None = None, at: datetime | None = None
) -> dict[str, str]:
    """Standard Webhooks (prefix "webhook") or Svix (prefix "svix") headers for a body."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    at = at or datetime.now(UTC)
    signature = Webhook(secret).sign(msg_id, at, body)
    return {f"{prefix}-id": msg_id, f"{prefix}-timestamp": str(int(at.timestamp())), f"{prefix}-signature": signature}


# The Standard Webhooks reference vector (Svix's too, under svix- headers): this secret signed
# this body as this message id at this instant.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_BODY = '{"test": 2432232314}'
VECTOR_TIMESTAMP = 1614265330


def vector_headers(prefix: str) -> dict[str, str]:
    """The reference vector's headers, named with ``prefix`` ("webhook" or "svix")."""
    return {
        f"{prefix}-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        f"{prefix}-timestamp": str(VECTOR_TIMESTAMP),
        f"{prefix}-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }


def freeze_standard_webhooks_clock(monkeypatch: pytest.MonkeyPatch, timestamp: int) -> None:
    """Stop the standardwebhooks library's clock at ``timestamp`` (its tolerance check reads it)."""

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Frozen:
            return cls.fromtimestamp(timestamp, tz=tz)

    monkeypatch.setattr(standardwebhooks.webhooks, "datetime", Frozen)


def assert_fresh_then_stale(
    verify: Callable[[RawWebhook, dict[str, Any]], None],
    sample: dict[str, Any],
    secret: dict[str, Any],
    signed_at: datetime,
) -> None:
    """A sample API Gateway event signed at ``signed_at`` verifies when received right after,
    and is refused as stale when replayed today (samples are stale by design)."""
    provider = sample["resource"].split("/")[2]

    def received(at: datetime) -> RawWebhook:
        return RawWebhook.from_api_gateway(sample, provider=provider, org_id="demo", received_at=at)

    verify(received(signed_at + timedelta(seconds=1)), secret)
    with pytest.raises(WebhookAuthenticationError, match="too old"):
        verify(received(datetime.now(UTC)), secret)


def signed_headers(provider: str, body: str, query: dict[str, str] | None = None) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if provider == "evolution":
        headers["Authorization"] = f"Bearer {evolution_sandbox.DEMO_WEBHOOK_TOKEN}"
    elif provider == "stripe":
        headers["Stripe-Signature"] = stripe.WebhookSignature.generate_signature_header(
            body, stripe_sandbox.DEMO_WEBHOOK_SECRET
        )
    elif provider == "meta":
        digest = hmac.new(meta_sandbox.DEMO_APP_SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
        headers["X-Hub-Signature-256"] = f"sha256={digest}"
    elif provider == "resend":
        headers.update(standard_headers("svix", body, secret=resend_sandbox.DEMO_WEBHOOK_SECRET))
    elif provider == "custom":
        headers.update(standard_headers("webhook", body, secret=demo.CUSTOM_WEBHOOK_SECRET))
    elif provider == "asaas":
        headers["asaas-access-token"] = asaas_sandbox.DEMO_WEBHOOK_TOKEN
    elif provider == "mercadopago":
        request_id = str(uuid.uuid4())
        ts = str(int(time.time()))
        data_id = (query or {}).get("data.id")
        manifest = (f"id:{data_id.lower()};" if data_id else "") + f"request-id:{request_id};ts:{ts};"
        v1 = hmac.new(mercadopago_sandbox.DEMO_WEBHOOK_SECRET.encode(), manifest.encode(), hashlib.sha256).hexdigest()
        headers.update({"x-signature": f"ts={ts},v1={v1}", "x-request-id": request_id})
    else:
        raise ValueError(provider)
    return headers
