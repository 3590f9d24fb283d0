"""AnalyticsForward: hub bus events → each org's mapping → its analytics sinks, once per sink.

Two queues feed the consumer (one SQS batch at a time, partial failures reported):

* ``AnalyticsQueue``: the hub bus's events (an EventBridge rule, the envelope as body). Each is
  mapped with its org's mapping (hub.analytics.mapping) to one :class:`AnalyticsEvent` per sink
  of the matching rule, with the mapped properties only and personal data stripped unless the
  mapping allows it (hub.analytics.pii).
* ``AnalyticsRetryQueue``: one message per (org, sink, events) whose sink failed earlier.

A whole batch's events are grouped per (org, sink) and sent in as few requests as the sink's
``max_batch_events`` / ``max_batch_bytes`` allow. Each event is sent once per sink: a ledger in
``AnalyticsTable`` (item ``sent#{org}#{sink}#{event_id}``) is claimed with a conditional write
before the send and marked ``sent`` / ``rejected`` after it; an event already claimed or done is
skipped (SQS redeliveries, the same event twice in a batch, a retry that overtook its original).

A sink that is down or rate limited (ProviderUnavailableError, RateLimitedError) holds up only its
own events: their claims are released and they go to ``AnalyticsRetryQueue`` with a delay (the
rate limit's ``retry_after``, else ``ANALYTICS_RETRY_DELAY_SECONDS``, 30 s), while the record
itself succeeds for the other sinks.
A retry message that fails again is redelivered by hub.batch's backoff (30 s … 15 min) and lands
in ``AnalyticsRetryDLQ`` after the queue's ``maxReceiveCount``. Nothing sleeps in the function.

A request whose answer was lost (OutcomeUnknownError) is sent again only to a sink that dedupes
on the event's id (its adapter's ``writes_have_effects`` is False: PostHog's ``uuid``, Mixpanel's
``$insert_id``); any other sink (GA4: no dedupe key) gets it at most once — the ledger records
``unknown`` and the event is not resent. Events an adapter reports sent before a failure
(``details["sent_event_ids"]``) are recorded sent, never resent. A claim left by a crashed invocation is retaken
after its lease only for deduplicating sinks, for the same reason.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub import metrics as hub_metrics
from hub.analytics import pii
from hub.analytics.mapping import AnalyticsMapping, EventRule, load_mapping, resolve
from hub.analytics.models import MAX_TEXT_VALUE, AnalyticsEvent, PropertyValue, SinkOutcome
from hub.aws import aws_client
from hub.config import get_settings
from hub.errors import (
    AuthenticationError,
    ConfigurationError,
    HubError,
    InvalidRequestError,
    OutcomeUnknownError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.observability import logger
from hub.providers import ports

RETRY_KIND = "analytics.retry"
LEDGER_TTL_SECONDS = 35 * 86400
# A claim's lease: longer than the consumer's 60 s timeout, shorter than the queue's visibility.
CLAIM_LEASE_SECONDS = 120
MAX_DELAY_SECONDS = 900  # SQS DelaySeconds' ceiling
# What a request adds around the events and what the vendor's encoding may add to each: the
# forwarder estimates an event's size as its JSON plus this, and keeps a request this far under.
EVENT_OVERHEAD_BYTES = 128
REQUEST_OVERHEAD_BYTES = 1024
# A retry message stays well under SQS's 256 KiB.
MAX_RETRY_MESSAGE_BYTES = 200_000

Origin = Literal["bus", "retry"]


class RetryMessage(BaseModel):
    """A sink's events waiting on AnalyticsRetryQueue (already mapped and stripped)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["analytics.retry"]
    org_id: str = Field(min_length=1, max_length=63)
    sink: str = Field(min_length=1, max_length=40)
    events: list[AnalyticsEvent] = Field(min_length=1)


@dataclass
class _Group:
    org_id: str
    sink: str
    origin: Origin
    events: dict[str, AnalyticsEvent] = field(default_factory=dict)  # event_id -> event
    records: set[str] = field(default_factory=set)


@dataclass
class GroupResult:
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    # Events to send later and why (the sink's retryable error).
    retry: list[AnalyticsEvent] = field(default_factory=list)
    error: HubError | None = None


# ----- mapping a bus event ------------------------------------------------------------------------


@dataclass(frozen=True)
class BusEvent:
    event_id: str
    type: str
    org_id: str
    occurred_at: datetime
    detail: dict[str, Any]


