"""The event log: every inbound event and outbound operation, for the operator console
(docs/events.md, "Event log"; contract: issue 19, console-contract.md section 1).

Records live in ``EventLogTable`` under ``pk = org#{org}#{YYYY-MM}`` (the month of ``at``),
``sk = {at}#{record_id}``, so a time range is a few month partitions read newest first;
``by_provider`` / ``by_status`` index the same sort key under ``org#{org}#{provider|status}#{YYYY-MM}``
and ``by_record_id`` finds one record by id. Records expire with the delivery ledger (35 days).

A failure (inbound failed/rejected, outbound failed/unknown) also upserts its issue
(``pk = issues``, ``sk = {org}#{provider}#{error_class}``): counted, reopened when resolved.

Writing never fails the caller: a log write that fails is logged and counted
(``EventLogWriteFailed``) and processing goes on. Everything stored is masked (hub.masking).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from hub.aws import aws_client
from hub.config import get_settings
from hub.errors import HubError, InvalidRequestError, NotFoundError, OutcomeUnknownError, ProviderUnavailableError
from hub.events import HubEvent
from hub.masking import MASK, mask_text, mask_value
from hub.observability import logger, metrics
from hub.requests import OrgId

Direction = Literal["inbound", "outbound"]
INBOUND_STATUSES = ("delivered", "duplicate", "failed", "rejected")
OUTBOUND_STATUSES = ("succeeded", "failed", "unknown")
FAILURES = frozenset({"failed", "rejected", "unknown"})
ISSUE_STATUSES = ("open", "acknowledged", "resolved")
RETENTION = timedelta(days=35)  # the delivery ledger's (hub.webhooks.delivery)
DEFAULT_RANGE = timedelta(days=30)
_MAX_QUERIES = 12  # DynamoDB calls per page at most; a page may come back short, with a cursor
_MAX_JSON = 32_000  # characters of a stored document (an item is at most 400 KB)
_MAX_CALLS = 100  # provider calls kept on one outbound record (a long pagination keeps its first 100)
_NAME = r"^[a-z0-9][a-z0-9._-]{0,63}$"


class ProviderCall(BaseModel):
    """One HTTP call to a provider during an outbound operation (path without query string)."""

    provider: str
    method: str
    path: str
    status: int | None
    latency_ms: int
    error_class: str | None = None


class Attempt(BaseModel):
    at: datetime
    outcome: str
    error_class: str | None = None
    message: str | None = None


class EventSummary(BaseModel):
    record_id: str
    direction: Direction
    org_id: str
    provider: str
    type: str
    status: str
    at: datetime
    error_class: str | None = None


class EventDetail(EventSummary):
    raw_ref: str | None = None
    event: dict[str, Any] | None = None
    attempts: list[Attempt] = []
    error_message: str | None = None
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    calls: list[ProviderCall] = []


class EventQuery(BaseModel):
    """What to list; bad input is an InvalidRequestError naming the field."""

    model_config = ConfigDict(extra="forbid", str_max_length=200)

    org_id: OrgId
    provider: str | None = Field(None, pattern=_NAME)
    type: str | None = Field(None, pattern=r"^[A-Za-z0-9._:-]{1,100}$")
    status: Literal["delivered", "duplicate", "failed", "rejected", "succeeded", "unknown"] | None = None
    direction: Direction | None = None
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    limit: int = Field(50, ge=1, le=200, strict=True)
    cursor: str | None = Field(None, min_length=1, max_length=512)

    @model_validator(mode="wrap")
    @classmethod
    def _as_invalid_request(cls, data: Any, handler: Callable[[Any], EventQuery]) -> EventQuery:
        try:
            query = handler(data)
        except ValidationError as exc:
            problems = [f"{'.'.join(str(p) for p in e['loc']) or 'query'}: {e['msg']}" for e in exc.errors()[:10]]
            raise InvalidRequestError("invalid request: " + "; ".join(problems), code="validation_error") from None
        if query.start and query.end and query.start > query.end:
            raise InvalidRequestError("invalid request: start: must not be after end", code="validation_error")
        return query


class EventPage(BaseModel):
    items: list[EventSummary]
    cursor: str | None = None


class Issue(BaseModel):
    org_id: str
    provider: str
    error_class: str
    first_seen: datetime
    last_seen: datetime
    count: int
    status: Literal["open", "acknowledged", "resolved"]
    last_message: str | None = None
    last_record_id: str | None = None


# ----- provider calls of one invocation (appended by hub.providers.base.client) -------------------------------

_CALLS: ContextVar[list[ProviderCall] | None] = ContextVar("hub_eventlog_calls", default=None)


@contextmanager
def collecting_calls() -> Iterator[list[ProviderCall]]:
    """The provider calls made inside the block (on this thread/context)."""
    calls: list[ProviderCall] = []
    token = _CALLS.set(calls)
    try:
        yield calls
    finally:
        _CALLS.reset(token)


def note_call(
    provider: str, method: str, path: str, status: int | None, latency_ms: float, error: str | None = None
) -> None:
    calls = _CALLS.get()
    if calls is not None:
        calls.append(
            ProviderCall(
                provider=provider,
                method=method,
                path=path.split("?", 1)[0],
                status=status,
                latency_ms=round(latency_ms),
                error_class=error,
            )
        )


# ----- keys and items --------------------------------------------------------------------------------------------


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC)


def _stamp(at: datetime) -> str:
    return f"{_utc(at):%Y-%m-%dT%H:%M:%S.%fZ}"


def _month(at: datetime) -> str:
    return f"{_utc(at):%Y-%m}"


def _now() -> datetime:
    return datetime.now(UTC)


# Recipients, senders, names and message content: masked whatever their shape (a bare local number
# "11987654321" has none hub.masking recognises), on top of hub.masking's keys and shapes. The
# console shows the raw request from the archive (which ContactErase erases), not from here.
_ADDRESS_KEYS = frozenset(
    {"to", "from", "from_address", "to_address", "recipient", "recipients", "number", "cc", "bcc"}
    | {"text", "caption", "subject", "html", "from_name", "name", "reply_to"}
)


def _addresses_masked(value: Any, key: str | None = None) -> Any:
    if key is not None and key.lower() in _ADDRESS_KEYS and value not in (None, "", [], {}):
        return MASK
    if isinstance(value, Mapping):
        return {k: _addresses_masked(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_addresses_masked(v) for v in value]
    return value


def _json(value: Any) -> str:
    masked = mask_value(_addresses_masked(value))
    text = json.dumps(masked, ensure_ascii=False, default=str, separators=(",", ":"))
    return text if len(text) <= _MAX_JSON else json.dumps({"truncated": True, "chars": len(text)})


def _message(error: BaseException | str | None) -> str | None:
    if error is None:
        return None
    text = error if isinstance(error, str) else (error.message if isinstance(error, HubError) else str(error))
    return mask_text(text)[:1000]


def _error_class(error: BaseException | None) -> str | None:
    return None if error is None else type(error).__name__


def _table() -> str | None:
    return get_settings().event_log_table


def _swallow(what: str, extra: Mapping[str, Any], write: Callable[[], None]) -> None:
    """Run a log write; a failure is logged and counted, never raised into the caller."""
    try:
        write()
    except Exception as exc:  # noqa: BLE001 - the log never fails what it records
        metrics.add_metric(name="EventLogWriteFailed", unit="Count", value=1)
        logger.warning("event_log_write_failed", extra={"write": what, **extra, "error": type(exc).__name__})


def _write(
    *,
    table: str,
    org_id: str,
    record_id: str,
    at: datetime,
    fields: dict[str, Any],
    attempt: Attempt,
    keep_status: bool = False,
) -> None:
    """Create or update one record: ``fields`` set, ``attempt`` appended (a re-record of the same
    id is the same item). ``keep_status``: the status only when the record has none yet."""
    month = _month(at)
    status = fields.pop("status")
    values: dict[str, Any] = {
        ":status": {"S": status},
        ":status_pk": {"S": f"org#{org_id}#{status}#{month}"},
        ":attempt": {"L": [{"S": attempt.model_dump_json(exclude_none=True)}]},
        ":empty": {"L": []},
        ":expires": {"N": str(int((_now() + RETENTION).timestamp()))},
    }
    sets = ["attempts = list_append(if_not_exists(attempts, :empty), :attempt)", "expires_at = :expires"]
    if keep_status:
        sets += ["#status = if_not_exists(#status, :status)", "status_pk = if_not_exists(status_pk, :status_pk)"]
    else:
        sets += ["#status = :status", "status_pk = :status_pk"]
    removes: list[str] = []
    base = {
        "record_id": record_id,
        "org_id": org_id,
        "at": _utc(at).isoformat(),
        "provider_pk": f"org#{org_id}#{fields['provider']}#{month}",
        **fields,
    }
    names = {"#status": "status"}
    for i, (name, value) in enumerate(base.items()):
        if value is None:
            if keep_status:  # a duplicate leaves the earlier outcome's fields as they are
                continue
            removes.append(f"#f{i}")
        else:
            sets.append(f"#f{i} = :f{i}")
            values[f":f{i}"] = {"S": value}
        names[f"#f{i}"] = name
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    aws_client("dynamodb").update_item(
        TableName=table,
        Key={"pk": {"S": f"org#{org_id}#{month}"}, "sk": {"S": f"{_stamp(at)}#{record_id}"}},
        UpdateExpression=expression,
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


def _issue(table: str, org_id: str, provider: str, error_class: str, message: str | None, record_id: str) -> None:
    """Count a failure on its issue; a resolved issue opens again, an acknowledged one stays."""
    client = aws_client("dynamodb")
    now = {"S": _now().isoformat()}
    key = {"pk": {"S": "issues"}, "sk": {"S": f"{org_id}#{provider}#{error_class}"}}
    answer = client.update_item(
        TableName=table,
        Key=key,
        UpdateExpression=(
            "SET org_id = :o, provider = :p, error_class = :e, last_seen = :now, last_record_id = :r, "
            "first_seen = if_not_exists(first_seen, :now), #status = if_not_exists(#status, :open)"
            + (", last_message = :m" if message else "")
            + " ADD #count :one"
        ),
        ExpressionAttributeNames={"#status": "status", "#count": "count"},
        ExpressionAttributeValues={
            ":o": {"S": org_id},
            ":p": {"S": provider},
            ":e": {"S": error_class},
            ":now": now,
            ":r": {"S": record_id},
            ":open": {"S": "open"},
            ":one": {"N": "1"},
            **({":m": {"S": message}} if message else {}),
        },
        ReturnValues="ALL_NEW",
    )
    if answer["Attributes"]["status"]["S"] == "resolved":
        try:
            client.update_item(
                TableName=table,
                Key=key,
                UpdateExpression="SET #status = :open",
                ConditionExpression="#status = :resolved",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":open": {"S": "open"}, ":resolved": {"S": "resolved"}},
            )
        except client.exceptions.ConditionalCheckFailedException:
            pass  # someone changed it meanwhile: theirs stands


# ----- recording -------------------------------------------------------------------------------------------------


def record_inbound(
    event: HubEvent, status: str, *, error: BaseException | None = None, at: datetime | None = None
) -> None:
    """An inbound event's outcome on one delivery attempt (``at``: when; the record's own time is
    the event's ``received_at``). A duplicate never overrides an earlier outcome."""
    table = _table()
    if not table:
        return

    def write() -> None:
        if status not in INBOUND_STATUSES:
            raise InvalidRequestError(f"status: not an inbound status: {status!r}")
        message = _message(error)
        attempt = Attempt(at=at or _now(), outcome=status, error_class=_error_class(error), message=message)
        fields = {
            "status": status,
            "direction": "inbound",
            "provider": event.provider,
            "type": event.type,
            "raw_ref": event.raw_ref,
            "event": _json(event.model_dump(mode="json")),
            "error_class": _error_class(error),
            "error_message": message,
        }
        _write(
            table=table,
            org_id=event.org_id,
            record_id=event.event_id,
            at=event.received_at,
            fields=fields,
            attempt=attempt,
            keep_status=status == "duplicate",
        )
        if status in FAILURES:
            _issue(table, event.org_id, event.provider, _error_class(error) or "Unexpected", message, event.event_id)

    _swallow("inbound", {"event_id": event.event_id, "status": status}, write)


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=10, thread_name_prefix="eventlog")


