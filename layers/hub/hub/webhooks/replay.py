"""Operator tools: replay archived webhooks and redrive a dead-letter queue.

Replay re-runs the normal path from the archived bytes (parse → normalise → publish once):
an event that already reached the EventBridge bus is reported as a duplicate and not sent
again; one that never got there (its enqueue failed, or it failed in the consumer until the
DLQ and was purged) is enqueued again (:mod:`hub.webhooks.delivery`).

Authentication is not repeated — a request is archived only after it was authenticated, and
signatures carry timestamps that a replay would fail.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from hub.aws import aws_client
from hub.config import get_settings
from hub.errors import HubError
from hub.jsonmoney import loads_json
from hub.storage import ObjectStorage
from hub.webhooks.ingress import WebhookResult, process_archived
from hub.webhooks.models import RawWebhook
from hub.webhooks.specs import webhook_spec


def load_archived(key: str, storage: ObjectStorage | None = None) -> RawWebhook:
    bucket = get_settings().require("webhook_archive_bucket")
    doc: dict[str, Any] = json.loads((storage or ObjectStorage()).get_bytes(bucket, key))
    body = doc["body"].encode("utf-8") if doc.get("body_encoding") == "utf-8" else base64.b64decode(doc["body"])
    return RawWebhook(
        provider=doc["provider"],
        org_id=doc["org_id"],
        method=doc.get("method", "POST"),
        path=doc.get("path", ""),
        headers=doc.get("headers", {}),
        query=doc.get("query", {}),
        body=body,
        received_at=datetime.fromisoformat(doc["received_at"]),
        source_ip=doc.get("source_ip"),
        route_params=doc.get("route_params", {}),
    )


def replay_key(key: str) -> WebhookResult:
    request = load_archived(key)
    spec = webhook_spec(request.provider)
    return process_archived(spec, request, key)


def archived_keys(provider: str, org_id: str, start: datetime, end: datetime) -> Iterator[str]:
    """Archive keys of one provider/org received in [start, end] (by the key's date and time)."""
    bucket = get_settings().require("webhook_archive_bucket")
    s3 = ObjectStorage().client
    day: date = start.date()
    while day <= end.date():
        prefix = f"raw/{provider}/{org_id}/{day:%Y/%m/%d}/"
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                stamp = obj["Key"][len(prefix) :].split("-", 1)[0]  # HHMMSSffffff
                at = datetime.strptime(f"{day:%Y%m%d}{stamp}", "%Y%m%d%H%M%S%f").replace(tzinfo=start.tzinfo)
                if start <= at <= end:
                    yield obj["Key"]
        day += timedelta(days=1)


@dataclass
class ReplayReport:
    replayed: list[str] = field(default_factory=list)  # archive keys whose events were enqueued again
    duplicates: list[str] = field(default_factory=list)  # nothing to do: their events are on the bus
    rejected: dict[str, str] = field(default_factory=dict)  # key -> why (400s, failures)
    event_ids: list[str] = field(default_factory=list)


def replay(keys: Iterator[str] | list[str], *, event_id: str | None = None) -> ReplayReport:
    """Replay archived requests; with ``event_id`` only those that normalise to that event."""
    report = ReplayReport()
    for key in keys:
        if event_id is not None and event_id not in _event_ids_of(key):
            continue
        result = replay_key(key)
        if result.status_code != 200:
            report.rejected[key] = f"{result.status_code} {result.body.get('message', '')}"
        elif result.body.get("event_ids"):
            report.replayed.append(key)
            report.event_ids.extend(result.body["event_ids"])
        else:
            report.duplicates.append(key)
    return report


def _event_ids_of(key: str) -> set[str]:
    request = load_archived(key)
    spec = webhook_spec(request.provider)
    try:
        payload = spec.parse_body(request.body) if spec.parse_body is not None else loads_json(request.body)
        events = spec.normalise(
            payload, org_id=request.org_id, received_at=request.received_at, raw_ref=key, request=request
        )
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, ArithmeticError, HubError):
        return set()  # replay_key would reject it too; it carries no event
    return {e.event_id for e in events}


def redrive(dlq_url: str, target_url: str, *, limit: int = 10_000) -> int:
    """Move messages from a dead-letter queue back to its source queue (body and
    attributes kept; deleted from the DLQ only after the send succeeded)."""
    sqs = aws_client("sqs")
    moved = 0
    while moved < limit:
        messages = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=min(10, limit - moved),
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
            VisibilityTimeout=60,
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            kwargs: dict[str, Any] = {"QueueUrl": target_url, "MessageBody": message["Body"]}
            if message.get("MessageAttributes"):
                kwargs["MessageAttributes"] = message["MessageAttributes"]
            sqs.send_message(**kwargs)
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved
