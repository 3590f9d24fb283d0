"""CalendarTable (DynamoDB, ``pk``/``sk``, TTL ``expires_at``): one partition per org.

=================================  =========================================================
``sk``                             what
=================================  =========================================================
``settings``                       working hours per weekday, time zone, free/busy calendars
``channel#{channel_id}``           a push channel: calendar, Google's resource id, the random
                                   token's SHA-256 (Google echoes the token), expiration; ``ByExpiry``
                                   (``channel_shard`` = "channel", ``expiration``) for renewal
``sync#{cal}``                     the calendar's ``nextSyncToken``
``event#{cal}#{event_id}``         the last version of an event the sync saw (etag, status)
``push#{channel_id}#{number}``     a push notification already taken (dedupe, 1 day)
``watch_pending``                  a watch that failed; ByExpiry (``channel_shard`` =
                                   "watch_pending") finds it for the hourly retry
=================================  =========================================================

``{cal}`` is a hash of the calendar id (ids hold ``#``, e.g. holiday calendars); the id
itself is an attribute. The channel token is a secret: only its SHA-256 is stored (a read of
the table does not let anyone post as Google), and it never reaches a log.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from hub.aws import aws_client
from hub.calendar.models import CalendarSettings
from hub.config import get_settings
from hub.errors import ProviderUnavailableError

CHANNEL_SHARD = "channel"
# Orgs whose calendars could not all be watched (Google down at connect): retried hourly.
WATCH_PENDING_SHARD = "watch_pending"
EXPIRY_INDEX = "ByExpiry"
PUSH_DEDUPE_SECONDS = 24 * 3600
# An event record outlives the event's end by this much (a late edit is still an update).
EVENT_RECORD_DAYS = 400

_ser = TypeSerializer()
_de = TypeDeserializer()


def _table() -> str:
    return get_settings().require("calendar_table")


def _pk(org_id: str) -> str:
    return f"org#{org_id}"


def calendar_key(calendar_id: str) -> str:
    return hashlib.sha256(calendar_id.encode("utf-8")).hexdigest()[:32]


def _item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _ser.serialize(v) for k, v in values.items() if v is not None}


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _de.deserialize(v) for k, v in item.items()}


def _get(org_id: str, sk: str) -> dict[str, Any] | None:
    item = (
        aws_client("dynamodb")
        .get_item(TableName=_table(), Key=_item({"pk": _pk(org_id), "sk": sk}), ConsistentRead=True)
        .get("Item")
    )
    return _plain(item) if item else None


def _query_prefix(org_id: str, prefix: str) -> list[dict[str, Any]]:
    client = aws_client("dynamodb")
    out: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :p)",
        "ExpressionAttributeValues": _item({":pk": _pk(org_id), ":p": prefix}),
        "ConsistentRead": True,
    }
    while True:
        page = client.query(**kwargs)
        out.extend(_plain(i) for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return out
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


# ----- settings ----------------------------------------------------------------------------------


def get_org_settings(org_id: str) -> tuple[CalendarSettings, str | None]:
    """The org's settings (defaults: Mon-Fri 09:00-18:00 America/Sao_Paulo) and when set."""
    item = _get(org_id, "settings")
    if item is None:
        return CalendarSettings(), None
    return CalendarSettings.model_validate(item["settings"]), item.get("updated_at")


def put_org_settings(org_id: str, settings: CalendarSettings) -> str:
    at = _now().isoformat()
    aws_client("dynamodb").put_item(
        TableName=_table(),
        Item=_item(
            {"pk": _pk(org_id), "sk": "settings", "settings": settings.model_dump(mode="json"), "updated_at": at}
        ),
    )
    return at


# ----- channels ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Channel:
    org_id: str
    channel_id: str
    calendar_id: str
    resource_id: str
    token_hash: str  # SHA-256 hex of the channel's token
    expiration: int  # unix seconds
    created_at: str

    def __repr__(self) -> str:  # not even the token's hash reaches a log line
        return f"Channel({self.org_id!r}, {self.channel_id!r}, {self.calendar_id!r}, expiration={self.expiration})"


def _channel(item: dict[str, Any]) -> Channel:
    return Channel(
        org_id=str(item["pk"]).removeprefix("org#"),
        channel_id=str(item["channel_id"]),
        calendar_id=str(item["calendar_id"]),
        resource_id=str(item["resource_id"]),
        token_hash=str(item["token_hash"]),
        expiration=int(item["expiration"]),
        created_at=str(item.get("created_at", "")),
    )


def put_channel(channel: Channel) -> None:
    aws_client("dynamodb").put_item(
        TableName=_table(),
        Item=_item(
            {
                "pk": _pk(channel.org_id),
                "sk": f"channel#{channel.channel_id}",
                "channel_id": channel.channel_id,
                "calendar_id": channel.calendar_id,
                "resource_id": channel.resource_id,
                "token_hash": channel.token_hash,
                "expiration": channel.expiration,
                "created_at": channel.created_at,
                "channel_shard": CHANNEL_SHARD,
                # Removed by TTL a day after Google stops using it.
                "expires_at": channel.expiration + 86400,
            }
        ),
    )


def get_channel(org_id: str, channel_id: str) -> Channel | None:
    item = _get(org_id, f"channel#{channel_id}")
    return _channel(item) if item else None


def org_channels(org_id: str) -> list[Channel]:
    return [_channel(i) for i in _query_prefix(org_id, "channel#")]