def parse_bus_event(envelope: dict[str, Any]) -> BusEvent | None:
    """The hub's event from an EventBridge envelope; None when it names no org (not forwardable)."""
    detail = envelope.get("detail")
    detail_type = envelope.get("detail-type")
    if not isinstance(detail, dict) or not isinstance(detail_type, str):
        return None
    org_id = detail.get("org_id")
    if not isinstance(org_id, str) or not org_id:
        return None
    # Webhook events carry their own stable id (HubEvent.event_id); the hub's own events are
    # identified by the bus event's id, stable across SQS redeliveries.
    event_id = detail.get("event_id") if isinstance(detail.get("event_id"), str) else envelope.get("id")
    if not isinstance(event_id, str) or not event_id:
        return None
    occurred = _instant(detail.get("occurred_at")) or _instant(envelope.get("time")) or datetime.now(UTC)
    return BusEvent(event_id=event_id, type=detail_type, org_id=org_id, occurred_at=occurred, detail=detail)


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _property_value(value: Any) -> PropertyValue | None:
    if isinstance(value, bool | int | Decimal):
        return value
    if isinstance(value, float):  # never produced by the parser (floats are Decimal); kept exact anyway
        return Decimal(str(value))
    if isinstance(value, str):
        return value[:MAX_TEXT_VALUE]
    return None  # objects, lists, null: not a property value


def map_event(mapping: AnalyticsMapping, event: BusEvent) -> dict[str, AnalyticsEvent]:
    """The event as each sink of its rule gets it (sink → event); {} when no rule matches."""
    rule = mapping.rule_for(event.type, event.detail)
    if rule is None:
        return {}
    properties, dropped = _properties(mapping, rule, event)
    if dropped:
        # Names only: the values are the personal data being kept back.
        logger.info("analytics_pii_dropped", extra={"event_type": event.type, "properties": dropped})
    distinct_id = _distinct_id(mapping, event)
    return {
        sink: AnalyticsEvent(
            event_id=event.event_id,
            name=rule.name_for(sink),
            distinct_id=distinct_id,
            occurred_at=event.occurred_at,
            properties=properties,
        )
        for sink in rule.sinks_of(mapping.sinks)
    }


def _properties(
    mapping: AnalyticsMapping, rule: EventRule, event: BusEvent
) -> tuple[dict[str, PropertyValue], list[str]]:
    out: dict[str, PropertyValue] = {}
    dropped: list[str] = []
    for name, source in rule.properties.items():
        value = _property_value(resolve(event.detail, source))
        if value is None:
            continue
        if name not in mapping.allow_pii and pii.is_pii(source, value):
            dropped.append(name)
            continue
        out[name] = value
    return out, dropped


def _distinct_id(mapping: AnalyticsMapping, event: BusEvent) -> str:
    value = resolve(event.detail, mapping.distinct_id) if mapping.distinct_id else None
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
        return event.org_id
    text = str(value)
    if "distinct_id" not in mapping.allow_pii and pii.is_pii(mapping.distinct_id or "", text):
        return pii.pseudonym(event.org_id, text)
    return text[:200]


# ----- batching -----------------------------------------------------------------------------------


def event_size(event: AnalyticsEvent) -> int:
    return len(event.model_dump_json().encode()) + EVENT_OVERHEAD_BYTES


def batches(
    events: Iterable[AnalyticsEvent], max_events: int, max_bytes: int
) -> tuple[list[list[AnalyticsEvent]], list[AnalyticsEvent]]:
    """Requests within the sink's limits (in order), and the events too large to send at all."""
    budget = max_bytes - REQUEST_OVERHEAD_BYTES
    out: list[list[AnalyticsEvent]] = []
    too_large: list[AnalyticsEvent] = []
    current: list[AnalyticsEvent] = []
    used = 0
    for event in events:
        size = event_size(event)
        if size > budget:
            too_large.append(event)
            continue
        if current and (len(current) >= max_events or used + size > budget):
            out.append(current)
            current, used = [], 0
        current.append(event)
        used += size
    if current:
        out.append(current)
    return out, too_large


# ----- the ledger -----------------------------------------------------------------------------------


def ledger_key(org_id: str, sink: str, event_id: str) -> str:
    return f"sent#{org_id}#{sink}#{event_id}"


def _table() -> str:
    return get_settings().require("analytics_table")


def _now() -> datetime:
    return datetime.now(UTC)


