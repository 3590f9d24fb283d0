"""CalendarEventCancel — delete an event (attendees told); an event already deleted is a success.

Invoked directly. Payload: {"org_id", "calendar_id"?, "event_id", "idempotency_key"?}
Result: {"event_id", "calendar_id", "status": "cancelled"} — docs/calendar.md.
Errors: InvalidRequestError, AuthenticationError, RateLimitedError, ProviderUnavailableError.
"""

from hub.calendar.events import cancel_event
from hub.calendar.models import CalendarEventCancelRequest
from hub.invocation import operation_handler

handler = operation_handler("calendar.event.cancel", CalendarEventCancelRequest, cancel_event)
