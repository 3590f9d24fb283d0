"""CalendarEventCreate — a Google Calendar event with a Google Meet link, once per idempotency key.

Invoked directly (boto3 ``lambda.invoke``). Payload: {"org_id", "calendar_id"? ("primary"),
"summary", "description"?, "location"?, "start", "end" (ISO 8601 with offset), "time_zone"?
("America/Sao_Paulo"), "attendees"?: [emails], "idempotency_key"}
Result: {"event_id", "calendar_id", "status", "summary", "start", "end", "time_zone", "attendees",
"html_link", "meet_link"?, "conference_status": "pending"|"success"|"failure",
"conference_workflow"? (the execution polling a pending Meet link)} — docs/calendar.md.
Errors: InvalidRequestError, AuthenticationError, RateLimitedError, ProviderUnavailableError,
OutcomeUnknownError, IdempotencyConflictError.
"""

from hub.calendar.events import create_event
from hub.calendar.models import CalendarEventCreateRequest
from hub.invocation import operation_handler

handler = operation_handler("calendar.event.create", CalendarEventCreateRequest, create_event)
