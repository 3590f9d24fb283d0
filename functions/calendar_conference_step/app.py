"""CalendarConferenceStep — one poll of CalendarConferenceWorkflow: is the Meet link ready?

Payload: {"org_id", "calendar_id", "event_id", "polls"} (built by the state machine).
Result: {"wait_seconds", "polls"} while Google's conference is pending (the machine waits in a
Wait state), else {"done": true, "status", "meet_link"?} after publishing
calendar.conference.ready|failed — docs/calendar.md.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from hub.calendar.conference import ConferenceStepRequest, advance
from hub.invocation import parse_request
from hub.observability import lambda_handler


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return advance(parse_request(ConferenceStepRequest, event))
