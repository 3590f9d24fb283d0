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

Before any of that, a record whose message carries its request's archive document (the
receivers' warm path, :mod:`hub.webhooks.ingress`) has it written to S3: nothing is processed
before its raw request is archived.

Processing is idempotent: an event counts as delivered once it is on the bus, and a copy
of a delivered event is skipped (:mod:`hub.webhooks.delivery`); the state updates never move
anything backwards either. A batch claims its events side by side (one conditional put each),
applies its contacts' updates side by side (one lane per contact), publishes them with one
PutEvents per 10 entries and marks them delivered in one BatchWriteItem
(:class:`InboundBatch`). A copy published twice anyway (the delivery mark could not be
written) carries the same event id, which subscribers dedupe on.
"""

from __future__ import annotations

import json
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from hub import eventlog
from hub.aws import aws_client
from hub.batch import process_sqs_batch
from hub.bus import EVENT_SOURCE, put_events
from hub.config import get_settings
from hub.errors import InvalidRequestError, ProviderUnavailableError, RequestInProgressError
from hub.events import EmailEventData, HubEvent, InboundMessage, MessageStatusData
from hub.messaging import contacts, records
from hub.messaging.records import MessageState
from hub.observability import logger, metrics
from hub.webhooks import delivery
from hub.webhooks.archive import CARRIED_DOCUMENT, CARRIED_KEY, store_archive

_PUT_EVENTS_BATCH = 10  # PutEvents takes at most 10 entries per call

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


def apply_effects(event: HubEvent) -> list[HubEvent]:
    """What the event changes in the hub's own state; returns the events it caused (to publish
    with it)."""
    if event.type == "message.received":
        return record_inbound_message(event)
    if event.type == "message.status":
        record_message_status(event)
    elif event.type.startswith("email."):
        record_email_event(event)
    elif event.type.startswith("payment."):
        from hub.payments.state import apply_payment_event  # payments' deps only when needed

        apply_payment_event(event)
    return []


def _log_duplicate(event: HubEvent) -> None:
    metrics.add_metric(name="InboundEventDuplicate", unit="Count", value=1)
    logger.info(
        "inbound_event_duplicate",
        extra={"event_id": event.event_id, "type": event.type, "provider": event.provider, "org_id": event.org_id},
    )


def _log_processed(event: HubEvent) -> None:
    logger.info(
        "inbound_event_processed",
        extra={"event_id": event.event_id, "type": event.type, "provider": event.provider, "org_id": event.org_id},
    )


def _release(event_id: str, token: str) -> None:
    try:
        delivery.release(event_id, token)
    except Exception:  # noqa: BLE001 - the lease expires by itself; the first error is the one to report
        logger.exception("delivery_release_failed", extra={"event_id": event_id})


def process_inbound_event(event: HubEvent) -> None:
    """Apply the event and put it on the bus, once: a copy of an event already on the bus
    (a redelivery, a replay, a redrive) is skipped; a copy that another consumer is processing
    right now waits (RequestInProgressError, redelivered after the lease). One event at a
    time; the consumer's batches go through :class:`InboundBatch`, which does the same."""
    state, token = delivery.claim(event.event_id)
    if state == "delivered":
        _log_duplicate(event)
        eventlog.record_inbound(event, "duplicate")
        return
    try:
        publish_to_bus([event, *apply_effects(event)])
    except BaseException as exc:
        _release(event.event_id, token)
        eventlog.record_inbound(event, "failed", error=exc)
        raise
    try:
        delivery.mark_delivered(event.event_id)
    except Exception:  # noqa: BLE001 - it is on the bus: failing the record would publish it twice
        # Without the mark a later redelivery is enqueued and published again (at least once).
        logger.exception("delivery_mark_failed", extra={"event_id": event.event_id})
    _log_processed(event)
    eventlog.record_inbound(event, "delivered")


# ----- a batch of queue records ---------------------------------------------------------------------------------


@dataclass
class _Pending:
    """A record whose effects are applied and whose events wait for the batch's PutEvents."""

    event: HubEvent
    extra: list[HubEvent]
    token: str


@dataclass
class _Plan:
    """A record's fate, decided by :meth:`InboundBatch.prepare`: fail with ``error``, skip as a
    ``duplicate``, or process under the claim ``token`` (``effects``: its effects running on
    the pool)."""

    event: HubEvent | None = None
    error: Exception | None = None
    archive_failed: bool = False
    duplicate: bool = False
    token: str | None = None
    effects: Future[list[HubEvent]] | None = None


def _contact_lane(event: HubEvent) -> str:
    """The contact a ``message.received`` event updates (its lane: applied in queue order)."""
    try:
        message = InboundMessage.model_validate(event.data)
    except Exception:  # noqa: BLE001 - a lane of its own; apply_effects raises the error
        return f"invalid#{event.event_id}"
    key = contacts.contact_key(event.org_id, message.channel, message.from_address)
    return f"{key['org_id']['S']}#{key['contact']['S']}"


