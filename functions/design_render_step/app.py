"""DesignRenderStep — one step of DesignRenderWorkflow (Canva's jobs, or the template fallback).

Payload: {"op": "advance"|"template", "state": RenderState, "error"?} (built by the state machine).
Result:  {"state", "next": "wait"|"advance"|"template"|"done", "wait_seconds", "error": null}: the
machine waits in a Wait state, never in the Lambda. docs/design.md.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from hub.design.render import run_step
from hub.observability import lambda_handler


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_step(event)
