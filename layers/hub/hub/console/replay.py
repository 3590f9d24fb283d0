"""Retry one event and replay jobs (docs/console.md "JSON API").

Both go through hub.webhooks.replay: the archived request is re-run on the normal path, so an
event already on the bus is reported a duplicate (``skipped``), one that never got there is
enqueued again (``replayed``), and one the path refuses is ``failed``. A job runs in the
background, one page per ConsoleJobsQueue message (ConsoleReplayJob), each page enqueueing the
next; a page carries its number, so a message SQS delivers twice is not counted twice.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from hub import audit, eventlog
from hub.aws import aws_client
from hub.config import get_settings
from hub.console.auth import ConsoleNotFoundError
from hub.console.views import parse_instant, provider_name
from hub.errors import HubError, InvalidRequestError
from hub.invocation import parse_request
from hub.orgs import require_org
from hub.webhooks import delivery
from hub.webhooks.replay import archived_keys, replay

MAX_MATCHES = 10_000
PAGE_SIZE = 100
MAX_ERRORS = 50
JOB_TTL_SECONDS = 35 * 86400
FILTER_FIELDS = frozenset({"org_id", "provider", "type", "status", "from", "to"})
ARCHIVE_FIELDS = frozenset({"org_id", "provider", "from", "to"})


def _table() -> str:
    return get_settings().require("console_table")


def _replay_one(raw_ref: str | None, event_id: str | None) -> tuple[str, str]:
    """(result, message) of replaying one archived request."""
    if event_id and delivery.is_delivered(event_id):
        return "skipped", "already delivered (on the bus)"
    if not raw_ref:
        return "failed", "no archived request to replay"
    try:
        report = replay([raw_ref])
    except HubError as exc:
        return "failed", exc.message[:300]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
            raise  # S3 unreachable or refusing: the page is retried
        return "failed", "the archived request is no longer stored"
    if report.replayed:
        return "replayed", "enqueued again"
    if report.duplicates:
        return "skipped", "already delivered (on the bus)"
    return "failed", report.rejected.get(raw_ref, "refused by the replay")[:300]


def _event_id(detail: Any) -> str | None:
    """The hub event's id: the normalised event's ``event_id`` (an inbound record's id is that id
    too, but a rejected request's, ``rej_…``, is not an event)."""
    event = detail.event if isinstance(detail.event, Mapping) else {}
    value = event.get("event_id")
    return value if isinstance(value, str) else None


def retry_event(record_id: str, *, operator: str) -> dict[str, Any]:
    """POST /console/api/events/{record_id}/retry: replay one inbound event's archived request."""
    detail = eventlog.get_event(record_id)
    if detail is None:
        raise ConsoleNotFoundError(f"record_id: no event {record_id!r}", code="not_found")
    if detail.direction != "inbound":
        raise InvalidRequestError(
            "record_id: an outbound operation is not retried from the console (its effects happen once)",
            code="not_replayable",
        )
    result, message = _replay_one(detail.raw_ref, _event_id(detail))
    audit.record(
        detail.org_id,
        "console_event_retried",
        actor=operator,
        integration=detail.provider,
        details={"record_id": record_id, "result": result},
    )
    return {"record_id": record_id, "result": result, "message": message}


# ----- jobs --------------------------------------------------------------------------------------


def _spec(body: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    kinds = [k for k in ("filter", "archive") if k in body]
    if len(kinds) != 1 or set(body) - {"filter", "archive"}:
        raise InvalidRequestError("body: send exactly one of filter or archive", code="invalid_request")
    kind = kinds[0]
    spec = body[kind]
    allowed = FILTER_FIELDS if kind == "filter" else ARCHIVE_FIELDS
    if not isinstance(spec, Mapping):
        raise InvalidRequestError(f"{kind}: must be an object", code="invalid_request")
    if unknown := sorted(set(spec) - allowed):
        raise InvalidRequestError(f"{kind}.{unknown[0]}: unknown field", code="invalid_request")
    for key, value in spec.items():
        if not isinstance(value, str) or not value or len(value) > 200:
            raise InvalidRequestError(f"{kind}.{key}: must be a non-empty string", code="invalid_request")
    clean = dict(spec)
    clean["org_id"] = require_org(spec.get("org_id"))
    provider_name(spec.get("provider"), required=kind == "archive")
    for key in ("from", "to"):
        at = parse_instant(f"{kind}.{key}", spec.get(key))
        if at is None and kind == "archive":
            raise InvalidRequestError(f"{kind}.{key}: is required", code="invalid_request")
        if at is not None:
            clean[key] = at.astimezone(UTC).isoformat()
    if "from" in clean and "to" in clean and clean["from"] > clean["to"]:
        raise InvalidRequestError(f"{kind}.from: must not be after to", code="invalid_request")
    return kind, clean


def _event_query(spec: Mapping[str, Any], cursor: str | None = None) -> Any:
    log = eventlog
    query = {
        "org_id": spec["org_id"],
        "direction": "inbound",
        "provider": spec.get("provider"),
        "type": spec.get("type"),
        "status": spec.get("status"),
        "start": datetime.fromisoformat(spec["from"]) if spec.get("from") else None,
        "end": datetime.fromisoformat(spec["to"]) if spec.get("to") else None,
        "limit": PAGE_SIZE,
        "cursor": cursor,
    }
    return parse_request(log.EventQuery, {k: v for k, v in query.items() if v is not None})


def _archive_keys(spec: Mapping[str, Any], after: str | None = None) -> Iterator[str]:
    start, end = datetime.fromisoformat(spec["from"]), datetime.fromisoformat(spec["to"])
    if after is not None:  # resume on the day of the last key done (keys sort by day, then time)
        day = datetime.strptime("/".join(after.split("/")[3:6]), "%Y/%m/%d").replace(tzinfo=UTC)
        start = max(start, day)
    for key in archived_keys(spec["provider"], spec["org_id"], start, end):
        if after is None or key > after:
            yield key


def _count(kind: str, spec: Mapping[str, Any]) -> int:
    matches = eventlog.iter_events(_event_query(spec)) if kind == "filter" else _archive_keys(spec)
    count = 0
    for _ in matches:
        count += 1
        if count > MAX_MATCHES:
            raise InvalidRequestError(
                f"{kind}: matches more than {MAX_MATCHES} events (the limit of one replay job); narrow it",
                code="too_many_matches",
            )
    return count


def _send(message: Mapping[str, Any]) -> None:
    aws_client("sqs").send_message(
        QueueUrl=get_settings().require("console_jobs_queue_url"), MessageBody=json.dumps(message)
    )


def create_job(body: Mapping[str, Any], *, operator: str, now: datetime | None = None) -> dict[str, Any]:
    """POST /console/api/replays: validate, count (bounded), store the job, enqueue its first page."""
    kind, spec = _spec(body)
    matched = _count(kind, spec)
    at = now or datetime.now(UTC)
    job_id = f"{at:%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}"
    aws_client("dynamodb").put_item(
        TableName=_table(),
        Item={
            "pk": {"S": "jobs"},
            "sk": {"S": job_id},
            "state": {"S": "queued"},
            "operator": {"S": operator},
            "kind": {"S": kind},
            "spec": {"S": json.dumps(spec)},
            "matched": {"N": str(matched)},
            "replayed": {"N": "0"},
            "skipped": {"N": "0"},
            "failed": {"N": "0"},
            "errors": {"S": "[]"},
            "page": {"N": "0"},
            "created_at": {"S": at.isoformat()},
            "expires_at": {"N": str(int(at.timestamp()) + JOB_TTL_SECONDS)},
        },
    )
    audit.record(
        spec["org_id"],
        "console_replay_started",
        actor=operator,
        integration=spec.get("provider"),
        details={"job_id": job_id, kind: spec, "matched": matched},
    )
    _send({"job_id": job_id, "page": 0, "cursor": None})
    return {"job_id": job_id, "state": "queued"}


def _job_json(item: Mapping[str, Any]) -> dict[str, Any]:
    kind = item["kind"]["S"]
    return {
        "job_id": item["sk"]["S"],
        "state": item["state"]["S"],
        "operator": item["operator"]["S"],
        kind: json.loads(item["spec"]["S"]),
        "matched": int(item["matched"]["N"]),
        "replayed": int(item["replayed"]["N"]),
        "skipped": int(item["skipped"]["N"]),
        "failed": int(item["failed"]["N"]),
        "errors": json.loads(item["errors"]["S"]),
        "created_at": item["created_at"]["S"],
        "finished_at": item.get("finished_at", {}).get("S"),
    }


def _get_item(job_id: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = (
        aws_client("dynamodb")
        .get_item(TableName=_table(), Key={"pk": {"S": "jobs"}, "sk": {"S": job_id[:100]}}, ConsistentRead=True)
        .get("Item")
    )
    return item


def get_job(job_id: str) -> dict[str, Any]:
    item = _get_item(job_id)
    if item is None:
        raise ConsoleNotFoundError(f"job_id: no replay job {job_id!r}", code="not_found")
    return _job_json(item)


def list_jobs(limit: int = 50) -> dict[str, Any]:
    items = aws_client("dynamodb").query(
        TableName=_table(),
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "jobs"}},
        ScanIndexForward=False,
        Limit=limit,
    )["Items"]
    return {"jobs": [_job_json(i) for i in items]}


def _fail(job_id: str, page_no: int, why: str, errors: list[dict[str, str]], *, now: datetime | None) -> None:
    aws_client("dynamodb").update_item(
        TableName=_table(),
        Key={"pk": {"S": "jobs"}, "sk": {"S": job_id}},
        UpdateExpression="SET #s = :s, #e = :e, finished_at = :at",
        ConditionExpression="#p = :p",
        ExpressionAttributeNames={"#s": "state", "#e": "errors", "#p": "page"},
        ExpressionAttributeValues={
            ":s": {"S": "failed"},
            ":e": {"S": json.dumps([*errors, {"message": why[:300]}][-MAX_ERRORS:])},
            ":at": {"S": (now or datetime.now(UTC)).isoformat()},
            ":p": {"N": str(page_no)},
        },
    )


def run_page(message: Mapping[str, Any], *, now: datetime | None = None) -> str:
    """ConsoleReplayJob: one page of a job; returns what it did ("done", "next", "stale", "failed")."""
    job_id, page_no = str(message["job_id"]), int(message["page"])
    item = _get_item(job_id)
    if item is None or item["state"]["S"] in ("done", "failed") or int(item["page"]["N"]) != page_no:
        return "stale"  # finished, or this page was already counted (a message delivered twice)
    kind, spec = item["kind"]["S"], json.loads(item["spec"]["S"])
    counts = {"replayed": 0, "skipped": 0, "failed": 0}
    errors: list[dict[str, str]] = json.loads(item["errors"]["S"])
    cursor: str | None = message.get("cursor")
    if kind == "filter":
        log = eventlog
        try:
            result_page = log.query_events(_event_query(spec, cursor))
        except InvalidRequestError as exc:  # never passes on a retry (a refused cursor): the job failed
            _fail(job_id, page_no, f"{exc.message} (page {page_no})", errors, now=now)
            return "failed"
        for summary in result_page.items:
            detail = log.get_event(summary.record_id)
            raw_ref, event_id = (detail.raw_ref, _event_id(detail)) if detail is not None else (None, None)
            result, why = _replay_one(raw_ref, event_id)
            counts[result] += 1
            if result == "failed" and len(errors) < MAX_ERRORS:
                errors.append({"record_id": summary.record_id, "message": why})
        next_cursor = result_page.cursor
    else:
        keys: list[str] = []
        for key in _archive_keys(spec, cursor):
            keys.append(key)
            if len(keys) == PAGE_SIZE:
                break
        for key in keys:
            result, why = _replay_one(key, None)
            counts[result] += 1
            if result == "failed" and len(errors) < MAX_ERRORS:
                errors.append({"key": key, "message": why})
        next_cursor = keys[-1] if len(keys) == PAGE_SIZE else None
    finished = next_cursor is None
    at = (now or datetime.now(UTC)).isoformat()
    names = {"#s": "state", "#p": "page", "#r": "replayed", "#k": "skipped", "#f": "failed", "#e": "errors"}
    values: dict[str, Any] = {
        ":s": {"S": "done" if finished else "running"},
        ":p": {"N": str(page_no)},
        ":one": {"N": "1"},
        ":r": {"N": str(counts["replayed"])},
        ":k": {"N": str(counts["skipped"])},
        ":f": {"N": str(counts["failed"])},
        ":e": {"S": json.dumps(errors)},
    }
    update = "SET #s = :s, #e = :e ADD #p :one, #r :r, #k :k, #f :f"
    if finished:
        update = "SET #s = :s, #e = :e, finished_at = :at ADD #p :one, #r :r, #k :k, #f :f"
        values[":at"] = {"S": at}
    ddb = aws_client("dynamodb")
    try:
        ddb.update_item(
            TableName=_table(),
            Key={"pk": {"S": "jobs"}, "sk": {"S": job_id}},
            UpdateExpression=update,
            ConditionExpression="#p = :p",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except ddb.exceptions.ConditionalCheckFailedException:
        return "stale"
    if finished:
        return "done"
    _send({"job_id": job_id, "page": page_no + 1, "cursor": next_cursor})
    return "next"