def delete_channel(org_id: str, channel_id: str) -> None:
    aws_client("dynamodb").delete_item(
        TableName=_table(), Key=_item({"pk": _pk(org_id), "sk": f"channel#{channel_id}"})
    )


def channels_expiring_before(deadline: int) -> list[Channel]:
    """Every org's channels that expire before ``deadline`` (unix seconds), soonest first."""
    client = aws_client("dynamodb")
    out: list[Channel] = []
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "IndexName": EXPIRY_INDEX,
        "KeyConditionExpression": "channel_shard = :s AND expiration < :d",
        "ExpressionAttributeValues": _item({":s": CHANNEL_SHARD, ":d": deadline}),
    }
    while True:
        page = client.query(**kwargs)
        out.extend(_channel(_plain(i)) for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return out
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def mark_watch_pending(org_id: str, *, now: float | None = None) -> None:
    now = time.time() if now is None else now
    aws_client("dynamodb").put_item(
        TableName=_table(),
        Item=_item(
            {
                "pk": _pk(org_id),
                "sk": "watch_pending",
                "channel_shard": WATCH_PENDING_SHARD,
                "expiration": int(now),
                "expires_at": int(now) + 30 * 86400,  # given up after a month (the grant is likely gone)
            }
        ),
    )


def clear_watch_pending(org_id: str) -> None:
    aws_client("dynamodb").delete_item(TableName=_table(), Key=_item({"pk": _pk(org_id), "sk": "watch_pending"}))


def orgs_watch_pending() -> list[str]:
    page = aws_client("dynamodb").query(
        TableName=_table(),
        IndexName=EXPIRY_INDEX,
        KeyConditionExpression="channel_shard = :s",
        ExpressionAttributeValues=_item({":s": WATCH_PENDING_SHARD}),
    )
    return [str(_plain(i)["pk"]).removeprefix("org#") for i in page.get("Items", [])]


def claim_push(org_id: str, channel_id: str, message_number: str, *, now: float | None = None) -> bool:
    """Take one push notification (channel id, message number): False if already taken."""
    now = time.time() if now is None else now
    try:
        aws_client("dynamodb").put_item(
            TableName=_table(),
            Item=_item(
                {
                    "pk": _pk(org_id),
                    "sk": f"push#{channel_id}#{message_number}",
                    "expires_at": int(now) + PUSH_DEDUPE_SECONDS,
                }
            ),
            ConditionExpression="attribute_not_exists(sk)",
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


def release_push(org_id: str, channel_id: str, message_number: str) -> None:
    """Give a notification back (its sync could not be enqueued): Google's retry is new."""
    aws_client("dynamodb").delete_item(
        TableName=_table(), Key=_item({"pk": _pk(org_id), "sk": f"push#{channel_id}#{message_number}"})
    )


# ----- sync state and event records --------------------------------------------------------------


def get_sync_token(org_id: str, calendar_id: str) -> tuple[bool, str | None]:
    """``(synced_before, sync_token)``."""
    item = _get(org_id, f"sync#{calendar_key(calendar_id)}")
    if item is None:
        return False, None
    return True, item.get("sync_token")


def put_sync_token(org_id: str, calendar_id: str, sync_token: str | None, *, full: bool) -> None:
    values = {
        "pk": _pk(org_id),
        "sk": f"sync#{calendar_key(calendar_id)}",
        "calendar_id": calendar_id,
        "sync_token": sync_token,
        "synced_at": _now().isoformat(),
    }
    if full:
        values["full_synced_at"] = values["synced_at"]
    aws_client("dynamodb").put_item(TableName=_table(), Item=_item(values))


@dataclass(frozen=True)
class EventRecord:
    """The last version of an event the sync saw, and what a cancellation must still say
    (Google lists a deleted event with little more than its id)."""

    event_id: str
    etag: str
    status: str
    summary: str | None = None
    start: dict[str, Any] | None = None
    end: dict[str, Any] | None = None
    attendees: tuple[str, ...] = ()


def event_records(org_id: str, calendar_id: str) -> dict[str, EventRecord]:
    prefix = f"event#{calendar_key(calendar_id)}#"
    return {
        str(i["event_id"]): EventRecord(
            str(i["event_id"]),
            str(i.get("etag", "")),
            str(i.get("status", "")),
            summary=i.get("summary"),
            start=i.get("start"),
            end=i.get("end"),
            attendees=tuple(str(a) for a in i.get("attendees") or ()),
        )
        for i in _query_prefix(org_id, prefix)
    }


def put_event_records(org_id: str, calendar_id: str, records: list[EventRecord]) -> None:
    """Write the versions just processed (BatchWriteItem, 25 a call, unprocessed retried)."""
    client = aws_client("dynamodb")
    expires = int(time.time()) + EVENT_RECORD_DAYS * 86400
    cal = calendar_key(calendar_id)
    puts = [
        {
            "PutRequest": {
                "Item": _item(
                    {
                        "pk": _pk(org_id),
                        "sk": f"event#{cal}#{r.event_id}",
                        "event_id": r.event_id,
                        "calendar_id": calendar_id,
                        "etag": r.etag,
                        "status": r.status,
                        "summary": r.summary,
                        "start": r.start,
                        "end": r.end,
                        "attendees": list(r.attendees) or None,
                        "expires_at": expires,
                    }
                )
            }
        }
        for r in records
    ]
    for i in range(0, len(puts), 25):
        pending: dict[str, Any] = {_table(): puts[i : i + 25]}
        for _attempt in range(5):
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
        else:
            raise ProviderUnavailableError("DynamoDB left calendar event records unwritten", provider="dynamodb")
