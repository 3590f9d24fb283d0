"""Which provider and model answer a task (seed §4 "Uso no Sistema"), and the fallback order.

Model ids live in hub.ai.catalog; this table only names them. Per-org overrides come with
the spend/budget work (issue 5).
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.errors import InvalidRequestError


@dataclass(frozen=True)
class Route:
    provider: str
    model: str


# The LLM fallback chain's order (seed table: Claude → OpenAI → Gemini → manual-retry queue)
# and each provider's default model in it.
CHAIN: tuple[Route, ...] = (
    Route("anthropic", "claude-sonnet-5-5"),
    Route("openai", "gpt-6.2-sol"),
    Route("gemini", "gemini-3.8-flash"),
)
DEFAULT_MODEL = {route.provider: route.model for route in CHAIN}

_NUANCED = Route("anthropic", "claude-sonnet-5-5")  # SDR messages, long content, contracts
_CHEAP = Route("openai", "gpt-6-luna")  # scoring, classification, extraction, reports
_LONG_CONTEXT = Route("gemini", "gemini-3.1-pro-preview")  # 1M-token trend analysis

TASK_ROUTES: dict[str, Route] = {
    "sdr_whatsapp": _NUANCED,
    "sdr_linkedin": _NUANCED,
    "sdr_email": _NUANCED,
    "content_writer": _NUANCED,
    "contract_drafter": _NUANCED,
    "lead_scoring": _CHEAP,
    "qualifier": _CHEAP,
    "classification": _CHEAP,
    "extraction": _CHEAP,
    "budget_calculator": _CHEAP,
    "performance_evaluator": _CHEAP,
    "report_generator": _CHEAP,
    "trend_analyzer": _LONG_CONTEXT,
    "news_curator": Route("gemini", "gemini-3.5-flash-lite"),
}


def route_for(
    task: str | None,
    provider: str | None = None,
    model: str | None = None,
    org_routes: dict[str, Route] | None = None,
) -> Route:
    """An explicit provider/model wins; else the org's override for the task; else the
    task's route; else the chain's first."""
    if provider:
        if provider not in DEFAULT_MODEL:
            raise InvalidRequestError(f"provider must be one of {', '.join(DEFAULT_MODEL)}", code="unknown_provider")
        return Route(provider, model or DEFAULT_MODEL[provider])
    if model:
        raise InvalidRequestError("model requires provider", code="model_without_provider")
    if task is None:
        return CHAIN[0]
    if org_routes and task in org_routes:
        return org_routes[task]
    try:
        return TASK_ROUTES[task]
    except KeyError:
        raise InvalidRequestError(
            f"unknown task {task!r}; known: {', '.join(sorted(TASK_ROUTES))}", code="unknown_task"
        ) from None
