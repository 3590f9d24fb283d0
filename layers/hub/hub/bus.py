"""The hub's own events on its EventBridge bus (``Source: integrations-hub``), in one place."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from hub.aws import aws_client
from hub.config import get_settings
from hub.errors import ProviderUnavailableError

EVENT_SOURCE = "integrations-hub"
_BATCH = 10  # PutEvents takes at most 10 entries per call


def put_events(events: Iterable[tuple[str, dict[str, Any]]]) -> None:
    """Publish ``(detail-type, detail)`` pairs; ProviderUnavailableError if any entry is
    refused (the caller's retry republishes; subscribers dedupe on ids in the detail)."""
    bus = get_settings().require("event_bus_name")
    entries = [
        {
            "Source": EVENT_SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(detail, ensure_ascii=False, default=str),
            "EventBusName": bus,
        }
        for detail_type, detail in events
    ]
    client = aws_client("events")
    for i in range(0, len(entries), _BATCH):
        response = client.put_events(Entries=entries[i : i + _BATCH])
        if response.get("FailedEntryCount"):
            raise ProviderUnavailableError("EventBridge refused an event; it will be retried", provider="events")


def put_event(detail_type: str, detail: dict[str, Any]) -> None:
    put_events([(detail_type, detail)])
