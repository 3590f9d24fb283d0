"""One request and one response shape for every text, image and embedding provider."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str = Field(min_length=1)


class LlmRequest(BaseModel):
    """What a caller asks for; provider/model are chosen by routing unless given."""

    model_config = ConfigDict(extra="forbid")

    org_id: str = Field(min_length=1)
    task: str | None = Field(None, description="e.g. sdr_message, classification; drives routing")
    messages: list[ChatMessage] = Field(min_length=1)
    system: str | None = None
    max_tokens: int = Field(1024, ge=1, le=64_000)
    temperature: float | None = Field(None, ge=0, le=2)
    json_output: bool = Field(False, description="ask the model for a single JSON object")
    provider: str | None = None
    model: str | None = None
    idempotency_key: str | None = Field(None, min_length=1, max_length=128)


class TokenUsage(BaseModel):
    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)


class Completion(BaseModel):
    """One provider's answer, before routing/cost are added."""

    text: str
    provider: str
    model: str
    finish_reason: str = Field(description="normalised: stop, length, content_filter, tool_use, other")
    usage: TokenUsage
    provider_request_id: str | None = None


class GeneratedImage(BaseModel):
    provider: str
    model: str
    mime_type: str = "image/png"
    data: bytes = Field(repr=False)
    # Token-billed image models (OpenAI GPT Image) report usage; None where billing is per image.
    usage: TokenUsage | None = None


class Embeddings(BaseModel):
    provider: str
    model: str
    vectors: list[list[float]]
    dimensions: int
    usage: TokenUsage
