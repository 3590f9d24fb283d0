"""The safety net for lost PagBank notifications: charges still pending at PagBank after a
while are looked up (``GET /orders/{id}``, https://developer.pagbank.com.br/reference/consultar-pedido)
and what the order says is applied exactly as a notification would be.

A looked-up state becomes the same event as the notification of that state (same dedupe key:
:func:`hub.providers.pagbank.webhook.order_payment`), and goes through
:func:`hub.inbound.process_inbound_event`: if the notification did arrive, the lookup is a
duplicate and changes nothing; otherwise the charge moves through the same state machine
with the same amount check, the event is put on the bus and the first paid state starts the
NFS-e. The window (``PAGBANK_PENDING_AFTER_SECONDS``, 30 min by default) leaves notifications
time to arrive first; charges pending longer than ``PAGBANK_PENDING_MAX_AGE_DAYS`` (an
expired PIX, an unpaid boleto) are not looked up again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field

from hub.config import get_settings
from hub.errors import HubError
from hub.inbound import process_inbound_event
from hub.observability import logger
from hub.payments import store
from hub.providers import ports
from hub.providers.pagbank.client import PROVIDER
from hub.providers.pagbank.webhook import order_payment, payment_event
from hub.requests import OperationRequest


class PendingSyncRequest(OperationRequest):
    """Invoked by the schedule (no fields) or by hand."""

    now: datetime | None = Field(None, description="tests and replays: the time to act as (default: now)")


class PendingSyncResult(BaseModel):
    checked: int = 0
    applied: list[str] = Field(default_factory=list, description="org_id/charge_id whose order had news")
    failed: dict[str, str] = Field(default_factory=dict, description="org_id/charge_id -> error")


def sync_pending(request: PendingSyncRequest) -> PendingSyncResult:
    settings = get_settings()
    now = request.now or datetime.now(UTC)
    older_than = now - timedelta(seconds=settings.pagbank_pending_after_seconds)
    newer_than = now - timedelta(days=settings.pagbank_pending_max_age_days)
    result = PendingSyncResult()
    clients: dict[str, ports.OrderLookup] = {}
    for pending in store.pending_charges(PROVIDER, older_than=older_than, newer_than=newer_than):
        key = f"{pending.org_id}/{pending.charge_id}"
        result.checked += 1
        try:
            if _sync_one(pending, clients, now):
                result.applied.append(key)
        except HubError as exc:  # one org's outage or missing secret never stops the others
            result.failed[key] = f"{type(exc).__name__}: {exc.message}"
            logger.warning("pending_sync_failed", extra={"org_id": pending.org_id, "error": type(exc).__name__})
    logger.info("pending_sync", extra={"checked": result.checked, "applied": len(result.applied)})
    return result


def _sync_one(pending: store.PendingCharge, clients: dict[str, ports.OrderLookup], now: datetime) -> bool:
    charge = store.find_charge(pending.org_id, pending.charge_id)
    if charge is None or charge.provider != PROVIDER or not charge.provider_charge_id:
        return False
    order_id = charge.provider_charge_id
    if not order_id.startswith("ORDE_"):
        return False  # a checkout (CHEC_…): its orders are reported by notification only
    client = clients.get(pending.org_id)
    if client is None:
        client = clients[pending.org_id] = ports.for_org(ports.OrderLookup, pending.org_id, PROVIDER)
    order = client.get_order_payload(order_id)
    if order is None or order.get("reference_id") != charge.charge_id:
        logger.warning("pending_sync_order_not_ours", extra={"org_id": pending.org_id, "charge_id": charge.charge_id})
        return False
    payment = order_payment(order)
    if payment is None or payment.hub_type == "payment.updated":
        return False  # still waiting: nothing to apply
    event = payment_event(payment, org_id=pending.org_id, received_at=now, raw_ref=f"lookup:GET /orders/{order_id}")
    process_inbound_event(event)
    return True
