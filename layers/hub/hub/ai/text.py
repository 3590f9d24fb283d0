"""LlmGenerate's logic: route, call one provider, price the answer."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from pydantic import BaseModel

from hub.ai.catalog import model_info
from hub.ai.models import LlmRequest, TokenUsage
from hub.ai.routing import route_for
from hub.ai.spend import check_budget, record_spend
from hub.config import get_settings
from hub.credentials import validate_org_id
from hub.observability import logger
from hub.providers.anthropic import AnthropicClient
from hub.providers.base import ProviderClient
from hub.providers.gemini import GeminiClient
from hub.providers.openai import OpenAIClient

TEXT_ADAPTERS: dict[str, type[ProviderClient]] = {
    "anthropic": AnthropicClient,
    "openai": OpenAIClient,
    "gemini": GeminiClient,
}
_MICRO = Decimal("0.000001")


class Cost(BaseModel):
    usd: Decimal
    brl: Decimal


class LlmResult(BaseModel):
    text: str
    provider: str
    model: str
    finish_reason: str
    usage: TokenUsage
    cost: Cost | None  # None for a model the catalog does not price


def price(model: str, usage: TokenUsage) -> Cost | None:
    info = model_info(model)
    if info is None:
        return None
    usd = info.token_cost_usd(usage.input_tokens, usage.output_tokens)
    brl = usd * get_settings().usd_brl_rate
    return Cost(usd=usd.quantize(_MICRO, ROUND_HALF_EVEN), brl=brl.quantize(_MICRO, ROUND_HALF_EVEN))


def generate_text(request: LlmRequest) -> LlmResult:
    validate_org_id(request.org_id)
    route = route_for(request.task, request.provider, request.model)
    check_budget(request.org_id)
    client = TEXT_ADAPTERS[route.provider].for_org(request.org_id)
    completion = client.generate(request, route.model)  # type: ignore[attr-defined]
    result = LlmResult(
        text=completion.text,
        provider=completion.provider,
        model=completion.model,
        finish_reason=completion.finish_reason,
        usage=completion.usage,
        cost=price(completion.model, completion.usage),
    )
    record_spend(
        request.org_id,
        result.provider,
        result.model,
        input_tokens=result.usage.input_tokens,
        output_tokens=result.usage.output_tokens,
        cost_usd=result.cost.usd if result.cost else None,
    )
    # Sizes and ids only: prompts and completions never reach logs (LGPD).
    logger.info(
        "llm_generated",
        extra={
            "org_id": request.org_id,
            "provider": result.provider,
            "model": result.model,
            "input_tokens": result.usage.input_tokens,
            "output_tokens": result.usage.output_tokens,
            "finish_reason": result.finish_reason,
        },
    )
    return result