def record_inbound_many(
    results: list[tuple[HubEvent, str, BaseException | None]], *, executor: Executor | None = None
) -> None:
    """A consumer batch's outcomes, written side by side (``executor``: the caller's pool)."""
    if not results or not _table():
        return
    pool = executor or _pool()
    futures = [pool.submit(record_inbound, event, status, error=error) for event, status, error in results]
    for future in futures:
        future.result()  # record_inbound never raises


def record_rejected(provider: str, org_id: str, raw_ref: str, message: str, *, at: datetime | None = None) -> None:
    """An authenticated request answered 400 after it was archived (replayable after a fix)."""
    table = _table()
    if not table:
        return
    when = at or _now()
    record_id = "rej_" + hashlib.sha256(raw_ref.encode()).hexdigest()[:24]

    def write() -> None:
        text = _message(message)
        fields = {
            "status": "rejected",
            "direction": "inbound",
            "provider": provider,
            "type": "webhook.rejected",
            "raw_ref": raw_ref,
            "error_class": "WebhookRejected",
            "error_message": text,
        }
        attempt = Attempt(at=when, outcome="rejected", error_class="WebhookRejected", message=text)
        _write(table=table, org_id=org_id, record_id=record_id, at=when, fields=fields, attempt=attempt)
        _issue(table, org_id, provider, "WebhookRejected", text, record_id)

    _swallow("rejected", {"provider": provider, "org_id": org_id}, write)


