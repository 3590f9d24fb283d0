"""CalendarEventUpdate — change an event (PATCH, attendees told: ``sendUpdates=all``).

Invoked directly. Payload: {"org_id", "calendar_id"?, "event_id", "summary"?, "description"?,
"location"?, "start"? + "end"?, "time_zone"?, "attendees"?, "idempotency_key"?}
Result: the event as CalendarEventCreate answers it — docs/calendar.md.
Errors: InvalidRequestError (event_not_found among them), AuthenticationError, RateLimitedError,
ProviderUnavailableError, IdempotencyConflictError.
"""

from hub.calendar.events import update_event
from hub.calendar.models import CalendarEventUpdateRequest
from hub.invocation import operation_handler

handler = operation_handler("calendar.event.update", CalendarEventUpdateRequest, update_event)
