"""LlmGenerate — text from one provider (explicit, or routed by task), with usage and cost.

Invoked directly (boto3 ``lambda.invoke``) or as a task of the LlmFallbackChain state machine.
Payload: LlmRequest {"org_id", "task"?, "messages": [{"role", "content"}], "system"?,
"max_tokens"?, "temperature"?, "json_output"?, "provider"?, "model"?, "idempotency_key"?}
Result: {"text", "provider", "model", "finish_reason", "usage", "cost": {"usd", "brl"}}
Errors: InvalidRequestError, AuthenticationError, RateLimitedError, ProviderUnavailableError.
"""

from hub.ai.models import LlmRequest
from hub.ai.text import generate_text
from hub.invocation import operation_handler

handler = operation_handler("llm.generate", LlmRequest, generate_text)