def record_outbound(
    operation: str,
    org_id: str,
    *,
    status: str,
    provider: str | None,
    request: Mapping[str, Any] | None,
    response: Mapping[str, Any] | None,
    error: BaseException | None,
    calls: list[ProviderCall],
    at: datetime | None = None,
) -> str:
    """One outbound operation (its payload and result masked); returns its record id."""
    record_id = f"out_{uuid.uuid4().hex}"
    table = _table()
    if not table:
        return record_id
    when = at or _now()
    name = provider or "hub"

    def write() -> None:
        if status not in OUTBOUND_STATUSES:
            raise InvalidRequestError(f"status: not an outbound status: {status!r}")
        message = _message(error)
        fields = {
            "status": status,
            "direction": "outbound",
            "provider": name,
            "type": operation,
            "request": _json(dict(request)) if request is not None else None,
            "response": _json(dict(response)) if response is not None else None,
            "calls": json.dumps([c.model_dump(mode="json") for c in calls[:_MAX_CALLS]]),
            "error_class": _error_class(error),
            "error_message": message,
        }
        attempt = Attempt(at=when, outcome=status, error_class=_error_class(error), message=message)
        _write(table=table, org_id=org_id, record_id=record_id, at=when, fields=fields, attempt=attempt)
        if status in FAILURES:
            _issue(table, org_id, name, _error_class(error) or "Unexpected", message, record_id)

    _swallow("outbound", {"operation": operation, "org_id": org_id, "status": status}, write)
    return record_id


