"""WebhookEvolution — POST /webhooks/evolution/{org_id}: Evolution API events (messages.upsert)."""

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from hub.observability import lambda_handler
from hub.webhooks.receiver import webhook_response
from hub.webhooks.specs import EVOLUTION_WEBHOOK

app = APIGatewayRestResolver()


@app.post("/webhooks/evolution/<org_id>")
def receive(org_id: str) -> Response[str]:
    return webhook_response(EVOLUTION_WEBHOOK, app.current_event.raw_event, org_id, app.lambda_context)


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
