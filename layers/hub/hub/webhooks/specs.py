"""Every provider's webhook spec, by the provider name used in the route.

Specs are built on first use and import only their own provider module, so a receiver's
cold start does not pay for every other provider (the Stripe SDK alone is heavy).

Dedupe windows are at least each provider's documented retry window: Stripe retries for
3 days, MercadoPago for 4, Meta for about 7; Asaas keeps failed events queued (and pauses
after 15 failures) until the queue is resumed, so its window is the longest.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

from hub.errors import InvalidRequestError
from hub.events import HubEvent
from hub.webhooks.models import RawWebhook, WebhookSpec

DAY = 24 * 3600


def _evolution() -> WebhookSpec:
    from hub.providers.evolution.webhook import normalise_evolution_webhook, verify_evolution_webhook

    # Evolution puts the instance's API key in every webhook body ({event, instance, data,
    # destination, date_time, sender, server_url, apikey}: EvolutionAPI/evolution-api
    # src/api/integrations/event/webhook/webhook.controller.ts, sendData). Bodies are not signed
    # (a bearer token authenticates them), so nothing is lost by redacting.
    return WebhookSpec(
        "evolution",
        verify_evolution_webhook,
        normalise_evolution_webhook,
        7 * DAY,
        archive_redact=("apikey",),
    )


def _stripe() -> WebhookSpec:
    from hub.providers.stripe.webhook import normalise_stripe_webhook, verify_stripe_webhook

    # PaymentIntent, SetupIntent and Checkout Session objects carry a ``client_secret`` that
    # completes the payment and "should not be stored, logged, or exposed to anyone other than
    # the customer" (https://docs.stripe.com/api/payment_intents/object#payment_intent_object-client_secret).
    # Redacting it changes the signed bytes: replay does not verify signatures again.
    return WebhookSpec(
        "stripe", verify_stripe_webhook, normalise_stripe_webhook, 4 * DAY, archive_redact=("client_secret",)
    )


def _meta() -> WebhookSpec:
    from hub.providers.meta.webhook import meta_subscription_challenge, normalise_meta_webhook, verify_meta_webhook

    return WebhookSpec(
        "meta", verify_meta_webhook, normalise_meta_webhook, 8 * DAY, challenge=meta_subscription_challenge
    )


def _resend() -> WebhookSpec:
    from hub.providers.resend.webhook import normalise_resend_webhook, verify_resend_webhook

    return WebhookSpec("resend", verify_resend_webhook, normalise_resend_webhook, 7 * DAY)


def _asaas() -> WebhookSpec:
    from hub.providers.asaas.webhook import normalise_asaas_webhook, verify_asaas_webhook

    return WebhookSpec("asaas", verify_asaas_webhook, normalise_asaas_webhook, 30 * DAY)


def _pagbank() -> WebhookSpec:
    from hub.providers.pagbank.webhook import normalise_pagbank_webhook, verify_pagbank_webhook

    # PagBank documents no retry window for notifications; the longest of ours (as Asaas's).
    return WebhookSpec("pagbank", verify_pagbank_webhook, normalise_pagbank_webhook, 30 * DAY)


def _mercadopago() -> WebhookSpec:
    from hub.providers.mercadopago.webhook import normalise_mercadopago_webhook, verify_mercadopago_webhook

    return WebhookSpec("mercadopago", verify_mercadopago_webhook, normalise_mercadopago_webhook, 5 * DAY)


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

    return WebhookSpec("custom", verify, normalise, 7 * DAY, route="custom/<source>/<org_id>")


def _twilio() -> WebhookSpec:
    from hub.providers.twilio.client import TWIML_EMPTY_RESPONSE
    from hub.providers.twilio.webhook import normalise_twilio_webhook, parse_twilio_form, verify_twilio_webhook

    # Form-encoded bodies; Twilio expects TwiML back (an empty <Response/>: no auto-reply).
    return WebhookSpec(
        "twilio",
        verify_twilio_webhook,
        normalise_twilio_webhook,
        7 * DAY,
        parse_body=parse_twilio_form,
        success_content_type="text/xml",
        success_body=TWIML_EMPTY_RESPONSE,
    )


_FACTORIES: dict[str, Callable[[], WebhookSpec]] = {
    "evolution": _evolution,
    "stripe": _stripe,
    "meta": _meta,
    "resend": _resend,
    "asaas": _asaas,
    "mercadopago": _mercadopago,
    "pagbank": _pagbank,
    "custom": _custom,
    "twilio": _twilio,
}

WEBHOOK_PROVIDERS: tuple[str, ...] = tuple(_FACTORIES)


@cache
def webhook_spec(provider: str) -> WebhookSpec:
    factory = _FACTORIES.get(provider)
    if factory is None:
        raise InvalidRequestError(f"no webhook receiver for provider {provider!r}", code="unknown_provider")
    return factory()
