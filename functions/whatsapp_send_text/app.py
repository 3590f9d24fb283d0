"""WhatsAppSendText — send a WhatsApp text through the org's Evolution API instance.

Invoked directly (boto3 ``lambda.invoke``) or as a Step Functions task.
Payload: {"org_id", "to", "text", "delay_ms"?, "idempotency_key"?}
Result:  {"provider": "evolution", "message_id", "to" (E.164), "status"}
Errors:  InvalidRequestError, AuthenticationError, RateLimitedError, ProviderUnavailableError.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from hub import idempotency
from hub.invocation import parse_request
from hub.messaging.whatsapp import SendTextRequest, send_text
from hub.observability import lambda_handler


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_request(SendTextRequest, event)
    idempotency.register_lambda_context(context)
    return idempotency.run_once(
        "whatsapp.send_text",
        request.org_id,
        request.idempotency_key,
        lambda: send_text(request).model_dump(),
    )
