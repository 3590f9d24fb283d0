"""ImageGenerate — an image from GPT Image (OpenAI) or Flux (Replicate), stored in our bucket.

Payload: {"org_id", "prompt", "provider"?: "openai"|"replicate", "model"?, "size"?,
"idempotency_key"?} or, to poll a pending Replicate prediction, {"org_id", "provider":
"replicate", "prediction_id"}.
Result: {"status": "succeeded", "provider", "model", "bucket", "key", "url" (presigned),
"url_expires_in", "cost_usd"} or {"status": "pending", "prediction_id", …}.
"""

from hub.ai.images import ImageRequest, generate_image
from hub.invocation import operation_handler

handler = operation_handler("image.generate", ImageRequest, generate_image)