def outbound_status(error: BaseException | None) -> str:
    if error is None:
        return "succeeded"
    return "unknown" if isinstance(error, OutcomeUnknownError) else "failed"


# ----- reading ---------------------------------------------------------------------------------------------------


def _text(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name, {}).get("S")
    return value if isinstance(value, str) else None


def _loaded(item: Mapping[str, Any], name: str) -> Any:
    text = _text(item, name)
    return None if text is None else json.loads(text)


def _summary(item: Mapping[str, Any]) -> EventSummary:
    return EventSummary(
        record_id=item["record_id"]["S"],
        direction=item["direction"]["S"],
        org_id=item["org_id"]["S"],
        provider=item["provider"]["S"],
        type=item["type"]["S"],
        status=item["status"]["S"],
        at=datetime.fromisoformat(item["at"]["S"]),
        error_class=_text(item, "error_class"),
    )


def _detail(item: Mapping[str, Any]) -> EventDetail:
    return EventDetail(
        **_summary(item).model_dump(),
        raw_ref=_text(item, "raw_ref"),
        event=_loaded(item, "event"),
        attempts=[Attempt.model_validate_json(a["S"]) for a in item.get("attempts", {}).get("L", [])],
        error_message=_text(item, "error_message"),
        request=_loaded(item, "request"),
        response=_loaded(item, "response"),
        calls=[ProviderCall.model_validate(c) for c in _loaded(item, "calls") or []],
    )


def _months(start: datetime, end: datetime) -> list[str]:
    """The month partitions from ``end``'s back to ``start``'s, newest first."""
    months, year, month = [], _utc(end).year, _utc(end).month
    first = _month(start)
    while f"{year:04d}-{month:02d}" >= first:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def _digest(query: EventQuery) -> str:
    start, end = (_stamp(t) if t else "" for t in (query.start, query.end))
    scope = "|".join([query.org_id, query.provider or "", query.type or "", query.status or ""])
    return hashlib.sha256(f"{scope}|{query.direction or ''}|{start}|{end}".encode()).hexdigest()[:16]


