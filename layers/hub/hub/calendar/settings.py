"""CalendarSettingsSet: an org's working hours (free/busy), time zone and watched calendars."""

from __future__ import annotations

from hub.calendar import store
from hub.calendar.models import CalendarSettingsSetRequest, CalendarSettingsView


def set_settings(request: CalendarSettingsSetRequest) -> CalendarSettingsView:
    settings = request.settings()
    updated_at = store.put_org_settings(request.org_id, settings)
    return CalendarSettingsView(org_id=request.org_id, updated_at=updated_at, **settings.model_dump())
