"""Every message the hub sends, and its latest delivery state, in the messages table.

Key: ``org_id`` + ``message_id`` (the provider's id: a ``wamid``, an Evolution key id, a
Twilio ``SM…`` sid, a Resend or SES email id — formats that cannot collide). Status
webhooks carry that id, so they find the record without an index; one that arrives before
the send was recorded (a fast provider) creates it, and the send fills in the rest.

States move forward only: queued → sent → delivered → read, with ``failed`` replacing
queued/sent (WhatsApp reports 131047 as a ``failed`` status after accepting the send). A
late or redelivered ``sent`` never overwrites ``delivered``; a duplicate changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from hub.aws import aws_client
from hub.config import get_settings
from hub.credentials import validate_org_id
from hub.errors import InvalidRequestError
from hub.messaging.contacts import iso
from hub.providers.outbound import Channel
from hub.requests import OperationRequest, OrgId

MessageState = Literal["queued", "sent", "delivered", "read", "failed"]
RANK: dict[str, int] = {"queued": 0, "sent": 10, "failed": 15, "delivered": 20, "read": 30}
RETENTION = timedelta(days=180)


@dataclass(frozen=True)
class SendContext:
    """Set when a send is one step of a NotifyContact run."""

    notification_id: str | None = None
    execution_arn: str | None = None


class MessageSent(BaseModel):
    """What every send answers. ``message_id`` is the provider's id, the key of MessageStatus."""

    channel: Literal["whatsapp", "sms", "email"] = "whatsapp"
    provider: str
    message_id: str
    to: str
    status: str | None = None
    via_template: str | None = Field(None, description="set when sent as the fallback template")


class MessageRecord(BaseModel):
    """What ``MessageStatus`` answers."""

    org_id: str
    message_id: str
    channel: Channel | None = None
    provider: str | None = None
    to: str | None = None
    status: MessageState
    status_at: datetime
    error_code: str | None = None
    error_reason: str | None = None
    sent_at: datetime | None = None
    via_template: str | None = None
    notification_id: str | None = None


def _table() -> str:
    return get_settings().require("messages_table")


def _key(org_id: str, message_id: str) -> dict[str, Any]:
    return {"org_id": {"S": org_id}, "message_id": {"S": message_id}}


def _expires(at: datetime) -> dict[str, str]:
    return {"N": str(int((at + RETENTION).timestamp()))}


def record_sent(
    org_id: str,
    message_id: str,
    *,
    channel: Channel,
    provider: str,
    to: str,
    at: datetime | None = None,
    via_template: str | None = None,
    context: SendContext | None = None,
) -> None:
    """The provider accepted the message: create its record as ``queued`` (kept if a
    status webhook already moved it further), with the NotifyContact run it is a step of."""
    at = at or datetime.now(UTC)
    context = context or SendContext()
    names = {"#s": "status", "#to": "to"}
    values: dict[str, Any] = {
        ":channel": {"S": channel},
        ":provider": {"S": provider},
        ":to": {"S": to},
        ":sent_at": {"S": iso(at)},
        ":queued": {"S": "queued"},
        ":rank": {"N": str(RANK["queued"])},
        ":expires": _expires(at),
    }
    sets = [
        "channel = :channel",
        "provider = :provider",
        "#to = :to",
        "sent_at = :sent_at",
        "expires_at = :expires",
        "#s = if_not_exists(#s, :queued)",
        "status_rank = if_not_exists(status_rank, :rank)",
        "status_at = if_not_exists(status_at, :sent_at)",
    ]
    optional = {
        "via_template": via_template,
        "notification_id": context.notification_id,
        "execution_arn": context.execution_arn,
    }
    for name, value in optional.items():
        if value:
            sets.append(f"{name} = :{name}")
            values[f":{name}"] = {"S": value}
    aws_client("dynamodb").update_item(
        TableName=_table(),
        Key=_key(org_id, message_id),
        UpdateExpression="SET " + ", ".join(sets),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


def apply_status(
    org_id: str,
    message_id: str,
    status: MessageState,
    *,
    at: datetime,
    channel: Channel | None = None,
    provider: str | None = None,
    error_code: str | None = None,
    error_reason: str | None = None,
) -> bool:
    """Move the message to ``status`` if that is forward; False when it is not (a late,
    out-of-order or duplicate delivery)."""
    names = {"#s": "status"}
    values: dict[str, Any] = {
        ":s": {"S": status},
        ":rank": {"N": str(RANK[status])},
        ":at": {"S": iso(at)},
        ":expires": _expires(at),
    }
    sets = ["#s = :s", "status_rank = :rank", "status_at = :at", "expires_at = if_not_exists(expires_at, :expires)"]
    for name, value in {
        "channel": channel,
        "provider": provider,
        "error_code": error_code,
        "error_reason": error_reason,
    }.items():
        if value:
            sets.append(
                f"{name} = if_not_exists({name}, :{name})" if name in ("channel", "provider") else f"{name} = :{name}"
            )
            values[f":{name}"] = {"S": value[:500]}
    try:
        aws_client("dynamodb").update_item(
            TableName=_table(),
            Key=_key(org_id, message_id),
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression="attribute_not_exists(status_rank) OR status_rank < :rank",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def get_record(org_id: str, message_id: str) -> MessageRecord:
    item = (
        aws_client("dynamodb")
        .get_item(TableName=_table(), Key=_key(org_id, message_id), ConsistentRead=True)
        .get("Item")
    )
    if not item:
        raise InvalidRequestError(f"no message {message_id!r} was sent through the hub for this org", code="not_found")
    return record_from_item(item)


def record_from_item(item: dict[str, Any]) -> MessageRecord:
    def text(name: str) -> str | None:
        value = item.get(name, {}).get("S")
        return str(value) if value is not None else None

    def when(name: str) -> datetime | None:
        value = text(name)
        return datetime.fromisoformat(value) if value else None

    return MessageRecord.model_validate(
        {
            "org_id": text("org_id"),
            "message_id": text("message_id"),
            "channel": text("channel"),
            "provider": text("provider"),
            "to": text("to"),
            "status": text("status"),
            "status_at": when("status_at"),
            "error_code": text("error_code"),
            "error_reason": text("error_reason"),
            "sent_at": when("sent_at"),
            "via_template": text("via_template"),
            "notification_id": text("notification_id"),
        }
    )


def execution_of(org_id: str, message_id: str) -> tuple[str | None, str | None]:
    """(notification_id, execution_arn) of the NotifyContact run that sent this message."""
    item = aws_client("dynamodb").get_item(TableName=_table(), Key=_key(org_id, message_id)).get("Item") or {}
    return item.get("notification_id", {}).get("S"), item.get("execution_arn", {}).get("S")


class MessageStatusRequest(OperationRequest):
    model_config = ConfigDict(str_strip_whitespace=True)

    org_id: OrgId
    message_id: str = Field(min_length=1, max_length=256, description="the message_id a send answered")


def message_status(request: MessageStatusRequest) -> MessageRecord:
    return get_record(validate_org_id(request.org_id), request.message_id)
