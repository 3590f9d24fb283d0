"""What the hub does with a normalised inbound event once it is off the queue.

* ``message.received``: remember when the contact last wrote to us (WhatsApp's 24-hour
  customer-service window is counted from it); a reply that is only "SAIR"/"STOP"-style
  opts the contact out of that channel ("VOLTAR"/"START" back in), announced as
  ``contact.opted_out`` / ``contact.opted_in``.
* ``message.status`` (WhatsApp, SMS) and ``email.*`` (Resend): move the message's record
  forward; a failure of a message a NotifyContact run sent continues that run on the next
  channel; bounces, complaints and provider suppressions put the address on the org's
  suppression list.
* then publish the event on the hub's EventBridge bus for downstream services.

Processing is idempotent: an event counts as delivered once it is on the bus, and a copy
of a delivered event is skipped (:mod:`hub.webhooks.delivery`); the state updates never move
anything backwards either. A copy published twice anyway (the delivery mark could not be
written) carries the same event id, which subscribers dedupe on.
"""

from __future__ import annotations

from hub.bus import put_events
from hub.events import EmailEventData, HubEvent, InboundMessage, MessageStatusData
from hub.messaging import contacts, records
from hub.messaging.records import MessageState
from hub.observability import logger, metrics
from hub.webhooks import delivery

# Resend tracking events → message state (``email.delivery_delayed`` and
# ``email.complained`` leave the state as it is).
EMAIL_STATES: dict[str, MessageState] = {
    "email.sent": "sent",
    "email.delivered": "delivered",
    "email.opened": "read",
    "email.clicked": "read",
    "email.bounced": "failed",
    "email.failed": "failed",
    "email.suppressed": "failed",
}


def record_inbound_message(event: HubEvent) -> list[HubEvent]:
    """Returns the consent events the message caused (to publish)."""
    message = InboundMessage.model_validate(event.data)
    contacts.record_inbound(
        event.org_id,
        message.channel,
        message.from_address,
        at=event.occurred_at,
        message_id=message.message_id,
        provider=event.provider,
        name=message.from_name,
    )
    decision = contacts.consent_keyword(message.text)
    if decision is None:
        return []
    applied = contacts.set_consent(
        event.org_id,
        message.channel,
        message.from_address,
        decision,
        source=f"reply via {event.provider} ({message.message_id})",
        at=event.occurred_at,
    )
    logger.info("consent_from_reply", extra={"org_id": event.org_id, "channel": message.channel, "status": decision})
    if not applied:
        return []
    return [
        HubEvent(
            event_id=f"{event.event_id}:consent",
            org_id=event.org_id,
            provider=event.provider,
            type=f"contact.{decision}",
            dedupe_key=f"{event.dedupe_key}:consent",
            occurred_at=event.occurred_at,
            received_at=event.received_at,
            data={"channel": message.channel, "address": message.from_address, "source": "reply"},
            raw_ref=event.raw_ref,
        )
    ]


def record_message_status(event: HubEvent) -> None:
    status = MessageStatusData.model_validate(event.data)
    applied = records.apply_status(
        event.org_id,
        status.message_id,
        status.status,
        at=event.occurred_at,
        channel=status.channel,
        error_code=status.error_code,
        error_reason=status.error_message,
    )
    if applied and status.status == "failed":
        reason = " ".join(part for part in (status.error_code, status.error_message) if part) or "failed"
        from hub.messaging.notify import continue_after_failure  # the chain's deps only when needed

        continue_after_failure(event.org_id, status.message_id, reason=reason)


def record_email_event(event: HubEvent) -> None:
    data = EmailEventData.model_validate(event.data)
    state = EMAIL_STATES.get(event.type)
    if state is not None:
        applied = records.apply_status(
            event.org_id,
            data.email_id,
            state,
            at=event.occurred_at,
            channel="email",
            provider=event.provider,
            error_code=event.type.removeprefix("email.") if state == "failed" else None,
            error_reason=data.reason if state == "failed" else None,
        )
        if applied and state == "failed":
            from hub.messaging.notify import continue_after_failure

            continue_after_failure(event.org_id, data.email_id, reason=data.reason or event.type)
    reason = _suppression_reason(event.type, data)
    if reason is not None:
        for address in data.to:
            contacts.suppress_email(event.org_id, address, reason=reason, at=event.occurred_at)
        logger.info("email_suppressed", extra={"org_id": event.org_id, "type": event.type, "count": len(data.to)})


def _suppression_reason(event_type: str, data: EmailEventData) -> str | None:
    if event_type == "email.complained":
        return "complaint (marked as spam)"
    if event_type == "email.suppressed":
        return f"suppressed by the provider: {data.reason}" if data.reason else "suppressed by the provider"
    if event_type == "email.bounced":
        # Resend's bounce.type: Permanent (hard) / Transient (soft) / Undetermined. Only a
        # hard bounce means the address will never work.
        if data.reason and not data.reason.lower().startswith("permanent"):
            return None
        return f"hard bounce: {data.reason}" if data.reason else "hard bounce"
    return None


def publish_to_bus(events: list[HubEvent]) -> None:
    put_events((event.type, event.model_dump(mode="json")) for event in events)


def process_inbound_event(event: HubEvent) -> None:
    """Apply the event and put it on the bus, once: a copy of an event already on the bus
    (a redelivery, a replay, a redrive) is skipped; a copy that another consumer is processing
    right now waits (RequestInProgressError, redelivered after the lease)."""
    state, token = delivery.claim(event.event_id)
    if state == "delivered":
        metrics.add_metric(name="InboundEventDuplicate", unit="Count", value=1)
        logger.info(
            "inbound_event_duplicate",
            extra={"event_id": event.event_id, "type": event.type, "provider": event.provider, "org_id": event.org_id},
        )
        return
    try:
        extra: list[HubEvent] = []
        if event.type == "message.received":
            extra = record_inbound_message(event)
        elif event.type == "message.status":
            record_message_status(event)
        elif event.type.startswith("email."):
            record_email_event(event)
        elif event.type.startswith("payment."):
            from hub.payments.state import apply_payment_event  # payments' deps only when needed

            apply_payment_event(event)
        publish_to_bus([event, *extra])
    except BaseException:
        try:
            delivery.release(event.event_id, token)
        except Exception:  # noqa: BLE001 - the lease expires by itself; the first error is the one to report
            logger.exception("delivery_release_failed", extra={"event_id": event.event_id})
        raise
    try:
        delivery.mark_delivered(event.event_id)
    except Exception:  # noqa: BLE001 - it is on the bus: failing the record would publish it twice
        # Without the mark a later redelivery is enqueued and published again (at least once).
        logger.exception("delivery_mark_failed", extra={"event_id": event.event_id})
    logger.info(
        "inbound_event_processed",
        extra={"event_id": event.event_id, "type": event.type, "provider": event.provider, "org_id": event.org_id},
    )