def _encode_cursor(query: EventQuery, month: str, sk: str) -> str:
    raw = json.dumps({"m": month, "sk": sk, "q": _digest(query)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(query: EventQuery, months: list[str]) -> tuple[str, str]:
    invalid = InvalidRequestError("invalid request: cursor: not a cursor of this query", code="invalid_cursor")
    text = query.cursor or ""
    try:
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError):
        raise invalid from None
    if not isinstance(data, dict) or set(data) != {"m", "sk", "q"} or data["q"] != _digest(query):
        raise invalid
    month, sk = data["m"], data["sk"]
    if month not in months or not isinstance(sk, str) or not (sk == "" or sk.startswith(month + "-")):
        raise invalid
    return month, sk


def query_events(query: EventQuery) -> EventPage:
    """The org's records between ``start`` and ``end`` matching the filters, newest first; a page
    may be shorter than ``limit`` while ``cursor`` is set (follow it until it is None)."""
    table = get_settings().require("event_log_table")
    end = query.end or _now()
    start = query.start or end - DEFAULT_RANGE
    months = _months(start, end)
    month, after = _decode_cursor(query, months) if query.cursor else (months[0], None)
    org = query.org_id
    index, hash_name, hash_of = None, "pk", lambda m: f"org#{org}#{m}"
    filters: list[tuple[str, str | None]] = [("type", query.type), ("direction", query.direction)]
    if query.status:
        index, hash_name, hash_of = "by_status", "status_pk", lambda m: f"org#{org}#{query.status}#{m}"
        filters.append(("provider", query.provider))
    elif query.provider:
        index, hash_name, hash_of = "by_provider", "provider_pk", lambda m: f"org#{org}#{query.provider}#{m}"
    active = [(name, value) for name, value in filters if value]
    client = aws_client("dynamodb")
    items: list[dict[str, Any]] = []
    position: tuple[str, str] | None = None  # the last item read (a cursor continues after it)
    calls = 0
    for m in months[months.index(month) :]:
        kwargs: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "#h = :h AND sk BETWEEN :lo AND :hi",
            "ExpressionAttributeNames": {"#h": hash_name},
            "ExpressionAttributeValues": {
                ":h": {"S": hash_of(m)},
                ":lo": {"S": _stamp(start)},
                ":hi": {"S": _stamp(end) + "#~"},
            },
            "ScanIndexForward": False,
        }
        if index:
            kwargs["IndexName"] = index
        if active:
            kwargs["FilterExpression"] = " AND ".join(f"#f{i} = :f{i}" for i in range(len(active)))
            for i, (name, value) in enumerate(active):
                kwargs["ExpressionAttributeNames"][f"#f{i}"] = name
                kwargs["ExpressionAttributeValues"][f":f{i}"] = {"S": value}
        if after and m == month:
            kwargs["ExclusiveStartKey"] = {"pk": {"S": f"org#{org}#{m}"}, "sk": {"S": after}}
            if index:
                kwargs["ExclusiveStartKey"][hash_name] = {"S": hash_of(m)}
        while True:
            if calls == _MAX_QUERIES:  # continue here next page (this month's start, if nothing read in it)
                return _page(query, items, position if position and position[0] == m else (m, ""))
            # Without a filter, exactly what is missing (and one more: is there another page?).
            kwargs["Limit"] = 200 if active else query.limit + 1 - len(items)
            try:
                answer = client.query(**kwargs)
            except Exception as exc:
                logger.error("event_log_query_failed", extra={"org_id": org, "error": type(exc).__name__})
                raise ProviderUnavailableError(
                    "the event log is unavailable; retry later", provider="dynamodb"
                ) from exc
            calls += 1
            for item in answer.get("Items", []):
                if len(items) == query.limit:
                    return _page(query, items, position)
                items.append(item)
                position = (m, item["sk"]["S"])
            last = answer.get("LastEvaluatedKey")
            if not last:
                break
            position = (m, last["sk"]["S"]) if len(items) < query.limit else position
            kwargs["ExclusiveStartKey"] = last
    return _page(query, items, None)


