"""EmbeddingsCreate's logic: a batch of texts → vectors (order preserved), with spend recorded."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from hub.ai.catalog import model_info
from hub.ai.models import TokenUsage
from hub.ai.spend import check_budget, record_spend
from hub.credentials import validate_org_id
from hub.providers.openai import OpenAIClient

DEFAULT_MODEL = "text-embedding-3-small"


class EmbeddingsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org_id: str = Field(min_length=1)
    texts: list[str] = Field(min_length=1, max_length=2048)
    model: str = DEFAULT_MODEL
    idempotency_key: str | None = Field(None, min_length=1, max_length=128)


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
    client = OpenAIClient.for_org(request.org_id)
    assert isinstance(client, OpenAIClient)
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