def _apply_in_order(lane: list[tuple[HubEvent, str, Future[list[HubEvent]]]]) -> None:
    """One contact's events, one after the other; each failure is its own record's (its claim
    released here), the next event still runs — as when the records ran one by one."""
    for event, token, result in lane:
        try:
            result.set_result(apply_effects(event))
        except BaseException as exc:  # noqa: BLE001 - handed to that record's handler
            _release(event.event_id, token)
            result.set_exception(exc)


def _carried_archive(record: dict[str, Any]) -> tuple[str, str] | None:
    attributes = record.get("messageAttributes") or {}
    key = (attributes.get(CARRIED_KEY) or {}).get("stringValue")
    document = (attributes.get(CARRIED_DOCUMENT) or {}).get("stringValue")
    return (key, document) if key and document is not None else None


class InboundBatch:
    """One invocation's records, with the AWS calls batched (hub.batch.BatchSteps):

    * prepare: write the archive documents the receivers carried in the messages (in
      parallel) and claim every event id (one conditional put each, in parallel with the
      archives: :func:`delivery.claim_many`);
      then decide each record's fate in order (a copy of an event this batch already has or
      that is on the bus is skipped) and start the ``message.received`` effects — one
      conditional contact update each, the bulk of a batch's time — in parallel, one lane per
      contact: two messages of the same contact in one batch are applied one after the other,
      in queue order; different contacts' run side by side;
    * per record (in order): wait for its effects (or apply them, for the other event types,
      in order on this thread as before); nothing is published yet;
    * finish: PutEvents for the whole batch (10 entries per call), then the delivery marks in
      one BatchWriteItem. A record whose entries the bus refused fails (its claim is released)
      and comes back; the others are done.

    A record whose effects failed fails alone (its claim is released, the others go on).
    A record is processed only once its request's archive is written: if writing it failed,
    the record fails before anything happens and comes back with the archive still in it
    (written again on the retry: the same key and bytes). A consumer that crashed after
    archiving leaves claims that expire with their lease; the redelivered message writes the
    archive again and is processed then."""

    def __init__(self) -> None:
        self.events: dict[str, HubEvent | Exception] = {}
        self.archive_errors: dict[str, Exception] = {}
        self.claims: dict[str, tuple[delivery.Claim, str] | Exception] = {}
        self.taken: set[str] = set()
        self.plan: dict[str, _Plan] = {}
        # Each event's outcome for the event log (hub.eventlog), written at the end of the batch.
        self.outcomes: list[tuple[HubEvent, str, BaseException | None]] = []

    def prepare(self, records: list[dict[str, Any]]) -> None:
        carried: list[tuple[str, str, str]] = []
        for record in records:
            message_id = record["messageId"]
            try:
                self.events[message_id] = HubEvent.model_validate_json(record["body"])
            except Exception as exc:  # noqa: BLE001 - raised by that record's handler
                self.events[message_id] = exc
                continue
            archive = _carried_archive(record)
            if archive is None:
                continue
            event = self.events[message_id]
            assert isinstance(event, HubEvent)
            if archive[0] != event.raw_ref or not archive[0].startswith(f"raw/{event.provider}/{event.org_id}/"):
                # Only the receiver's own key for this event's request: a message cannot write elsewhere.
                self.archive_errors[message_id] = InvalidRequestError(
                    "the carried archive's key is not the event's raw_ref", code="archive_key_mismatch"
                )
                continue
            carried.append((message_id, *archive))
        ids = [e.event_id for e in self.events.values() if isinstance(e, HubEvent)]
        writes = [_pool().submit(self._archive, message_id, key, document) for message_id, key, document in carried]
        try:
            self.claims = delivery.claim_many(ids, executor=_pool())
        except Exception as exc:  # noqa: BLE001 - every record fails with it and comes back
            self.claims = dict.fromkeys(ids, exc)
        for write in writes:
            write.result()
        lanes: dict[str, list[tuple[HubEvent, str, Future[list[HubEvent]]]]] = {}
        for record in records:
            plan = self._plan(record["messageId"])
            self.plan[record["messageId"]] = plan
            if plan.token is not None and plan.event is not None and plan.event.type == "message.received":
                plan.effects = Future()
                lanes.setdefault(_contact_lane(plan.event), []).append((plan.event, plan.token, plan.effects))
        for lane in lanes.values():
            _pool().submit(_apply_in_order, lane)

    def _plan(self, message_id: str) -> _Plan:
        """What the record's handler does, decided in queue order (as Powertools calls it)."""
        event = self.events[message_id]
        if isinstance(event, Exception):
            return _Plan(error=event)
        if message_id in self.archive_errors:
            return _Plan(event=event, error=self.archive_errors[message_id], archive_failed=True)
        if event.event_id in self.taken:
            # Another copy in this batch answers for it (and is retried if it fails).
            return _Plan(event=event, duplicate=True)
        self.taken.add(event.event_id)
        claim = self.claims[event.event_id]
        if isinstance(claim, Exception):
            return _Plan(event=event, error=claim)
        state, token = claim
        if state == "delivered":
            return _Plan(event=event, duplicate=True)
        return _Plan(event=event, token=token)

    def _archive(self, message_id: str, key: str, document: str) -> None:
        event = self.events[message_id]
        assert isinstance(event, HubEvent)
        try:
            store_archive(key, document.encode("utf-8"), provider=event.provider, org_id=event.org_id)
        except Exception as exc:  # noqa: BLE001 - raised by that record's handler
            self.archive_errors[message_id] = exc

    def handle(self, record: SQSRecord) -> _Pending | None:
        event = self.plan[record.message_id].event
        try:
            pending = self._handle(record)
        except BaseException as exc:
            # Not while another consumer holds the event: that one records its outcome.
            if event is not None and not isinstance(exc, RequestInProgressError):
                self.outcomes.append((event, "failed", exc))
            raise
        if pending is None and event is not None:
            self.outcomes.append((event, "duplicate", None))
        return pending

    def _handle(self, record: SQSRecord) -> _Pending | None:
        plan = self.plan[record.message_id]
        event = plan.event
        if plan.archive_failed:
            # Not processed before its raw request is archived: the message comes back with it.
            assert event is not None
            logger.error("webhook_archive_failed", extra={"event_id": event.event_id, "raw_ref": event.raw_ref})
        if plan.error is not None:
            raise plan.error
        assert event is not None
        if plan.duplicate:
            _log_duplicate(event)
            return None
        assert plan.token is not None
        if plan.effects is not None:
            extra = plan.effects.result()  # its claim is already released if this raises
        else:
            try:
                extra = apply_effects(event)
            except BaseException:
                _release(event.event_id, plan.token)
                raise
        return _Pending(event, extra, plan.token)

    def finish(self, results: list[Any]) -> list[BaseException | None]:
        # Claims no record used (every copy failed before it): give them back.
        for event_id, claim in self.claims.items():
            if event_id not in self.taken and not isinstance(claim, Exception) and claim[0] == "claimed":
                _release(event_id, claim[1])
        pending = [r for r in results if isinstance(r, _Pending)]
        errors = _put_on_bus(pending)
        for i, item in enumerate(pending):
            if i in errors:
                _release(item.event.event_id, item.token)
        delivered = [item.event for i, item in enumerate(pending) if i not in errors]
        try:
            delivery.mark_delivered_many([event.event_id for event in delivered])
        except Exception:  # noqa: BLE001 - they are on the bus: failing the records would publish them twice
            # Without the marks a later redelivery is enqueued and published again (at least once).
            logger.exception("delivery_mark_failed", extra={"event_ids": [e.event_id for e in delivered]})
        for event in delivered:
            _log_processed(event)
        self.outcomes += [
            (item.event, "failed" if i in errors else "delivered", errors.get(i)) for i, item in enumerate(pending)
        ]
        # Side by side on the batch's pool; a log write that fails is counted, never fails a record.
        eventlog.record_inbound_many(self.outcomes, executor=_pool())
        outcome = {id(item): errors.get(i) for i, item in enumerate(pending)}
        return [outcome.get(id(r)) if isinstance(r, _Pending) else None for r in results]


