"""LlmGenerate — text from one provider (explicit, or routed by task), with usage and cost.

Invoked directly (boto3 ``lambda.invoke``) or as a task of the LlmFallbackChain state machine.
Payload: LlmRequest {"org_id", "task"?, "messages": [{"role", "content"}], "system"?,
"max_tokens"?, "temperature"?, "json_output"?, "provider"?, "model"?, "idempotency_key"?}
Result: {"text", "provider", "model", "finish_reason", "usage", "cost": {"usd", "brl"}}
Errors: InvalidRequestError, AuthenticationError, RateLimitedError, ProviderUnavailableError.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from hub import idempotency
from hub.ai.models import LlmRequest
from hub.ai.text import generate_text
from hub.invocation import parse_request
from hub.observability import lambda_handler


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_request(LlmRequest, event)
    idempotency.register_lambda_context(context)
    return idempotency.run_once(
        "llm.generate",
        request.org_id,
        request.idempotency_key,
        lambda: generate_text(request).model_dump(mode="json"),
    )
