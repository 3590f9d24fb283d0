"""Where insights syncs keep what they read (docs/social.md, "Insights").

SocialTable (DynamoDB), one partition per account: ``pk = ins#{org}#{network}#{account}``:

* ``sk = day#{yyyy-mm-dd}``: the account's metrics of that day, as last read;
* ``sk = post#{post_id}``: a post's lifetime metrics, as last read;
* ``sk = cursor``: ``through`` (the last day written completely: the next sync starts the day
  after), when posts were last read, and the last run's error (a rate limit defers the account
  until ``deferred_until``).

History: one JSON object per day and account in the GeneratedContentBucket, key
``exports/{org}/social/{network}/{account}/{yyyy-mm-dd}.json`` (not the ExportsBucket: its
lifecycle deletes objects after 7 days). Everything is keyed by the day, so a retry rewrites
the same object and item instead of adding another; an object whose content did not change is
not written again (the bucket is versioned: no extra version either).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from hub.aws import aws_client
from hub.config import get_settings
from hub.errors import ProviderUnavailableError
from hub.social.models import DayMetrics, Metrics, PostMetrics
from hub.storage import s3_client


class Cursor(BaseModel):
    """An account's sync position."""

    through: date | None = None
    posts_synced_on: date | None = None
    last_run_at: datetime | None = None
    last_error: str | None = None
    deferred_until: datetime | None = None


class StoredDay(BaseModel):
    day: date
    metrics: Metrics
    synced_at: datetime
    s3_key: str


class StoredPost(BaseModel):
    post_id: str
    metrics: Metrics
    synced_at: datetime


def _table() -> str:
    return get_settings().require("social_table")


def _bucket() -> str:
    return get_settings().require("generated_content_bucket")


def partition(org_id: str, network: str, account: str) -> str:
    return f"ins#{org_id}#{network}#{account}"


def history_key(org_id: str, network: str, account: str, day: date) -> str:
    """The day's history object in the GeneratedContentBucket."""
    return f"exports/{org_id}/social/{network}/{account}/{day.isoformat()}.json"


def _unavailable(service: str, exc: Exception) -> ProviderUnavailableError:
    code = exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else None
    return ProviderUnavailableError(
        f"{service} is unavailable for the insights store; retry later", provider=service, code=code
    )


# ----- cursor ------------------------------------------------------------------------------


def get_cursor(org_id: str, network: str, account: str) -> Cursor:
    try:
        item = (
            aws_client("dynamodb")
            .get_item(
                TableName=_table(),
                Key={"pk": {"S": partition(org_id, network, account)}, "sk": {"S": "cursor"}},
                ConsistentRead=True,
            )
            .get("Item")
        )
    except (ClientError, BotoCoreError) as exc:
        raise _unavailable("dynamodb", exc) from exc
    if not item:
        return Cursor()
    return Cursor.model_validate({k: v["S"] for k, v in item.items() if "S" in v and k not in ("pk", "sk")})


