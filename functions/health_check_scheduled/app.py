"""HealthCheckScheduled — every 5 minutes (EventBridge): check and record every org's integrations."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from hub.health import scheduled_check
from hub.observability import lambda_handler


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    return scheduled_check()
