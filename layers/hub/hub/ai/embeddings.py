"""EmbeddingsCreate's logic: a batch of texts → vectors (order preserved), with spend recorded."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from hub.ai.catalog import model_info
from hub.ai.models import TokenUsage
from hub.ai.spend import check_budget, record_spend
from hub.credentials import validate_org_id
from hub.providers import ports
from hub.requests import IdempotencyKey, OperationRequest, OrgId

DEFAULT_MODEL = "text-embedding-3-small"
PROVIDER = "openai"


# OpenAI embeddings (https://platform.openai.com/docs/api-reference/embeddings/create): each
# input at most 8,192 tokens, at most 2,048 inputs, at most 300,000 tokens in all. Characters
# are bounded at 8 per token — twice real text's ~4, so a valid input is never refused here;
# the provider counts the tokens exactly.
CHARS_PER_TOKEN_BOUND = 8
MAX_TEXT_CHARS = 8_192 * CHARS_PER_TOKEN_BOUND
MAX_TOTAL_CHARS = 300_000 * CHARS_PER_TOKEN_BOUND


class EmbeddingsRequest(OperationRequest):
    org_id: OrgId
    texts: list[Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]] = Field(min_length=1, max_length=2048)
    model: str = Field(DEFAULT_MODEL, max_length=200)
    idempotency_key: IdempotencyKey | None = None

    @model_validator(mode="after")
    def _total(self) -> EmbeddingsRequest:
        if sum(len(text) for text in self.texts) > MAX_TOTAL_CHARS:
            raise ValueError(f"texts must hold at most {MAX_TOTAL_CHARS} characters in all")
        return self


class EmbeddingsResult(BaseModel):
    provider: str
    model: str
    dimensions: int
    vectors: list[list[float]]
    usage: TokenUsage
    cost_usd: Decimal | None


def create_embeddings(request: EmbeddingsRequest) -> EmbeddingsResult:
    validate_org_id(request.org_id)
    check_budget(request.org_id)
    client = ports.for_org(ports.Embedder, request.org_id, PROVIDER)
    embeddings = client.embed(request.texts, request.model)
    info = model_info(embeddings.model)
    cost = info.token_cost_usd(embeddings.usage.input_tokens, 0) if info else None
    record_spend(
        request.org_id,
        embeddings.provider,
        embeddings.model,
        input_tokens=embeddings.usage.input_tokens,
        output_tokens=0,
        cost_usd=cost,
    )
    return EmbeddingsResult(
        provider=embeddings.provider,
        model=embeddings.model,
        dimensions=embeddings.dimensions,
        vectors=embeddings.vectors,
        usage=embeddings.usage,
        cost_usd=cost,
    )
