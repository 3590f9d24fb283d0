"""Every webhook receiver's spec, by the provider name used in the route.

A provider's spec is ``WEBHOOK`` in its package's ``webhook.py`` (found through its descriptor),
loaded on first use: a receiver's cold start imports only its own provider (the Stripe SDK alone
is heavy). ``custom`` is the hub's own Standard Webhooks receiver for any other sender.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from hub.errors import InvalidRequestError
from hub.events import HubEvent
from hub.webhooks.models import RawWebhook, WebhookSpec

CUSTOM = "custom"


def _custom() -> WebhookSpec:
    from hub.webhooks.standard import normalise_custom_webhook, verify_custom_webhook

    def verify(request: RawWebhook, secret: dict[str, Any]) -> None:
        verify_custom_webhook(request, secret, request.route_params.get("source", ""))

    def normalise(
        payload: Any, *, org_id: str, received_at: datetime, raw_ref: str, request: RawWebhook
    ) -> list[HubEvent]:
        source = request.route_params.get("source", "")
        return normalise_custom_webhook(
            payload, org_id=org_id, received_at=received_at, raw_ref=raw_ref, request=request, source=source
        )

    return WebhookSpec(CUSTOM, verify, normalise, 7 * 24 * 3600, route="custom/<source>/<org_id>")


def webhook_providers() -> tuple[str, ...]:
    """Every provider with a webhook receiver (and ``custom``)."""
    from hub.providers import all_descriptors

    return (*(key for key, d in all_descriptors().items() if d.webhook), CUSTOM)


@cache
def webhook_spec(provider: str) -> WebhookSpec:
    if provider == CUSTOM:
        return _custom()
    from hub.providers import descriptor

    found = descriptor(provider)
    if found is None or not found.webhook or found.key != provider:
        raise InvalidRequestError(f"no webhook receiver for provider {provider!r}", code="unknown_provider")
    return found.webhook_spec()