def _put_on_bus(pending: list[_Pending]) -> dict[int, Exception]:
    """PutEvents for every pending record's events, 10 entries per call; the errors by index
    of the record whose entries were refused (or whose call failed)."""
    bus = get_settings().require("event_bus_name")
    entries: list[dict[str, Any]] = []
    owners: list[int] = []
    for i, item in enumerate(pending):
        for event in (item.event, *item.extra):
            entries.append(
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": event.type,
                    "Detail": json.dumps(event.model_dump(mode="json"), ensure_ascii=False, default=str),
                    "EventBusName": bus,
                }
            )
            owners.append(i)
    errors: dict[int, Exception] = {}
    client = aws_client("events")
    for start in range(0, len(entries), _PUT_EVENTS_BATCH):
        chunk = entries[start : start + _PUT_EVENTS_BATCH]
        try:
            answers = client.put_events(Entries=chunk).get("Entries", [])
        except Exception as exc:  # noqa: BLE001 - those records fail with it and come back
            for k in range(len(chunk)):
                errors.setdefault(owners[start + k], exc)
            continue
        for k, answer in enumerate(answers):
            if answer.get("ErrorCode"):
                errors.setdefault(
                    owners[start + k],
                    ProviderUnavailableError("EventBridge refused an event; it will be retried", provider="events"),
                )
    return errors


@cache
def _pool() -> ThreadPoolExecutor:
    # One per container: a batch's archive writes overlap each other and the claim; then its
    # contacts' updates run side by side (one lane per contact). A batch is at most 10 records.
    return ThreadPoolExecutor(max_workers=10, thread_name_prefix="inbound")


def process_inbound_batch(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """InboundEventsProcess: a batch of inbound queue records, partial failures reported."""
    batch = InboundBatch()
    return process_sqs_batch(event, batch.handle, context, steps=batch)
