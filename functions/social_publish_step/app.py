"""SocialPublishStep — one step of SocialPublishWorkflow (prepare, poll, publish, look up; or park).

Payload: {"op": "advance"|"park", "org_id", "publication_id", "error"?} (built by the state machine).
Result:  {"wait_seconds": n} | {"wait_until": "…Z"} | {"done": true, "status"}: the machine waits in a
Wait state, never in the Lambda. docs/social.md.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from hub.invocation import parse_request
from hub.observability import lambda_handler
from hub.social.publish import StepRequest, run_step


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_step(parse_request(StepRequest, event))