def advance_cursor(org_id: str, network: str, account: str, day: date, *, now: datetime) -> None:
    """``through = day`` unless the cursor is already at or past it (a concurrent run): it never
    moves back."""
    try:
        aws_client("dynamodb").update_item(
            TableName=_table(),
            Key={"pk": {"S": partition(org_id, network, account)}, "sk": {"S": "cursor"}},
            UpdateExpression="SET through = :day, updated_at = :now",
            ConditionExpression="attribute_not_exists(through) OR through < :day",
            ExpressionAttributeValues={":day": {"S": day.isoformat()}, ":now": {"S": now.isoformat()}},
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return
        raise _unavailable("dynamodb", exc) from exc
    except BotoCoreError as exc:
        raise _unavailable("dynamodb", exc) from exc


def record_run(
    org_id: str,
    network: str,
    account: str,
    *,
    now: datetime,
    error: str | None = None,
    deferred_until: datetime | None = None,
    posts_synced_on: date | None = None,
) -> None:
    """The run's outcome on the cursor item (``through`` untouched): the error (class and code,
    never a message from the network), a rate limit's reset, when posts were read."""
    sets = {"last_run_at": now.isoformat()}
    if error is not None:
        sets["last_error"] = error
    if deferred_until is not None:
        sets["deferred_until"] = deferred_until.isoformat()
    if posts_synced_on is not None:
        sets["posts_synced_on"] = posts_synced_on.isoformat()
    removes = [name for name, value in (("last_error", error), ("deferred_until", deferred_until)) if value is None]
    names = {f"#{name}": name for name in [*sets, *removes]}
    expression = "SET " + ", ".join(f"#{name} = :{name}" for name in sets)
    if removes:
        expression += " REMOVE " + ", ".join(f"#{name}" for name in removes)
    try:
        aws_client("dynamodb").update_item(
            TableName=_table(),
            Key={"pk": {"S": partition(org_id, network, account)}, "sk": {"S": "cursor"}},
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={f":{name}": {"S": value} for name, value in sets.items()},
        )
    except (ClientError, BotoCoreError) as exc:
        raise _unavailable("dynamodb", exc) from exc


# ----- days and posts ----------------------------------------------------------------------


def _history_body(org_id: str, network: str, account: str, day: DayMetrics) -> bytes:
    document = {
        "org_id": org_id,
        "network": network,
        "account": account,
        "day": day.day.isoformat(),
        "metrics": day.metrics,
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _same_object(bucket: str, key: str, md5_hex: str) -> bool:
    try:
        head = s3_client().head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        # Without s3:ListBucket (not granted) S3 answers a missing key with 403, not 404.
        if exc.response.get("Error", {}).get("Code") in ("403", "404", "NoSuchKey", "NotFound", "Forbidden"):
            return False
        raise
    return str(head.get("ETag", "")).strip('"') == md5_hex


def put_day(org_id: str, network: str, account: str, day: DayMetrics, *, now: datetime) -> str:
    """The day's history object, then its item (both keyed by the day: a retry overwrites them).
    Returns the object's key."""
    key = history_key(org_id, network, account, day.day)
    body = _history_body(org_id, network, account, day)
    digest = hashlib.md5(body, usedforsecurity=False).digest()
    bucket = _bucket()
    try:
        # A single-part SSE-S3 object's ETag is the MD5 of its bytes: unchanged content is not
        # written again (no new version in the versioned bucket).
        if not _same_object(bucket, key, digest.hex()):
            s3_client().put_object(
                Bucket=bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                ContentMD5=base64.b64encode(digest).decode(),
            )
    except (ClientError, BotoCoreError) as exc:
        raise _unavailable("s3", exc) from exc
    try:
        aws_client("dynamodb").put_item(
            TableName=_table(),
            Item={
                "pk": {"S": partition(org_id, network, account)},
                "sk": {"S": f"day#{day.day.isoformat()}"},
                "day": {"S": day.day.isoformat()},
                "metrics": {"S": json.dumps(day.metrics, sort_keys=True)},
                "synced_at": {"S": now.isoformat()},
                "s3_key": {"S": key},
            },
        )
    except (ClientError, BotoCoreError) as exc:
        raise _unavailable("dynamodb", exc) from exc
    return key


def put_post(org_id: str, network: str, account: str, post: PostMetrics, *, now: datetime) -> None:
    try:
        aws_client("dynamodb").put_item(
            TableName=_table(),
            Item={
                "pk": {"S": partition(org_id, network, account)},
                "sk": {"S": f"post#{post.post_id}"},
                "post_id": {"S": post.post_id},
                "metrics": {"S": json.dumps(post.metrics, sort_keys=True)},
                "synced_at": {"S": now.isoformat()},
            },
        )
    except (ClientError, BotoCoreError) as exc:
        raise _unavailable("dynamodb", exc) from exc


def _query(pk: str, condition: str, values: dict[str, Any]) -> Iterator[dict[str, Any]]:
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": f"pk = :pk AND {condition}",
        "ExpressionAttributeValues": {":pk": {"S": pk}, **values},
    }
    client = aws_client("dynamodb")
    while True:
        try:
            page = client.query(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable("dynamodb", exc) from exc
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def days(org_id: str, network: str, account: str, start: date, end: date) -> list[StoredDay]:
    """The stored days ``start``..``end`` inclusive, in order."""
    items = _query(
        partition(org_id, network, account),
        "sk BETWEEN :from AND :to",
        {":from": {"S": f"day#{start.isoformat()}"}, ":to": {"S": f"day#{end.isoformat()}"}},
    )
    return [
        StoredDay(
            day=date.fromisoformat(item["day"]["S"]),
            metrics=json.loads(item["metrics"]["S"]),
            synced_at=datetime.fromisoformat(item["synced_at"]["S"]),
            s3_key=item["s3_key"]["S"],
        )
        for item in items
    ]


def posts(org_id: str, network: str, account: str) -> list[StoredPost]:
    """Every post's latest metrics, by post id."""
    items = _query(partition(org_id, network, account), "begins_with(sk, :post)", {":post": {"S": "post#"}})
    return [
        StoredPost(
            post_id=item["post_id"]["S"],
            metrics=json.loads(item["metrics"]["S"]),
            synced_at=datetime.fromisoformat(item["synced_at"]["S"]),
        )
        for item in items
    ]
