"""Every provider's webhook spec, by the provider name used in the route."""

from __future__ import annotations

from hub.providers.evolution import normalise_evolution_webhook, verify_evolution_webhook
from hub.webhooks.models import WebhookSpec

DAY = 24 * 3600

EVOLUTION_WEBHOOK = WebhookSpec(
    provider="evolution",
    verify=verify_evolution_webhook,
    normalise=normalise_evolution_webhook,
    # Evolution retries with backoff for minutes; WhatsApp redelivers for days. 7 days.
    dedupe_ttl_seconds=7 * DAY,
)

WEBHOOK_SPECS: dict[str, WebhookSpec] = {spec.provider: spec for spec in (EVOLUTION_WEBHOOK,)}
