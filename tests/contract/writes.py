"""One representative write per provider whose writes have effects (``writes_have_effects``:
a message sent, an email delivered). The contract suite fails for a registered adapter with
effects and no entry here, so a new provider cannot skip the unknown-outcome contract."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hub.analytics.models import AnalyticsEvent
from hub.providers.outbound import OutboundEmail
from hub.social.models import SocialPost

TO = "+5511987654321"
EMAIL = OutboundEmail(
    from_address="Somos Produtora <contato@somosprodutora.com.br>",
    to=["cliente@example.com"],
    subject="Sua proposta",
    text="Olá!",
)

# An analytics event as the forwarder hands it to a sink (GA4 cannot dedupe a resend).
ANALYTICS_EVENT = AnalyticsEvent(
    event_id="contract-event-1",
    name="charge_paid",
    distinct_id="contract-contact-1",
    occurred_at=datetime.now(UTC) - timedelta(minutes=5),
    properties={"value": Decimal("19.90"), "currency": "BRL"},
)

Write = Callable[[Any], object]


def facebook_publish(client: Any) -> object:
    """A page post. Its page token comes from GET /me/accounts first (a read, whose lost answer
    is only "unavailable"): the contract is about the publish, so the token is known already."""
    client._page_tokens = {"1020": ("EAApage-token-contract-0001", frozenset({"CREATE_CONTENT"}))}
    post = SocialPost(org_id="acme", publication_id="pub_" + "2" * 32, account="1020", text="Olá!")
    return client.publish_post(post, {"kind": "feed"})


WRITES: dict[str, Write] = {
    "evolution": lambda client: client.send_text(TO, "Olá!"),
    "whatsapp_cloud": lambda client: client.send_text(TO, "Olá!"),
    "twilio": lambda client: client.send_sms(TO, "Olá!"),
    "resend": lambda client: client.send_email(EMAIL, idempotency_key="contract-write-1"),
    "facebook": facebook_publish,
    "ga4": lambda client: client.send_events([ANALYTICS_EVENT]),
}
