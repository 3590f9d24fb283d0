"""CalendarChannelsRenew — Google Calendar push channels.

* Hourly schedule: channels expiring within CALENDAR_RENEW_BEFORE_SECONDS are replaced (new
  channel first, then the old one stopped).
* The hub's bus, provider google: integration.connected / integration.enabled watch the org's
  calendars; integration.disabled / integration.needs_reauth stop and forget its channels.
Result: {"watched", "stopped", "renewed", "failed"} — docs/calendar.md "Push".
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from hub.calendar.channels import handle
from hub.observability import lambda_handler


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(event)
