"""Payment webhooks (normalised ``payment.*`` events) move the charges the hub created.

The charge is found by our id (``external_reference``: Asaas ``externalReference``,
MercadoPago ``external_reference``); events about charges the hub did not create are only
published. The transition is guarded (:mod:`hub.payments.store`), so duplicates and
out-of-order deliveries change nothing. A payment event whose amount is not the charge's
(or is not money at all) never marks it paid: AMOUNT_MISMATCH, ``payment.amount_mismatch``,
no invoice. The first delivery that makes a charge paid starts invoicing (once: the NFS-e
execution is named after the charge); a refund starts the cancellation of the charge's invoice.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from hub.aws import aws_client
from hub.bus import put_event
from hub.config import get_settings
from hub.events import HubEvent, PaymentData
from hub.observability import logger
from hub.payments import store
from hub.payments.store import ChargeState
from hub.providers import ports

# hub event type → charge state (``payment.updated`` goes by the provider's status below)
EVENT_STATES: dict[str, ChargeState] = {
    "payment.confirmed": "CONFIRMED",
    "payment.received": "RECEIVED",
    "payment.overdue": "OVERDUE",
    "payment.failed": "FAILED",
    "payment.deleted": "CANCELLED",
}
# Asaas payment statuses (https://docs.asaas.com/reference/list-payments, ``status``)
PROVIDER_STATUSES: dict[str, ChargeState] = {
    "CONFIRMED": "CONFIRMED",
    "RECEIVED": "RECEIVED",
    "RECEIVED_IN_CASH": "RECEIVED",
    "OVERDUE": "OVERDUE",
    "REFUNDED": "REFUNDED",
    # after a MercadoPago lookup (below), its status is already ours
    "CANCELLED": "CANCELLED",
    "FAILED": "FAILED",
}


def target_state(event: HubEvent, data: PaymentData, amount_cents: int) -> ChargeState | None:
    if event.type == "payment.refunded":
        refunded = data.refunded_cents
        return "PARTIALLY_REFUNDED" if refunded is not None and refunded < amount_cents else "REFUNDED"
    if event.type in EVENT_STATES:
        return EVENT_STATES[event.type]
    if event.type == "payment.updated":
        return PROVIDER_STATUSES.get(data.status.upper())
    return None


# MercadoPago payment statuses (https://www.mercadopago.com.br/developers/en/reference/payments/_payments_id/get)
MERCADOPAGO_STATUSES: dict[str, ChargeState] = {
    "approved": "RECEIVED",
    "refunded": "REFUNDED",
    "charged_back": "REFUNDED",
    "cancelled": "CANCELLED",
    "rejected": "FAILED",
}


def _mercadopago_lookup(event: HubEvent, data: PaymentData) -> PaymentData | None:
    """MercadoPago notifications carry only the payment id: fetch the payment (its status
    and our external_reference)."""
    payment = ports.for_org(ports.PaymentLookup, event.org_id, event.provider).get_payment(data.payment_id)
    state = MERCADOPAGO_STATUSES.get(payment.status)
    if state is None:
        return None
    return data.model_copy(
        update={
            "status": state,
            "external_reference": payment.charge_id or None,
            "amount_cents": payment.amount_cents,
            "paid_at": payment.paid_at,
        }
    )


def apply_payment_event(event: HubEvent) -> None:
    data = PaymentData.model_validate(event.data)
    if data.status == "pending_lookup" and ports.supports(event.provider, ports.PaymentLookup):
        looked_up = _mercadopago_lookup(event, data)
        if looked_up is None:
            return
        data = looked_up
    if not data.external_reference:
        return
    charge = store.find_charge(event.org_id, data.external_reference)
    if charge is None:
        logger.info("payment_event_for_unknown_charge", extra={"org_id": event.org_id, "type": event.type})
        return
    target = target_state(event, data, charge.amount_cents)
    if target is None:
        return
    if target in store.PAID_STATES:
        problem = amount_problem(data, charge.amount_cents)
        if problem:
            flag_amount_mismatch(event, data, charge, problem)
            return
    elif data.amount_problem:
        # e.g. a refund whose value is not money: announced by nobody, applied never.
        logger.warning(
            "payment_event_amount_not_applied",
            extra={"org_id": event.org_id, "charge_id": charge.charge_id, "problem": data.amount_problem},
        )
        return
    moved = store.transition(
        event.org_id,
        charge.charge_id,
        target,
        refunded_cents=data.refunded_cents,
        at=event.occurred_at,
        # the payment's own date; without one, when the hub learnt of it (never the event's send time)
        paid_at=data.paid_at or event.received_at,
    )
    logger.info(
        "charge_transition",
        extra={"org_id": event.org_id, "charge_id": charge.charge_id, "to": target, "applied": moved.applied},
    )
    if moved.first_paid:
        start_invoicing(event.org_id, charge.charge_id)
    if moved.applied and target in ("REFUNDED", "PARTIALLY_REFUNDED") and charge.invoice_status == "autorizada":
        start_invoicing(event.org_id, charge.charge_id, action="cancel")


def amount_problem(data: PaymentData, expected_cents: int) -> str | None:
    """Why a payment event must not mark the charge paid, or None when its amount is the
    charge's. A provider's amount that is not money, or that is missing, or that differs by a
    centavo, never counts as payment."""
    if data.amount_problem:
        return data.amount_problem
    if data.amount_cents is None:
        return "the payment event carries no amount"
    if data.amount_cents != expected_cents:
        return f"paid {data.amount_cents} centavos for a charge of {expected_cents}"
    return None


def flag_amount_mismatch(event: HubEvent, data: PaymentData, charge: store.ChargeRecord, problem: str) -> None:
    """The charge is not paid: AMOUNT_MISMATCH (unless it already is paid), no invoice, and
    ``payment.amount_mismatch`` on the bus with both amounts for a person to look at."""
    moved = store.flag_amount_mismatch(
        event.org_id, charge.charge_id, reported_cents=data.amount_cents, problem=problem, at=event.occurred_at
    )
    logger.warning(
        "payment_amount_mismatch",
        extra={"org_id": event.org_id, "charge_id": charge.charge_id, "problem": problem, "moved": moved},
    )
    put_event(
        "payment.amount_mismatch",
        {
            "org_id": event.org_id,
            "charge_id": charge.charge_id,
            "provider": event.provider,
            "payment_id": data.payment_id,
            "event_id": event.event_id,
            "event_type": event.type,
            "expected_cents": charge.amount_cents,
            "reported_cents": data.amount_cents,
            "problem": problem,
            "status": "AMOUNT_MISMATCH" if moved else charge.status,
        },
    )


def start_invoicing(org_id: str, charge_id: str, *, action: str = "emit") -> str | None:
    """Start the NFS-e workflow for a charge, once per action (the execution name is the key)."""
    machine = get_settings().nfse_state_machine_arn
    if not machine:
        logger.warning("nfse_workflow_not_configured", extra={"org_id": org_id, "charge_id": charge_id})
        return None
    name = f"{org_id}--{charge_id}--{action}"
    payload: dict[str, Any] = {"org_id": org_id, "charge_id": charge_id, "action": action}
    try:
        response = aws_client("stepfunctions").start_execution(
            stateMachineArn=machine, name=name, input=json.dumps({"request": payload})
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ExecutionAlreadyExists":
            return None
        raise
    return str(response["executionArn"])
