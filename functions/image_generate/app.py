"""ImageGenerate — an image from GPT Image (OpenAI) or Flux (Replicate), stored in our bucket.

Payload: {"org_id", "prompt", "provider"?: "openai"|"replicate", "model"?, "size"?,
"idempotency_key"?} or, to poll a pending Replicate prediction, {"org_id", "provider":
"replicate", "prediction_id"}.
Result: {"status": "succeeded", "provider", "model", "bucket", "key", "url" (presigned),
"url_expires_in", "cost_usd"} or {"status": "pending", "prediction_id", …}.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from hub import idempotency
from hub.ai.images import ImageRequest, generate_image
from hub.invocation import parse_request
from hub.observability import lambda_handler


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_request(ImageRequest, event)
    idempotency.register_lambda_context(context)
    return idempotency.run_once(
        "image.generate",
        request.org_id,
        request.idempotency_key,
        lambda: generate_image(request).model_dump(mode="json", exclude_none=True),
    )
