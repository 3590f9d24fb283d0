"""LlmGenerate's logic: route, call one provider, price the answer."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from pydantic import BaseModel

from hub.ai.catalog import model_info
from hub.ai.models import Completion, LlmRequest, TokenUsage
from hub.ai.routing import CHAIN, Route, route_for
from hub.ai.spend import check_budget, org_routes, record_spend
from hub.config import get_settings
from hub.credentials import validate_org_id
from hub.errors import AuthenticationError, ProviderUnavailableError, RateLimitedError
from hub.observability import logger
from hub.providers import ports
from hub.runtime import remaining_seconds

_MICRO = Decimal("0.000001")


class Cost(BaseModel):
    usd: Decimal
    brl: Decimal


class Attempt(BaseModel):
    """A provider that was tried and failed, and why (never the request's content)."""

    provider: str
    model: str
    error: str
    message: str


class LlmResult(BaseModel):
    text: str
    provider: str
    model: str
    finish_reason: str
    usage: TokenUsage
    cost: Cost | None  # None for a model the catalog does not price
    attempts: list[Attempt] = []  # providers tried before the one that answered


def price(model: str, usage: TokenUsage) -> Cost | None:
    info = model_info(model)
    if info is None:
        return None
    usd = info.token_cost_usd(usage.input_tokens, usage.output_tokens)
    brl = usd * get_settings().usd_brl_rate
    return Cost(usd=usd.quantize(_MICRO, ROUND_HALF_EVEN), brl=brl.quantize(_MICRO, ROUND_HALF_EVEN))


# Below this many seconds left, don't start another provider: let the caller's retry decide.
MIN_SECONDS_FOR_FALLBACK = 10.0


def _routes(request: LlmRequest) -> list[Route]:
    """An explicit provider is used alone (the state machine's tasks); otherwise the task's
    route first, then the rest of the fallback chain in order."""
    first = route_for(request.task, request.provider, request.model, org_routes(request.org_id))
    if request.provider:
        return [first]
    return [first, *(route for route in CHAIN if route.provider != first.provider)]


def _complete(request: LlmRequest, route: Route) -> Completion:
    return ports.for_org(ports.TextGenerator, request.org_id, route.provider).generate(request, route.model)


def generate_text(request: LlmRequest) -> LlmResult:
    validate_org_id(request.org_id)
    check_budget(request.org_id)
    attempts: list[Attempt] = []
    completion: Completion | None = None
    routes = _routes(request)
    for index, route in enumerate(routes):
        try:
            completion = _complete(request, route)
            break
        except (ProviderUnavailableError, RateLimitedError, AuthenticationError) as exc:
            # Another provider may answer; InvalidRequestError would fail everywhere: raised.
            attempts.append(
                Attempt(provider=route.provider, model=route.model, error=type(exc).__name__, message=exc.message)
            )
            remaining = remaining_seconds()
            last = index == len(routes) - 1
            if last or (remaining is not None and remaining < MIN_SECONDS_FOR_FALLBACK):
                exc.details = {**exc.details, "attempts": [a.model_dump() for a in attempts]}
                raise
    assert completion is not None
    result = LlmResult(
        text=completion.text,
        provider=completion.provider,
        model=completion.model,
        finish_reason=completion.finish_reason,
        usage=completion.usage,
        cost=price(completion.model, completion.usage),
        attempts=attempts,
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
            "failed_attempts": len(attempts),
        },
    )
    return result
