"""OAuthStart — GET /oauth/{provider}/start?org_id=…&actor=… (IAM-authorised, like /health).

Answers ``302 Location:`` the provider's authorization URL (PKCE, a signed state bound to the
org); a 4xx JSON naming what is wrong otherwise (docs/integrations.md, "OAuth")."""

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from hub.api import register_error_handlers
from hub.integrations.oauth import start
from hub.observability import lambda_handler

app = APIGatewayRestResolver()
register_error_handlers(app)


@app.get("/oauth/<provider>/start")
def oauth_start(provider: str) -> Response[str]:
    event = app.current_event
    identity = event.request_context.identity
    # The actor: who the console says connects, else the IAM principal that signed the request.
    actor = event.get_query_string_value("actor") or identity.user_arn or identity.caller
    location = start(event.get_query_string_value("org_id"), provider, actor)
    return Response(status_code=302, headers={"Location": location, "Cache-Control": "no-store"}, body="")


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
