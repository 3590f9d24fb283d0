"""The dead-letter queues the template declares (env ``CONSOLE_DLQS``: logical id -> URL): depth,
browse, redrive (docs/console.md "JSON API").

A queue's source is found with SQS ListDeadLetterSourceQueues (the queues whose RedrivePolicy
names it); redrive moves messages back there with hub.webhooks.replay.redrive (body and
attributes kept, deleted only after the send succeeded). FailedInvocationsDLQ has no source
queue: it holds failed asynchronous invocations of every function, and what Lambda writes there
is the original event as the body with the attributes RequestID, ErrorCode and ErrorMessage —
nothing names the function (https://docs.aws.amazon.com/lambda/latest/dg/dlq.html), so the
console browses it but refuses to redrive it (re-run the named job by hand, e.g. python -m ops).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any

from hub import audit
from hub.aws import aws_client
from hub.config import get_settings
from hub.console.auth import ConsoleNotFoundError
from hub.errors import ConfigurationError, InvalidRequestError
from hub.masking import mask_text, mask_value
from hub.webhooks.replay import redrive as move_messages

# The audit trail is per org; a DLQ is the platform's: its redrives are recorded under this id.
PLATFORM_AUDIT_ORG = "platform"
BROWSE_VISIBILITY_SECONDS = 30
MAX_BROWSE = 10
_SEARCH_PASSES = 10


@cache
def _parse(raw: str | None) -> dict[str, str]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        raise ConfigurationError("CONSOLE_DLQS must be a JSON object of name -> queue URL") from None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigurationError("CONSOLE_DLQS must be a JSON object of name -> queue URL")
    return {str(k): v for k, v in value.items()}


def configured() -> dict[str, str]:
    return _parse(get_settings().console_dlqs)


def _url(name: str) -> str:
    url = configured().get(name)
    if url is None:
        raise ConsoleNotFoundError(f"name: no dead-letter queue {name[:80]!r}", code="not_found")
    return url


def _source(url: str) -> str | None:
    sources = aws_client("sqs").list_dead_letter_source_queues(QueueUrl=url).get("queueUrls", [])
    return str(sources[0]) if sources else None


def _receive(url: str, count: int, visibility: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = (
        aws_client("sqs")
        .receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=count,
            VisibilityTimeout=visibility,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        .get("Messages", [])
    )
    return messages


def _release(url: str, messages: list[dict[str, Any]]) -> None:
    """Visible again right away: browsing must not hide a message from a redrive."""
    if messages:
        aws_client("sqs").change_message_visibility_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(messages)
            ],
        )


def _sent_at(message: Mapping[str, Any]) -> datetime | None:
    stamp = (message.get("Attributes") or {}).get("SentTimestamp")
    return datetime.fromtimestamp(int(stamp) / 1000, tz=UTC) if stamp else None


def queues(*, now: datetime | None = None) -> dict[str, Any]:
    """Depth, in flight, the age of the oldest of the messages sampled (up to 10: SQS reports no
    oldest age itself; CloudWatch's ApproximateAgeOfOldestMessage is on the dashboard) and source."""
    sqs = aws_client("sqs")
    at = now or datetime.now(UTC)
    out: list[dict[str, Any]] = []
    for name, url in sorted(configured().items()):
        attrs = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        depth = int(attrs.get("ApproximateNumberOfMessages", 0))
        oldest: int | None = None
        if depth:
            sample = _receive(url, MAX_BROWSE, BROWSE_VISIBILITY_SECONDS)
            _release(url, sample)
            ages = [int((at - sent).total_seconds()) for m in sample if (sent := _sent_at(m)) is not None]
            oldest = max(ages, default=None)
        source = _source(url)
        out.append(
            {
                "name": name,
                "depth": depth,
                "in_flight": int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
                "oldest_age_seconds": oldest,
                "source": source.rsplit("/", 1)[-1] if source else None,
            }
        )
    return {"queues": out}


def _body(text: str) -> Any:
    try:
        return mask_value(json.loads(text))
    except ValueError:
        return mask_text(text)


def messages(name: str, limit: str | None) -> dict[str, Any]:
    """Up to ``limit`` (1-10) messages, bodies masked, each left visible again."""
    url = _url(name)
    count = MAX_BROWSE
    if limit:
        if not limit.isdigit() or not 1 <= int(limit) <= MAX_BROWSE:
            raise InvalidRequestError(f"limit: must be a whole number from 1 to {MAX_BROWSE}", code="invalid_request")
        count = int(limit)
    received = _receive(url, count, BROWSE_VISIBILITY_SECONDS)
    _release(url, received)
    out = []
    for m in received:
        attributes = {
            key: mask_text(str(value.get("StringValue", value.get("DataType", ""))))
            for key, value in (m.get("MessageAttributes") or {}).items()
        }
        sent = _sent_at(m)
        out.append(
            {
                "message_id": m["MessageId"],
                "sent_at": sent.isoformat() if sent else None,
                "receive_count": int((m.get("Attributes") or {}).get("ApproximateReceiveCount", 0)),
                "attributes": attributes,
                "body": _body(m["Body"]),
            }
        )
    return {"messages": out}


def _redrive_one(url: str, target: str, message_id: str) -> int:
    """Find the message (a few receive passes; others are released) and move it."""
    sqs = aws_client("sqs")
    for _ in range(_SEARCH_PASSES):
        batch = _receive(url, MAX_BROWSE, BROWSE_VISIBILITY_SECONDS)
        if not batch:
            break
        found = [m for m in batch if m["MessageId"] == message_id]
        _release(url, [m for m in batch if m["MessageId"] != message_id])
        if found:
            message = found[0]
            kwargs: dict[str, Any] = {"QueueUrl": target, "MessageBody": message["Body"]}
            if message.get("MessageAttributes"):
                kwargs["MessageAttributes"] = message["MessageAttributes"]
            sqs.send_message(**kwargs)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            return 1
    raise ConsoleNotFoundError(f"message_id: {message_id[:100]!r} is not in {url.rsplit('/', 1)[-1]}", code="not_found")


def redrive(name: str, body: Mapping[str, Any], *, operator: str) -> dict[str, Any]:
    """POST /console/api/dlqs/{name}/redrive: ``{}`` moves all, ``{"message_id"}`` one."""
    url = _url(name)
    if set(body) - {"message_id"}:
        raise InvalidRequestError("body: only message_id may be given (or nothing: all)", code="invalid_request")
    message_id = body.get("message_id")
    if message_id is not None and (not isinstance(message_id, str) or not 1 <= len(message_id) <= 100):
        raise InvalidRequestError("message_id: must be a message id from the browse", code="invalid_request")
    target = _source(url)
    if target is None:
        raise InvalidRequestError(
            f"name: {name} has no source queue (its messages are failed asynchronous invocations, which do not "
            "name their function); browse them and re-run the job by hand",
            code="not_redrivable",
        )
    if target.endswith(".fifo"):  # a FIFO message needs its group id back, which a receive does not give
        raise InvalidRequestError(
            f"name: {name} feeds a FIFO queue; redrive it with SQS's own redrive (StartMessageMoveTask)",
            code="not_redrivable",
        )
    moved = move_messages(url, target) if message_id is None else _redrive_one(url, target, message_id)
    audit.record(
        PLATFORM_AUDIT_ORG,
        "console_dlq_redriven",
        actor=operator,
        details={"queue": name, "moved": moved, **({"message_id": message_id} if message_id else {})},
    )
    return {"moved": moved}