def _page(query: EventQuery, items: list[dict[str, Any]], position: tuple[str, str] | None) -> EventPage:
    """``position``: where the next page starts (None: there is no next page)."""
    cursor = _encode_cursor(query, *position) if position else None
    return EventPage(items=[_summary(item) for item in items], cursor=cursor)


def iter_events(query: EventQuery) -> Iterator[EventSummary]:
    """Every record the query matches, page by page (replay jobs)."""
    page = query_events(query)
    yield from page.items
    while page.cursor:
        page = query_events(query.model_copy(update={"cursor": page.cursor}))
        yield from page.items


def get_event(record_id: str) -> EventDetail | None:
    """One record by id (``by_record_id``), or None."""
    if not isinstance(record_id, str) or not 1 <= len(record_id) <= 200 or not record_id.isprintable():
        raise InvalidRequestError("invalid request: record_id: must be 1-200 printable characters")
    table = get_settings().require("event_log_table")
    answer = aws_client("dynamodb").query(
        TableName=table,
        IndexName="by_record_id",
        KeyConditionExpression="record_id = :r",
        ExpressionAttributeValues={":r": {"S": record_id}},
    )
    items = answer.get("Items", [])
    return _detail(items[0]) if items else None


# ----- issues ----------------------------------------------------------------------------------------------------


def _issue_of(item: Mapping[str, Any]) -> Issue:
    return Issue(
        org_id=item["org_id"]["S"],
        provider=item["provider"]["S"],
        error_class=item["error_class"]["S"],
        first_seen=datetime.fromisoformat(item["first_seen"]["S"]),
        last_seen=datetime.fromisoformat(item["last_seen"]["S"]),
        count=int(item["count"]["N"]),
        status=item["status"]["S"],
        last_message=_text(item, "last_message"),
        last_record_id=_text(item, "last_record_id"),
    )


def list_issues(*, status: str | None = None, org_id: str | None = None) -> list[Issue]:
    """Every issue (of ``org_id``, in ``status``), the most recently seen first."""
    if status is not None and status not in ISSUE_STATUSES:
        raise InvalidRequestError(f"invalid request: status: must be one of {', '.join(ISSUE_STATUSES)}")
    if org_id is not None:
        from hub.credentials import validate_org_id

        validate_org_id(org_id)
    kwargs: dict[str, Any] = {
        "TableName": get_settings().require("event_log_table"),
        "KeyConditionExpression": "pk = :p" + (" AND begins_with(sk, :o)" if org_id else ""),
        "ExpressionAttributeValues": {":p": {"S": "issues"}, **({":o": {"S": f"{org_id}#"}} if org_id else {})},
    }
    client = aws_client("dynamodb")
    issues: list[Issue] = []
    while True:
        answer = client.query(**kwargs)
        issues += [_issue_of(item) for item in answer.get("Items", [])]
        if not answer.get("LastEvaluatedKey"):
            break
        kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    if status:
        issues = [issue for issue in issues if issue.status == status]
    return sorted(issues, key=lambda issue: issue.last_seen, reverse=True)


def set_issue_status(org_id: str, provider: str, error_class: str, status: str, *, actor: str) -> Issue:
    """An operator acknowledges or resolves an issue (or opens it again); audited."""
    from hub import audit

    if status not in ISSUE_STATUSES:
        raise InvalidRequestError(f"invalid request: status: must be one of {', '.join(ISSUE_STATUSES)}")
    client = aws_client("dynamodb")
    try:
        answer = client.update_item(
            TableName=get_settings().require("event_log_table"),
            Key={"pk": {"S": "issues"}, "sk": {"S": f"{org_id}#{provider}#{error_class}"}},
            UpdateExpression="SET #status = :s",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":s": {"S": status}},
            ReturnValues="ALL_NEW",
        )
    except client.exceptions.ConditionalCheckFailedException:
        raise NotFoundError(
            f"no issue {provider}/{error_class} for this organisation", code="issue_not_found"
        ) from None
    details = {"error_class": error_class}
    # Literal actions (docs/integrations.md "Audit" lists every one; a test reads them from here).
    if status == "open":
        audit.record(org_id, "issue.open", actor=actor, integration=provider, details=details)
    elif status == "acknowledged":
        audit.record(org_id, "issue.acknowledged", actor=actor, integration=provider, details=details)
    else:
        audit.record(org_id, "issue.resolved", actor=actor, integration=provider, details=details)
    return _issue_of(answer["Attributes"])
