"""Asaas: inbound webhook (access-token check and normalisation to payment/subscription events).

The provider's API facts this module relies on, with their doc links: README.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from hub.brasilia import BRASILIA
from hub.errors import InvalidRequestError
from hub.events import HubEvent, PaymentData, SubscriptionData
from hub.providers.base.client import OptionalSecret, ProviderCredentials, parse_credentials
from hub.providers.base.webhook import matches_any, rotating_secrets
from hub.requests import MAX_CENTAVOS
from hub.resilience.ratelimit import DAY
from hub.webhooks.models import RawWebhook, WebhookAuthenticationError, WebhookSpec

PROVIDER = "asaas"
ACCESS_HEADER = "asaas-access-token"
# ``dateCreated`` carries no zone. Asaas is a Brazilian platform and the docs do not say; we
# read it as Brasília time, which has been a fixed UTC-03:00 since DST ended in 2019.
_DATE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class AsaasWebhookCredentials(ProviderCredentials):
    webhook_token: SecretStr = Field(min_length=1)
    # Accepted too while a token rotation is in progress.
    previous_webhook_token: OptionalSecret = None

    def tokens(self) -> list[str]:
        return rotating_secrets(self, "webhook_token", "previous_webhook_token")


def _parse_credentials(raw: Mapping[str, Any]) -> AsaasWebhookCredentials:
    return parse_credentials(AsaasWebhookCredentials, raw, provider=PROVIDER)


# https://docs.asaas.com/docs/receba-eventos-do-asaas-no-seu-endpoint-de-webhook ("Mantenha seu webhook seguro")
def verify_asaas_webhook(request: RawWebhook, secret: dict[str, Any]) -> None:
    """``asaas-access-token`` must equal the current or (while rotating) the previous token;
    compared in constant time."""
    creds = _parse_credentials(secret)
    token = request.header(ACCESS_HEADER)
    if not token:
        raise WebhookAuthenticationError("missing asaas-access-token header", provider=PROVIDER)
    if not matches_any(token, creds.tokens()):
        raise WebhookAuthenticationError("invalid asaas-access-token", provider=PROVIDER)


# ----- money ---------------------------------------------------------------------------------


# The largest amount an event may carry (R$ 10 bilhões, hub.requests.MAX_CENTAVOS in reais):
# anything larger is not a payment, and is compared without arithmetic (no Decimal overflow).
_MAX_REAIS = Decimal(MAX_CENTAVOS) / 100
_CENT = Decimal("0.01")


def read_centavos(value: Any, *, field: str) -> tuple[int | None, str | None]:
    """An Asaas money value (reais, a JSON number parsed as Decimal) → ``(centavos, None)``,
    or ``(None, problem)`` when it is not an amount of money: not a JSON number (a float means
    the body was parsed without ``parse_float=Decimal``; ``Infinity``/``NaN`` parse as floats),
    not finite, negative, larger than any payment, or with fractions of a centavo (rounding
    would move money). Never raises: the event is kept and flagged, never applied.
    Never goes through float: ``Decimal("1234.56")`` → 123456."""
    if value is None:
        return None, None
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None, f"{field}: not a JSON number"
    amount = Decimal(value)
    if not amount.is_finite():
        return None, f"{field}: not a finite number"
    if amount.is_signed() and amount != 0:
        return None, f"{field}: negative"
    if amount.copy_abs() > _MAX_REAIS:  # an exact comparison: no context, no overflow
        return None, f"{field}: larger than any payment"
    quantized = amount.quantize(_CENT)
    if quantized != amount:
        return None, f"{field}: has fractions of a centavo"
    return int(quantized * 100), None


def reais_to_centavos(value: Any, *, field: str) -> int | None:
    """:func:`read_centavos`, raising InvalidRequestError for what is not money."""
    centavos, problem = read_centavos(value, field=field)
    if problem:
        raise InvalidRequestError(problem, code="invalid_amount")
    return centavos


# ----- normalisation -------------------------------------------------------------------------


class _AsaasModel(BaseModel):
    # New attributes appear without notice (the docs warn about it): ignore them.
    model_config = ConfigDict(extra="ignore")


class _Envelope(_AsaasModel):
    id: str | None = None
    event: str = Field(min_length=1)
    dateCreated: str | None = None


class _Refund(_AsaasModel):
    status: str | None = None
    value: Any = None


# https://docs.asaas.com/docs/webhook-para-cobrancas (the payment object)
class _Payment(_AsaasModel):
    id: str = Field(min_length=1)
    customer: str | None = None
    subscription: str | None = None
    value: Any = None  # read by read_centavos, never coerced by pydantic
    externalReference: str | None = None
    billingType: str | None = None
    status: str = Field(min_length=1)
    refunds: list[_Refund] | None = None
    # Dates (``YYYY-MM-DD``, Brasília) of the payment itself: when the payer paid
    # (``clientPaymentDate``), when Asaas received it (``paymentDate``), when it was confirmed
    # (``confirmedDate``) — https://docs.asaas.com/docs/webhook-para-cobrancas (the payment object)
    clientPaymentDate: Any = None
    paymentDate: Any = None
    confirmedDate: Any = None


class _PaymentEvent(_Envelope):
    payment: _Payment


# https://docs.asaas.com/docs/eventos-para-assinaturas (the subscription object)
class _Subscription(_AsaasModel):
    id: str = Field(min_length=1)
    customer: str | None = None
    externalReference: str | None = None
    status: str = Field(min_length=1)


class _SubscriptionEvent(_Envelope):
    subscription: _Subscription


_PAYMENT_EVENTS = {
    "PAYMENT_CREATED": "payment.created",
    "PAYMENT_CONFIRMED": "payment.confirmed",
    "PAYMENT_RECEIVED": "payment.received",
    "PAYMENT_OVERDUE": "payment.overdue",
    "PAYMENT_REFUNDED": "payment.refunded",
    "PAYMENT_PARTIALLY_REFUNDED": "payment.refunded",
    "PAYMENT_DELETED": "payment.deleted",
    "PAYMENT_UPDATED": "payment.updated",
}
_SUBSCRIPTION_CANCELED = frozenset({"SUBSCRIPTION_DELETED", "SUBSCRIPTION_INACTIVATED"})


def _occurred_at(date_created: str | None, received_at: datetime) -> datetime:
    if date_created:
        try:
            return datetime.strptime(date_created, _DATE_TIME_FORMAT).replace(tzinfo=BRASILIA).astimezone(UTC)
        except ValueError:
            pass
    return received_at


def _paid_at(payment: _Payment, sent_at: datetime) -> datetime | None:
    """When the charge was paid, from the payment's own dates (the first present of
    ``clientPaymentDate``, ``paymentDate``, ``confirmedDate``), never from the event's
    ``dateCreated``: a delivery retried, or a PAYMENT_UPDATED sent days later, would move it.

    Asaas gives a day in Brasília time, not an instant: when the event was sent that same
    Brasília day, its instant is kept (the events fire as the payment happens); otherwise the
    start of that day in Brasília."""
    for raw in (payment.clientPaymentDate, payment.paymentDate, payment.confirmedDate):
        if not isinstance(raw, str):
            continue
        try:
            day = date.fromisoformat(raw[:10])
        except ValueError:
            continue
        if sent_at.astimezone(BRASILIA).date() == day:
            return sent_at
        return datetime.combine(day, time(0), tzinfo=BRASILIA).astimezone(UTC)
    return None


def _refunded_centavos(event: str, payment: _Payment, amount: int | None) -> tuple[int | None, str | None]:
    """Sum of the DONE refunds (https://docs.asaas.com/docs/refunds: PENDING, CANCELLED, DONE);
    without a refunds list, PAYMENT_REFUNDED means the whole charge was refunded."""
    if payment.refunds:
        total = 0
        for refund in payment.refunds:
            if refund.status != "DONE":
                continue
            centavos, problem = read_centavos(refund.value, field="payment.refunds.value")
            if problem:
                return None, problem
            total += centavos or 0
        return total, None
    return (amount if event == "PAYMENT_REFUNDED" else None), None


def _payment_event(payload: Any, envelope: _Envelope, hub_type: str, sent_at: datetime) -> tuple[str, PaymentData]:
    parsed = _PaymentEvent.model_validate(payload)
    payment = parsed.payment
    amount, problem = read_centavos(payment.value, field="payment.value")
    refunded: int | None = None
    if hub_type == "payment.refunded":
        refunded, refund_problem = _refunded_centavos(envelope.event, payment, amount)
        problem = problem or refund_problem
    data = PaymentData(
        payment_id=payment.id,
        external_reference=payment.externalReference,
        status=payment.status,
        amount_cents=amount,
        currency="BRL",
        # BOLETO, CREDIT_CARD, PIX, UNDEFINED, … → boleto, credit_card, pix, undefined, …
        method=payment.billingType.lower() if payment.billingType else None,
        customer_id=payment.customer,
        subscription_id=payment.subscription,
        refunded_cents=refunded,
        paid_at=_paid_at(payment, sent_at),
        amount_problem=problem,
    )
    return payment.id, data


def _subscription_event(payload: Any) -> tuple[str, SubscriptionData]:
    subscription = _SubscriptionEvent.model_validate(payload).subscription
    data = SubscriptionData(
        subscription_id=subscription.id,
        status=subscription.status,
        customer_id=subscription.customer,
        external_reference=subscription.externalReference,
    )
    return subscription.id, data


# https://docs.asaas.com/docs/webhook-para-cobrancas, https://docs.asaas.com/docs/eventos-para-assinaturas
def normalise_asaas_webhook(
    payload: Any, *, org_id: str, received_at: datetime, raw_ref: str, request: RawWebhook | None = None
) -> list[HubEvent]:
    """Payment and subscription events → ``payment.*`` / ``subscription.*``, deduplicated on
    the event id (the docs: the same event always carries the same id). Other events
    (transfers, invoices, PAYMENT_BANK_SLIP_VIEWED, …) are archived but produce no event."""
    envelope = _Envelope.model_validate(payload)
    occurred_at = _occurred_at(envelope.dateCreated, received_at)
    data: BaseModel
    if envelope.event in _PAYMENT_EVENTS:
        hub_type = _PAYMENT_EVENTS[envelope.event]
        object_id, data = _payment_event(payload, envelope, hub_type, occurred_at)
    elif envelope.event.startswith("SUBSCRIPTION_"):
        hub_type = "subscription.canceled" if envelope.event in _SUBSCRIPTION_CANCELED else "subscription.updated"
        object_id, data = _subscription_event(payload)
    else:
        return []
    return [
        HubEvent.build(
            org_id=org_id,
            provider=PROVIDER,
            type=hub_type,
            dedupe_key=envelope.id or f"{envelope.event}:{object_id}",
            occurred_at=occurred_at,
            received_at=received_at,
            data=data,
            raw_ref=raw_ref,
        )
    ]


# The dedupe window is at least the provider's documented retry window.
# Asaas keeps failed events queued (and pauses after 15 failures) until the queue is resumed,
# so its dedupe window is the longest.
WEBHOOK = WebhookSpec("asaas", verify_asaas_webhook, normalise_asaas_webhook, 30 * DAY)
