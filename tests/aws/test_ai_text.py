"""hub.ai.text driven directly: real adapters against the AI sandboxes, the demo org's secrets
in moto. Routing, fallback across providers, pricing and what a caller is told on failure."""

from __future__ import annotations

from typing import Any

import pytest

from hub.ai.models import ChatMessage, LlmRequest
from hub.ai.text import generate_text
from hub.errors import AuthenticationError, InvalidRequestError, ProviderUnavailableError
from localcloud.sandboxes import Fault
from tests.conftest import ServedSandboxes


def ask(**fields: Any) -> LlmRequest:
    values: dict[str, Any] = {"org_id": "demo", "messages": [ChatMessage(role="user", content="Escreva um oi")]}
    return LlmRequest(**{**values, **fields})


def down(sandboxes: ServedSandboxes, provider: str) -> None:
    sandboxes.app.set_fault(provider, Fault(mode="error", status=503))


def test_the_first_route_answers_and_the_answer_is_priced(sandboxed: ServedSandboxes) -> None:
    result = generate_text(ask())

    assert result.provider == "anthropic"
    assert result.text
    assert result.usage.input_tokens > 0 and result.usage.output_tokens > 0
    assert result.cost is not None and result.cost.usd > 0 and result.cost.brl > result.cost.usd
    assert result.attempts == []
    assert [r["provider"] for r in sandboxed.app.requests_for()] == ["anthropic"]


def test_an_unavailable_provider_falls_back_to_the_next_and_says_so(sandboxed: ServedSandboxes) -> None:
    down(sandboxed, "anthropic")

    result = generate_text(ask())

    assert result.provider == "openai"
    assert result.text
    [attempt] = result.attempts
    assert (attempt.provider, attempt.error) == ("anthropic", "ProviderUnavailableError")
    assert "Escreva" not in attempt.message  # never the prompt


def test_when_every_provider_fails_the_caller_gets_every_attempt(sandboxed: ServedSandboxes) -> None:
    for provider in ("anthropic", "openai", "gemini"):
        down(sandboxed, provider)

    with pytest.raises(ProviderUnavailableError) as info:
        generate_text(ask())

    assert [a["provider"] for a in info.value.details["attempts"]] == ["anthropic", "openai", "gemini"]


def test_an_explicit_provider_is_used_alone(sandboxed: ServedSandboxes) -> None:
    down(sandboxed, "openai")

    with pytest.raises(ProviderUnavailableError) as info:
        generate_text(ask(provider="openai"))

    assert [a["provider"] for a in info.value.details["attempts"]] == ["openai"]
    assert {r["provider"] for r in sandboxed.app.requests_for()} == {"openai"}


def test_an_unknown_task_is_refused_naming_the_field_before_any_provider_call(sandboxed: ServedSandboxes) -> None:
    with pytest.raises(InvalidRequestError) as info:
        generate_text(ask(task="no_such_task"))

    assert "task" in info.value.message
    assert sandboxed.app.requests_for() == []


def test_an_org_without_ai_credentials_is_told_which_providers_it_lacks(sandboxed: ServedSandboxes) -> None:
    with pytest.raises(AuthenticationError) as info:
        generate_text(ask(org_id="other"))

    assert info.value.code == "credentials_missing"
    assert [(a["provider"], a["error"]) for a in info.value.details["attempts"]] == [
        ("anthropic", "AuthenticationError"),
        ("openai", "AuthenticationError"),
        ("gemini", "AuthenticationError"),
    ]
    assert sandboxed.app.requests_for() == []
