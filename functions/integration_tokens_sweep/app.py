"""IntegrationTokensSweep — every hour: OAuth tokens no function has read lately are refreshed
ahead of expiry (refresh-token grants within a day of expiry and idle for a day, Meta's 60-day
tokens once fewer than 45 days are left), tokens that cannot be refreshed are announced to the
org (``integration.reauth_due``) a week before they expire (hub.integrations.sweep).

Also invoked directly: {"now"?: ISO-8601}. Result: {"checked", "refreshed", "not_due",
"reauth_due", "needs_reauth", "failed", "truncated"}.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from hub.integrations.sweep import SweepRequest, sweep_tokens
from hub.invocation import parse_request
from hub.observability import lambda_handler


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # A schedule's event is EventBridge's envelope: it carries no request fields.
    payload = {} if event.get("source") == "aws.events" else event
    return sweep_tokens(parse_request(SweepRequest, payload)).model_dump(mode="json")
