"""HealthIntegrations — GET /health/integrations?org_id=…[&live=true]: the org's integrations.

Answers the latest stored report (the schedule refreshes it every 5 minutes), or checks
live when asked (``live=true``) or when nothing is stored yet."""

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.typing import LambdaContext

from hub.api import register_error_handlers
from hub.errors import InvalidRequestError
from hub.health import health_for
from hub.observability import lambda_handler

app = APIGatewayRestResolver()
register_error_handlers(app)


@app.get("/health/integrations")
def health() -> dict[str, Any]:
    org_id = app.current_event.get_query_string_value("org_id")
    if not org_id:
        raise InvalidRequestError("query parameter org_id is required", code="missing_org_id")
    live = (app.current_event.get_query_string_value("live") or "").lower() in ("1", "true", "yes")
    return health_for(org_id, live=live).model_dump(mode="json", exclude_none=True)


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
