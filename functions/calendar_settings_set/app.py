"""CalendarSettingsSet — an org's working hours per weekday, time zone and free/busy calendars.

Invoked directly. Payload: {"org_id", "time_zone"? ("America/Sao_Paulo"), "working_hours"?:
{"mon": [{"start": "09:00", "end": "12:00"}, ...], ...} (default Mon-Fri 09:00-18:00),
"calendar_ids"?, "idempotency_key"?}. Result: the settings stored, with "updated_at".
Errors: InvalidRequestError — docs/calendar.md.
"""

from hub.calendar.models import CalendarSettingsSetRequest
from hub.calendar.settings import set_settings
from hub.invocation import operation_handler

handler = operation_handler("calendar.settings.set", CalendarSettingsSetRequest, set_settings)
