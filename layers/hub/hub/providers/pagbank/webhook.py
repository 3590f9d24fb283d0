"""PagBank: inbound notifications (x-authenticity-token check, normalisation to payment events).

The provider's API facts this module relies on, with their doc links: README.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hub.events import HubEvent, PaymentData
from hub.providers.base.client import OptionalSecret, ProviderCredentials, parse_credentials
from hub.providers.base.webhook import matches_any, rotating_secrets
from hub.requests import MAX_CENTAVOS
from hub.resilience.ratelimit import DAY
from hub.webhooks.models import RawWebhook, WebhookAuthenticationError, WebhookSpec

PROVIDER = "pagbank"
SIGNATURE_HEADER = "x-authenticity-token"
_SHA256_HEX = 64

# PagBank charge status → hub event type (payment.updated: the status is kept, the charge
# does not move). https://developer.pagbank.com.br/reference/webhooks-checkout (statuses),
# https://developer.pagbank.com.br/reference/objeto-charge (AUTHORIZED: pre-authorised).
STATUS_EVENTS: dict[str, str] = {
    "PAID": "payment.received",
    "DECLINED": "payment.failed",
    "CANCELED": "payment.deleted",
    "AUTHORIZED": "payment.updated",
    "IN_ANALYSIS": "payment.updated",
    "WAITING": "payment.updated",
}


class PagBankWebhookCredentials(ProviderCredentials):
    token: OptionalSecret = None
    notification_token: OptionalSecret = None
    previous_notification_token: OptionalSecret = None

    def tokens(self) -> list[str]:
        current = "notification_token" if self.notification_token else "token"
        return rotating_secrets(self, current, "previous_notification_token")


def _parse_credentials(raw: Mapping[str, Any]) -> PagBankWebhookCredentials:
    return parse_credentials(PagBankWebhookCredentials, raw, provider=PROVIDER)


def authenticity_token(token: str, body: bytes) -> str:
    """``hex(sha256("{token}-{body}"))`` over the body bytes as received."""
    return hashlib.sha256(token.encode("utf-8") + b"-" + body).hexdigest()


# https://developer.pagbank.com.br/reference/confirmar-autenticidade-da-notificacao
def verify_pagbank_webhook(request: RawWebhook, secret: dict[str, Any]) -> None:
    """``x-authenticity-token`` must be the SHA-256 of ``{token}-{raw body}`` for the current
    or (while rotating) the previous token; compared in constant time, every candidate."""
    creds = _parse_credentials(secret)
    tokens = creds.tokens()
    if not tokens:
        raise WebhookAuthenticationError("no PagBank token is configured for this org", provider=PROVIDER)
    given = (request.header(SIGNATURE_HEADER) or "").strip().lower()
    if not given:
        raise WebhookAuthenticationError("missing x-authenticity-token header", provider=PROVIDER)
    if len(given) != _SHA256_HEX:
        raise WebhookAuthenticationError("malformed x-authenticity-token header", provider=PROVIDER)
    if not matches_any(given.encode("ascii", "replace"), [authenticity_token(token, request.body) for token in tokens]):
        raise WebhookAuthenticationError("invalid x-authenticity-token", provider=PROVIDER)


# ----- normalisation -------------------------------------------------------------------------


class _PagBankModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Summary(_PagBankModel):
    total: Any = None
    paid: Any = None
    refunded: Any = None


class _Amount(_PagBankModel):
    value: Any = None  # centavos; read by _centavos, never coerced
    currency: str | None = None
    summary: _Summary | None = None


class _Method(_PagBankModel):
    type: str | None = None


class _Charge(_PagBankModel):
    id: str = Field(min_length=1)
    reference_id: str | None = None
    status: str = Field(min_length=1)
    paid_at: datetime | None = None
    amount: _Amount | None = None
    payment_method: _Method | None = None


class _Order(_PagBankModel):
    id: str = Field(min_length=1)
    reference_id: str | None = None
    charges: list[_Charge] | None = None


def _centavos(value: Any, field: str) -> tuple[int | None, str | None]:
    """PagBank amounts are integer centavos; anything else is not money (flagged, never applied)."""
    if value is None:
        return None, None
    if isinstance(value, bool) or not isinstance(value, int):
        return None, f"{field}: not an integer number of centavos"
    if value < 0:
        return None, f"{field}: negative"
    if value > MAX_CENTAVOS:
        return None, f"{field}: larger than any payment"
    return value, None


def _paid_centavos(charge: _Charge) -> tuple[int | None, str | None]:
    amount = charge.amount or _Amount()
    if amount.summary is not None and amount.summary.paid is not None:
        return _centavos(amount.summary.paid, "charges.amount.summary.paid")
    return _centavos(amount.value, "charges.amount.value")


class PagBankPayment(BaseModel):
    """What one order (or charge) says about the payment of our charge."""

    hub_type: str
    data: PaymentData
    dedupe_key: str


def order_payment(payload: Any) -> PagBankPayment | None:
    """An Order (or a bare Charge) → the payment event it stands for, or None when it carries
    no charge yet (a PIX order before payment, a checkout event) or its status is unknown.

    The charge that speaks for the order is a PAID one when there is one (PIX orders get a
    charge only once paid), else the last. A PAID order's amount is what its PAID charges were
    paid together; a CANCELED charge that had been paid is a refund (``summary.refunded``)."""
    if not isinstance(payload, dict):
        return None
    if str(payload.get("id", "")).startswith("CHAR_") and "charges" not in payload:
        charge = _Charge.model_validate(payload)
        order_id, reference, charges = charge.id, charge.reference_id, [charge]
    else:
        order = _Order.model_validate(payload)
        order_id, reference, charges = order.id, order.reference_id, order.charges or []
    if not charges:
        return None
    paid = [c for c in charges if c.status.upper() == "PAID"]
    charge = paid[0] if paid else charges[-1]
    status = charge.status.upper()
    hub_type = STATUS_EVENTS.get(status)
    if hub_type is None:
        return None
    amount: int | None
    problem: str | None = None
    if paid:
        total = 0
        for item in paid:
            cents, problem = _paid_centavos(item)
            if problem or cents is None:
                problem = problem or "charges.amount: missing"
                break
            total += cents
        amount = None if problem else total
    else:
        amount, problem = _centavos((charge.amount or _Amount()).value, "charges.amount.value")
    refunded: int | None = None
    summary = (charge.amount or _Amount()).summary
    if status == "CANCELED" and summary is not None and summary.paid:
        refunded, refund_problem = _centavos(summary.refunded, "charges.amount.summary.refunded")
        if refunded:
            hub_type = "payment.refunded"
        problem = problem or refund_problem
    method = charge.payment_method.type.lower() if charge.payment_method and charge.payment_method.type else None
    data = PaymentData(
        payment_id=order_id,
        external_reference=reference or charge.reference_id,
        status=status,
        amount_cents=amount,
        currency=(charge.amount.currency if charge.amount and charge.amount.currency else "BRL"),
        method=method,
        refunded_cents=refunded,
        paid_at=charge.paid_at,
        amount_problem=problem,
    )
    # No event id in PagBank's notifications: the key is the state they report, so the same
    # state reported twice (a resend, or the scheduled lookup after a notification) is one event.
    dedupe_key = f"{order_id}:{charge.id}:{status}:{amount}:{refunded}"
    return PagBankPayment(hub_type=hub_type, data=data, dedupe_key=dedupe_key)


# https://developer.pagbank.com.br/reference/webhooks
def normalise_pagbank_webhook(
    payload: Any, *, org_id: str, received_at: datetime, raw_ref: str, request: RawWebhook | None = None
) -> list[HubEvent]:
    """An order's (or charge's) status change → one ``payment.*`` event about our charge
    (``external_reference`` = the order's ``reference_id``, our charge id)."""
    payment = order_payment(payload)
    if payment is None:
        return []
    return [payment_event(payment, org_id=org_id, received_at=received_at, raw_ref=raw_ref)]


def payment_event(payment: PagBankPayment, *, org_id: str, received_at: datetime, raw_ref: str) -> HubEvent:
    return HubEvent.build(
        org_id=org_id,
        provider=PROVIDER,
        type=payment.hub_type,
        dedupe_key=payment.dedupe_key,
        occurred_at=payment.data.paid_at or received_at,
        received_at=received_at,
        data=payment.data,
        raw_ref=raw_ref,
    )


# The dedupe window is at least the provider's documented retry window.
# PagBank documents no retry window for notifications; the longest of ours (as Asaas's).
WEBHOOK = WebhookSpec("pagbank", verify_pagbank_webhook, normalise_pagbank_webhook, 30 * DAY)
