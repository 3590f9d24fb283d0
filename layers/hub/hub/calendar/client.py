"""The org's calendar: its adapter behind the ``Calendar`` port (hub.providers.ports; the calls
are in docs/calendar.md "Adapter calls"). Domain code sees the port only, so its tests run
against an in-memory fake and never against the network."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.providers.ports import Calendar

PROVIDER = "google"


def calendar_client(org_id: str) -> Calendar:
    """The org's Google adapter (its OAuth tokens) as the Calendar port, resolved on first use:
    the push receiver never loads the provider registry nor an HTTP client."""
    from hub.providers.ports import Calendar, for_org

    return for_org(Calendar, org_id, PROVIDER)