def claim(org_id: str, sink: str, event_id: str, token: str, *, retake_expired: bool) -> bool:
    """Claim the event for sending to ``sink``; False when it is sent, refused, unknown or being
    sent by another invocation (and, for a sink that does not dedupe, ever was claimed)."""
    now = _now()
    condition = "attribute_not_exists(pk)"
    values: dict[str, Any] = {}
    if retake_expired:
        condition += " OR (#s = :claimed AND lease_until < :now)"
        values = {":claimed": {"S": "claimed"}, ":now": {"N": str(int(now.timestamp()))}}
    try:
        aws_client("dynamodb").put_item(
            TableName=_table(),
            Item={
                "pk": {"S": ledger_key(org_id, sink, event_id)},
                "status": {"S": "claimed"},
                "token": {"S": token},
                "lease_until": {"N": str(int((now + timedelta(seconds=CLAIM_LEASE_SECONDS)).timestamp()))},
                "expires_at": {"N": str(int(now.timestamp()) + LEDGER_TTL_SECONDS)},
            },
            ConditionExpression=condition,
            **({"ExpressionAttributeNames": {"#s": "status"}, "ExpressionAttributeValues": values} if values else {}),
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


def release(org_id: str, sink: str, event_id: str, token: str) -> None:
    """Give a claim back (the send did not happen): the retry claims it again."""
    try:
        aws_client("dynamodb").delete_item(
            TableName=_table(),
            Key={"pk": {"S": ledger_key(org_id, sink, event_id)}},
            ConditionExpression="#t = :token AND #s = :claimed",
            ExpressionAttributeNames={"#t": "token", "#s": "status"},
            ExpressionAttributeValues={":token": {"S": token}, ":claimed": {"S": "claimed"}},
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise


def mark(org_id: str, sink: str, event_id: str, status: str, reason: str | None = None) -> None:
    item: dict[str, Any] = {
        "pk": {"S": ledger_key(org_id, sink, event_id)},
        "status": {"S": status},
        "at": {"S": _now().isoformat()},
        "expires_at": {"N": str(int(_now().timestamp()) + LEDGER_TTL_SECONDS)},
    }
    if reason:
        item["reason"] = {"S": reason[:500]}
    aws_client("dynamodb").put_item(TableName=_table(), Item=item)


def ledger_status(org_id: str, sink: str, event_id: str) -> str | None:
    item = (
        aws_client("dynamodb")
        .get_item(TableName=_table(), Key={"pk": {"S": ledger_key(org_id, sink, event_id)}}, ConsistentRead=True)
        .get("Item")
    )
    return item["status"]["S"] if item else None


# ----- sending one (org, sink) group ----------------------------------------------------------------


def _retryable(exc: HubError, deduplicates: bool) -> bool:
    if isinstance(exc, RateLimitedError | ProviderUnavailableError):
        return True
    return isinstance(exc, OutcomeUnknownError) and deduplicates


def forward_to_sink(org_id: str, sink_key: str, events: list[AnalyticsEvent]) -> GroupResult:
    """Send ``events`` to the org's ``sink_key`` once each. Infrastructure errors (the ledger)
    propagate: the records come back and the ledger keeps what was already sent."""
    result = GroupResult()
    try:
        sink = ports.for_org(ports.AnalyticsSink, org_id, sink_key, field="sink")
    except (InvalidRequestError, AuthenticationError, ConfigurationError) as exc:
        # Not a sink any more, or no usable credentials: retrying cannot help.
        for event in events:
            result.rejected[event.event_id] = exc.message
            mark(org_id, sink_key, event.event_id, "rejected", exc.message)
        return result
    except (RateLimitedError, ProviderUnavailableError) as exc:
        result.retry, result.error = list(events), exc
        return result
    # A sink whose writes have no effect a resend could repeat (PostHog's uuid, Mixpanel's
    # $insert_id: ProviderClient.writes_have_effects False) may get an event again when an answer
    # was lost; any other (GA4, or a sink that does not say) gets it at most once.
    deduplicates = not bool(getattr(type(sink), "writes_have_effects", True))
    token = uuid.uuid4().hex
    claimed = []
    for event in events:
        if claim(org_id, sink_key, event.event_id, token, retake_expired=deduplicates):
            claimed.append(event)
        else:
            result.skipped.append(event.event_id)
    requests, too_large = batches(claimed, type(sink).max_batch_events, type(sink).max_batch_bytes)
    for event in too_large:
        reason = f"event larger than {sink_key}'s {type(sink).max_batch_bytes} bytes per request"
        mark(org_id, sink_key, event.event_id, "rejected", reason)
        result.rejected[event.event_id] = reason
    index = 0
    in_flight = False
    try:
        for index, chunk in enumerate(requests):
            in_flight = True
            try:
                outcomes = sink.send_events(chunk)
            except HubError as exc:
                # Requests the adapter made before the failing one were answered: those events
                # were sent (GA4 sends one request per distinct_id), never sent again.
                already = set(exc.details.get("sent_event_ids") or ())
                for event in chunk:
                    if event.event_id in already:
                        mark(org_id, sink_key, event.event_id, "sent")
                        result.sent.append(event.event_id)
                chunk = [e for e in chunk if e.event_id not in already]
                requests[index] = chunk
                if _retryable(exc, deduplicates):
                    waiting = [e for c in requests[index:] for e in c]
                    for event in waiting:
                        release(org_id, sink_key, event.event_id, token)
                    result.retry, result.error = waiting, exc
                    return result
                _record_failure(org_id, sink_key, chunk, exc, result)
                in_flight = False
                continue
            _record_outcomes(org_id, sink_key, chunk, outcomes, result)
            in_flight = False
    except Exception:
        # A bug or the ledger failing mid-way: the record comes back. Events never attempted are
        # given back; the chunk in flight (maybe sent) too if the sink dedupes, else its claims
        # stay (at most once).
        untouched = requests[index + 1 :] if in_flight else requests[index:]
        give_back = [e for c in untouched for e in c]
        if in_flight and deduplicates:
            give_back += requests[index]
        done = set(result.sent) | set(result.rejected) | set(result.unknown)
        for event in give_back:
            if event.event_id not in done:
                release(org_id, sink_key, event.event_id, token)
        raise
    return result


def _record_failure(
    org_id: str, sink_key: str, chunk: list[AnalyticsEvent], exc: HubError, result: GroupResult
) -> None:
    """A whole request refused for good (``rejected``) or whose answer was lost at a sink that
    does not dedupe (``unknown``: never resent)."""
    status = "unknown" if isinstance(exc, OutcomeUnknownError) else "rejected"
    for event in chunk:
        mark(org_id, sink_key, event.event_id, status, exc.message)
        if status == "unknown":
            result.unknown.append(event.event_id)
        else:
            result.rejected[event.event_id] = exc.message


def _record_outcomes(
    org_id: str, sink_key: str, chunk: list[AnalyticsEvent], outcomes: list[SinkOutcome], result: GroupResult
) -> None:
    by_id = {o.event_id: o for o in outcomes}
    for event in chunk:
        outcome = by_id.get(event.event_id)
        if outcome is None:  # the adapter broke its promise: unknown, never resent blindly
            mark(org_id, sink_key, event.event_id, "unknown", "no outcome answered")
            result.unknown.append(event.event_id)
        elif outcome.status == "sent":
            mark(org_id, sink_key, event.event_id, "sent")
            result.sent.append(event.event_id)
        else:
            mark(org_id, sink_key, event.event_id, "rejected", outcome.reason)
            result.rejected[event.event_id] = outcome.reason or "rejected"


# ----- the retry path -------------------------------------------------------------------------------


def retry_delay(exc: HubError | None) -> int:
    if isinstance(exc, RateLimitedError):
        return min(MAX_DELAY_SECONDS, max(1, round(exc.retry_after)))
    return get_settings().analytics_retry_delay_seconds


def enqueue_retry(org_id: str, sink: str, events: list[AnalyticsEvent], exc: HubError | None) -> None:
    """The events on AnalyticsRetryQueue, after a delay, in messages under SQS's size limit."""
    url = get_settings().require("analytics_retry_queue_url")
    delay = retry_delay(exc)
    chunks: list[list[AnalyticsEvent]] = [[]]
    used = 0
    for event in events:
        size = event_size(event)
        if chunks[-1] and used + size > MAX_RETRY_MESSAGE_BYTES:
            chunks.append([])
            used = 0
        chunks[-1].append(event)
        used += size
    client = aws_client("sqs")
    for chunk in chunks:
        body = RetryMessage(kind=RETRY_KIND, org_id=org_id, sink=sink, events=chunk).model_dump_json()
        client.send_message(QueueUrl=url, MessageBody=body, DelaySeconds=delay)
    logger.warning(
        "analytics_sink_delayed",
        extra={
            "org_id": org_id,
            "sink": sink,
            "events": len(events),
            "retry_in_seconds": delay,
            "error": type(exc).__name__ if exc else None,
            "reason": exc.message if exc else None,
        },
    )


# ----- the batch ------------------------------------------------------------------------------------


class ForwardSteps:
    """hub.batch steps: the whole batch is mapped, grouped per (org, sink) and sent in
    :meth:`prepare`; each record's handler then raises what went wrong for it (if anything)."""

    def __init__(self) -> None:
        self.errors: dict[str, BaseException] = {}

    def prepare(self, records: list[dict[str, Any]]) -> None:
        self.errors = {}
        groups: dict[tuple[str, str, str | None], _Group] = {}
        mappings: dict[str, AnalyticsMapping | BaseException] = {}
        for record in records:
            message_id = record["messageId"]
            try:
                self._collect(record, groups, mappings)
            except Exception as exc:  # noqa: BLE001 - kept, raised by this record's handler
                self.errors[message_id] = exc
        for (org_id, sink, _retry_of), group in groups.items():
            self._send(org_id, sink, group)

    def _collect(
        self,
        record: dict[str, Any],
        groups: dict[tuple[str, str, str | None], _Group],
        mappings: dict[str, AnalyticsMapping | BaseException],
    ) -> None:
        message_id = record["messageId"]
        try:
            body = json.loads(record["body"], parse_float=Decimal)
        except ValueError:
            raise InvalidRequestError("analytics record: body is not JSON", code="malformed_json") from None
        if not isinstance(body, dict):
            raise InvalidRequestError("analytics record: body is not a JSON object", code="validation_error")
        if body.get("kind") == RETRY_KIND:
            try:
                retry = RetryMessage.model_validate(body)
            except ValidationError:
                raise InvalidRequestError("analytics retry: not a retry message", code="validation_error") from None
            group = groups.setdefault((retry.org_id, retry.sink, message_id), _Group(retry.org_id, retry.sink, "retry"))
            group.events.update({e.event_id: e for e in retry.events})
            group.records.add(message_id)
            return
        event = parse_bus_event(body)
        if event is None:
            logger.info("analytics_not_forwardable", extra={"message_id": message_id})
            return
        if event.org_id not in mappings:
            try:
                mappings[event.org_id] = load_mapping(event.org_id).mapping
            except Exception as exc:  # noqa: BLE001 - every record of this org fails with it
                mappings[event.org_id] = exc
        mapping = mappings[event.org_id]
        if isinstance(mapping, BaseException):
            raise mapping
        for sink, mapped in map_event(mapping, event).items():
            group = groups.setdefault((event.org_id, sink, None), _Group(event.org_id, sink, "bus"))
            group.events.setdefault(mapped.event_id, mapped)  # a second copy in the batch: once
            group.records.add(message_id)

    def _send(self, org_id: str, sink: str, group: _Group) -> None:
        try:
            result = forward_to_sink(org_id, sink, list(group.events.values()))
            if result.retry:
                if group.origin == "retry":
                    # Back to its own queue: hub.batch's backoff, then AnalyticsRetryDLQ.
                    error = result.error
                    if not isinstance(error, RateLimitedError | ProviderUnavailableError):
                        # An unknown outcome at a deduplicating sink: resending is safe, so retried.
                        error = ProviderUnavailableError(f"{sink}: the outcome of a send is unknown", provider=sink)
                    raise error
                enqueue_retry(org_id, sink, result.retry, result.error)
        except Exception as exc:  # noqa: BLE001 - these records come back; the ledger keeps what was sent
            for message_id in group.records:
                self.errors.setdefault(message_id, exc)
            return
        hub_metrics.analytics_events(
            sink,
            {
                "sent": len(result.sent),
                "delayed": len(result.retry),
                "rejected": len(result.rejected),
                "unknown": len(result.unknown),
            },
            org_id=org_id,
        )
        if result.rejected or result.unknown:
            logger.error(
                "analytics_events_not_sent",
                extra={"org_id": org_id, "sink": sink, "rejected": result.rejected, "unknown": result.unknown},
            )
        logger.info(
            "analytics_forwarded",
            extra={
                "org_id": org_id,
                "sink": sink,
                "sent": len(result.sent),
                "skipped": len(result.skipped),
                "delayed": len(result.retry),
            },
        )

    def handle(self, message_id: str) -> None:
        error = self.errors.get(message_id)
        if error is not None:
            raise error

    def finish(self, results: list[Any]) -> list[BaseException | None]:
        return [None for _ in results]
