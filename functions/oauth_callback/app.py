"""OAuthCallback — GET /oauth/{provider}/callback?code=…&state=… (public: the provider redirects
the browser here). Exchanges the code, stores the tokens, marks the integration connected and
answers a small HTML page; a refused or replayed callback answers 400 and stores nothing
(docs/integrations.md, "OAuth")."""

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from hub.audit import AuditSource
from hub.integrations.oauth import callback
from hub.observability import lambda_handler

app = APIGatewayRestResolver()


@app.get("/oauth/<provider>/callback")
def oauth_callback(provider: str) -> Response[str]:
    event = app.current_event
    identity = event.request_context.identity
    user_agent = identity.user_agent or event.headers.get("User-Agent")  # case-insensitive in Powertools v3
    source = AuditSource(ip=identity.source_ip, user_agent=user_agent)
    page = callback(provider, dict(event.query_string_parameters or {}), source=source)
    return Response(
        status_code=page.status,
        content_type="text/html; charset=utf-8",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
        body=page.html(),
    )


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
