"""One request and one response shape for every text, image and embedding provider."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub.requests import DEFAULT_MAX_STRING, IdempotencyKey, OperationRequest, OrgId

# The prompt (system + every message) in characters. The chain's models take about 1M tokens
# of context (hub.ai.catalog: Claude Sonnet/Haiku 5.5 1M, GPT-6 1.05M, Gemini 1,048,576) and
# a token is ~4 characters of text, so 4M characters is the most any of them can read; a
# synchronous Lambda invocation carries at most 6 MB anyway
# (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html), and Anthropic's
# Messages API takes requests up to 32 MB (https://docs.anthropic.com/en/api/overview).
MAX_PROMPT_CHARS = 4_000_000
# Turns of a conversation: far more than any caller's history (Anthropic accepts up to 100,000).
MAX_MESSAGES = 1_000
# Model ids and task names (hub.ai.catalog, routing): short identifiers.
MAX_NAME = 200


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=DEFAULT_MAX_STRING)

    role: Literal["user", "assistant"]
    content: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)


class LlmRequest(OperationRequest):
    """What a caller asks for; provider/model are chosen by routing unless given."""

    org_id: OrgId
    task: str | None = Field(None, max_length=MAX_NAME, description="e.g. sdr_message, classification; drives routing")
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    system: str | None = Field(None, max_length=MAX_PROMPT_CHARS)
    max_tokens: int = Field(1024, ge=1, le=64_000)
    temperature: float | None = Field(None, ge=0, le=2)
    json_output: bool = Field(False, description="ask the model for a single JSON object")
    provider: str | None = Field(None, max_length=MAX_NAME)
    model: str | None = Field(None, max_length=MAX_NAME)
    idempotency_key: IdempotencyKey | None = None

    @model_validator(mode="after")
    def _prompt_fits(self) -> LlmRequest:
        size = len(self.system or "") + sum(len(m.content) for m in self.messages)
        if size > MAX_PROMPT_CHARS:
            raise ValueError(f"the prompt (system + messages) must be at most {MAX_PROMPT_CHARS} characters")
        return self


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


# The sizes ImageGenerate offers; each image adapter maps them to its own parameter.
ImageSize = Literal["1024x1024", "1536x1024", "1024x1536"]


class ImageJob(BaseModel):
    """An image still being generated (a Replicate prediction): poll it again by ``job_id``."""

    provider: str
    model: str
    job_id: str


class Embeddings(BaseModel):
    provider: str
    model: str
    vectors: list[list[float]]
    dimensions: int
    usage: TokenUsage
