"""The calls this package makes of the org's Google adapter (``hub.providers.google.client``,
agreed interface: docs/calendar.md "Adapter calls"). Domain code sees this Protocol only, so
its tests run against an in-memory fake and never against the network."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

PROVIDER = "google"


class CalendarClient(Protocol):
    def list_calendars(self) -> list[dict[str, Any]]: ...

    def insert_event(
        self, calendar_id: str, event: dict[str, Any], *, event_id: str, request_id: str
    ) -> dict[str, Any]: ...

    def get_event(self, calendar_id: str, event_id: str) -> dict[str, Any]: ...

    def patch_event(self, calendar_id: str, event_id: str, changes: dict[str, Any]) -> dict[str, Any]: ...

    def cancel_event(self, calendar_id: str, event_id: str) -> None: ...

    def free_busy(
        self, calendar_ids: list[str], time_min: datetime, time_max: datetime, time_zone: str
    ) -> dict[str, list[tuple[datetime, datetime]]]: ...

    def list_events(
        self, calendar_id: str, *, sync_token: str | None = None, page_token: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None, str | None]: ...

    def watch_events(
        self, calendar_id: str, *, channel_id: str, token: str, address: str, ttl_seconds: int
    ) -> dict[str, Any]: ...

    def stop_channel(self, channel_id: str, resource_id: str) -> None: ...


def calendar_client(org_id: str) -> CalendarClient:
    """The org's Google adapter (its OAuth tokens), imported on first use: the push receiver
    never loads an HTTP client."""
    from hub.providers.google.client import GoogleClient

    client: CalendarClient = GoogleClient.for_org(org_id)
    return client
