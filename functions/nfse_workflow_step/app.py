"""NfseWorkflowStep — one step of NfseWorkflow (validate, emit, status, finalize, reject, cancel).

Payload: {"op", "org_id", "charge_id", "provider"?, "invoice"?, "error"?} (built by the state machine).
Errors are the taxonomy's: InvalidRequestError ends in a rejection, the others are retried or parked.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from hub.fiscal.invoicing import StepRequest, run_step
from hub.invocation import parse_request
from hub.observability import lambda_handler


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_step(parse_request(StepRequest, event))
