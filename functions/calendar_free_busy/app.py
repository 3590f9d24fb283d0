"""CalendarFreeBusy — free slots of a requested length inside the org's working hours.

Invoked directly. Payload: {"org_id", "time_min", "time_max" (ISO 8601 with offset, <= 31 days),
"duration_minutes", "step_minutes"? (30), "calendar_ids"?, "max_slots"? (20)}
Result: {"time_zone", "duration_minutes", "calendar_ids", "slots": [{"start", "end"}], "truncated"}
— docs/calendar.md. Errors: InvalidRequestError, AuthenticationError, RateLimitedError,
ProviderUnavailableError.
"""

from hub.calendar.freebusy import free_busy
from hub.calendar.models import CalendarFreeBusyRequest
from hub.invocation import operation_handler

handler = operation_handler("calendar.free_busy", CalendarFreeBusyRequest, free_busy)
