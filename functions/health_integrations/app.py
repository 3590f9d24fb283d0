"""HealthIntegrations — GET /health/integrations[?org_id=…[&live=true]].

Without ``org_id``: the platform — per provider, orgs healthy / degraded / down and breaker
states, from every org's latest report (the schedule refreshes them every 5 minutes). With
``org_id``: that org's integrations, from its latest stored report, or checked live when asked
(``live=true``) or when nothing is stored yet."""

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.typing import LambdaContext

from hub.api import register_error_handlers
from hub.errors import InvalidRequestError
from hub.health import health_for, platform_health
from hub.observability import lambda_handler

app = APIGatewayRestResolver()
register_error_handlers(app)


@app.get("/health/integrations")
def health() -> dict[str, Any]:
    org_id = app.current_event.get_query_string_value("org_id")
    live = (app.current_event.get_query_string_value("live") or "").lower() in ("1", "true", "yes")
    if org_id is None:
        if live:
            raise InvalidRequestError(
                "live=true needs org_id: live checks run per org; the platform view is the scheduled checks'",
                code="missing_org_id",
            )
        return platform_health().model_dump(mode="json", exclude_none=True)
    return health_for(org_id, live=live).model_dump(mode="json", exclude_none=True)


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
