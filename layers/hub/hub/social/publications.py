"""Publications in the SocialTable: one item per post (pk ``org#{org}``, sk ``pub#{id}``).

The record is the workflow's state (phase, the network's job, counters) and what
SocialPublicationStatus answers. Every write is conditional on the ``version`` it read, so two
invocations of a step (a Step Functions retry overlapping a slow first attempt) can never both
move a post forward — in particular never both publish it. ``status_key`` feeds the ByStatus
index (the manual queue per org, newest first).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from hub.aws import aws_client
from hub.config import get_settings
from hub.social.models import ManualReason, Network, PublicationStatus, PublishedPost, SocialContent

Phase = Literal["prepare", "poll", "publish", "publish_sent", "lookup", "done"]
MAX_ATTEMPTS_KEPT = 30
TEXT_IN_MESSAGES = 300


def now() -> datetime:
    return datetime.now(UTC)


def publication_id_for(org_id: str, idempotency_key: str) -> str:
    """The same request key always names the same publication (and workflow execution)."""
    return "pub_" + hashlib.sha256(f"{org_id}\n{idempotency_key}".encode()).hexdigest()[:32]


class Attempt(BaseModel):
    at: datetime
    phase: str
    outcome: str  # pending | ready | published | delayed | retry | unconfirmed | not_found | manual | error
    error: str | None = None
    code: str | None = None
    message: str | None = None


class Publication(BaseModel):
    org_id: str
    publication_id: str
    network: Network
    account: str
    content: SocialContent
    request_hash: str
    publish_at: datetime | None = None
    status: PublicationStatus
    phase: Phase = "prepare"
    job: dict[str, Any] = Field(default_factory=dict)
    poll_started_at: datetime | None = None
    polls: int = 0
    lookups: int = 0
    retries: int = 0
    delays: int = 0
    retry_at: datetime | None = None
    publish_started_at: datetime | None = None
    max_poll_seconds: int | None = None
    post: PublishedPost | None = None
    manual_reason: ManualReason | None = None
    manual_message: str | None = None
    notified: bool = False
    attempts: list[Attempt] = Field(default_factory=list)
    execution_arn: str | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 0

    def note(self, outcome: str, error: Exception | None = None) -> None:
        message = getattr(error, "message", None) if error is not None else None
        self.attempts.append(
            Attempt(
                at=now(),
                phase=self.phase,
                outcome=outcome,
                error=type(error).__name__ if error is not None else None,
                code=getattr(error, "code", None) if error is not None else None,
                message=str(message)[:TEXT_IN_MESSAGES] if message else None,
            )
        )
        del self.attempts[:-MAX_ATTEMPTS_KEPT]


class StaleRecordError(Exception):
    """Another invocation changed the publication since it was read."""


def _table() -> str:
    return get_settings().require("social_table")


def _key(org_id: str, publication_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"org#{org_id}"}, "sk": {"S": f"pub#{publication_id}"}}


def get(org_id: str, publication_id: str) -> Publication | None:
    item = (
        aws_client("dynamodb")
        .get_item(TableName=_table(), Key=_key(org_id, publication_id), ConsistentRead=True)
        .get("Item")
    )
    if not item:
        return None
    return Publication.model_validate_json(item["data"]["S"])


def _item(pub: Publication) -> dict[str, Any]:
    return {
        **_key(pub.org_id, pub.publication_id),
        "data": {"S": pub.model_dump_json(exclude_none=True)},
        "status_key": {"S": f"org#{pub.org_id}#{pub.status}"},
        "updated_at": {"S": pub.updated_at.isoformat()},
        "version": {"N": str(pub.version)},
    }


def create(pub: Publication) -> Publication:
    """Store a new publication; the stored one when the id exists already (a repeated request)."""
    try:
        aws_client("dynamodb").put_item(
            TableName=_table(), Item=_item(pub), ConditionExpression="attribute_not_exists(pk)"
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        existing = get(pub.org_id, pub.publication_id)
        if existing is None:  # deleted in between: nothing to answer but the new one
            raise
        return existing
    return pub


def save(pub: Publication) -> Publication:
    """Write ``pub`` if nobody changed it since it was read; StaleRecordError otherwise."""
    read_version = pub.version
    pub.version = read_version + 1
    pub.updated_at = now()
    try:
        aws_client("dynamodb").put_item(
            TableName=_table(),
            Item=_item(pub),
            ConditionExpression="version = :v",
            ExpressionAttributeValues={":v": {"N": str(read_version)}},
        )
    except ClientError as exc:
        pub.version = read_version
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise StaleRecordError(pub.publication_id) from None
        raise
    return pub


def list_by_status(
    org_id: str, status: PublicationStatus, *, limit: int = 50, changed_since: datetime | None = None
) -> list[Publication]:
    """An org's publications in one status, most recently changed first (the manual queue)."""
    condition = "status_key = :s"
    values: dict[str, Any] = {":s": {"S": f"org#{org_id}#{status}"}}
    if changed_since is not None:
        condition += " AND updated_at >= :since"
        values[":since"] = {"S": changed_since.astimezone(UTC).isoformat()}
    response = aws_client("dynamodb").query(
        TableName=_table(),
        IndexName="ByStatus",
        KeyConditionExpression=condition,
        ExpressionAttributeValues=values,
        ScanIndexForward=False,
        Limit=limit,
    )
    return [Publication.model_validate_json(item["data"]["S"]) for item in response.get("Items", [])]


def request_hash(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
