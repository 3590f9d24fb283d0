"""What the hub does with a normalised inbound event once it is off the queue.

``message.received``: remember when the contact last wrote to us (WhatsApp's 24-hour
customer-service window is counted from it), then publish the event on the hub's
EventBridge bus for downstream services (the SDR agents) to subscribe to by type.
Processing is idempotent: a redelivered event moves nothing backwards and publishes the
same event id again, which subscribers dedupe on.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from hub.aws import aws_client
from hub.config import get_settings
from hub.errors import ProviderUnavailableError
from hub.events import HubEvent, InboundMessage
from hub.observability import logger

EVENT_SOURCE = "integrations-hub"


def contact_key(org_id: str, channel: str, address: str) -> dict[str, Any]:
    return {"org_id": {"S": org_id}, "contact": {"S": f"{channel}#{address}"}}


def record_inbound_message(event: HubEvent) -> None:
    message = InboundMessage.model_validate(event.data)
    occurred = event.occurred_at.isoformat()
    try:
        aws_client("dynamodb").update_item(
            TableName=get_settings().require("contacts_table"),
            Key=contact_key(event.org_id, message.channel, message.from_address),
            UpdateExpression=(
                "SET last_inbound_at = :at, last_inbound_message_id = :id, "
                "last_inbound_provider = :provider, display_name = :name"
            ),
            # Out-of-order deliveries never move the window backwards.
            ConditionExpression="attribute_not_exists(last_inbound_at) OR last_inbound_at < :at",
            ExpressionAttributeValues={
                ":at": {"S": occurred},
                ":id": {"S": message.message_id},
                ":provider": {"S": event.provider},
                ":name": {"S": message.from_name or ""},
            },
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


def publish_to_bus(event: HubEvent) -> None:
    response = aws_client("events").put_events(
        Entries=[
            {
                "Source": EVENT_SOURCE,
                "DetailType": event.type,
                "Detail": json.dumps(event.model_dump(mode="json"), ensure_ascii=False),
                "EventBusName": get_settings().require("event_bus_name"),
                "Resources": [],
            }
        ]
    )
    if response.get("FailedEntryCount"):
        raise ProviderUnavailableError("EventBridge rejected the event; it will be retried")


def process_inbound_event(event: HubEvent) -> None:
    if event.type == "message.received":
        record_inbound_message(event)
    publish_to_bus(event)
    logger.info(
        "inbound_event_processed",
        extra={"event_id": event.event_id, "type": event.type, "provider": event.provider, "org_id": event.org_id},
    )
