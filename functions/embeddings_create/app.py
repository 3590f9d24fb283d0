"""EmbeddingsCreate — OpenAI embeddings for a batch of texts, order preserved.

Payload: {"org_id", "texts": [...], "model"?: "text-embedding-3-small", "idempotency_key"?}
Result: {"provider", "model", "dimensions", "vectors", "usage", "cost_usd"}
"""

from hub.ai.embeddings import EmbeddingsRequest, create_embeddings
from hub.invocation import operation_handler

handler = operation_handler("embeddings.create", EmbeddingsRequest, create_embeddings)
