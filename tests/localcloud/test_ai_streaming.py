"""Hung AI providers are detected in seconds (issue 15): the text and image adapters stream, give
up when the first byte does not come within the time-to-first-byte setting, never cut a stream
that is slow but alive, and answer exactly what the non-streamed call answered.

Driven against the provider sandboxes on a real socket (their ``slow`` fault hangs before the
first byte, ``stall`` sends the headers and then nothing for a while). Settings
are small; nothing is timed: each test waits for the outcome and asserts what it was."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from hub.ai.models import ChatMessage, Completion, LlmRequest
from hub.config import get_settings
from hub.errors import ProviderUnavailableError
from hub.providers.anthropic.client import AnthropicClient
from hub.providers.base.client import FIRST_BYTE_TIMEOUT, ProviderClient
from hub.providers.gemini.client import GeminiClient
from hub.providers.openai.client import OpenAIClient
from hub.retry import RetryPolicy
from localcloud import demo
from tests.conftest import ServedSandboxes

CLIENTS: dict[str, tuple[type[ProviderClient], str]] = {
    "anthropic": (AnthropicClient, "claude-sonnet-5-5"),
    "openai": (OpenAIClient, "gpt-6.2-sol"),
    "gemini": (GeminiClient, "gemini-3.8-flash"),
}
PROVIDERS = list(CLIENTS)

SAMPLES: list[dict[str, Any]] = [
    {"messages": [ChatMessage(role="user", content="Quero um orçamento para 40 convites.")]},
    {"messages": [ChatMessage(role="user", content="Olá")], "system": "Seja breve.", "max_tokens": 300},
    {"messages": [ChatMessage(role="user", content="Responda em json: qual o prazo?")], "json_output": True},
    {"messages": [ChatMessage(role="user", content="x" * 200)], "max_tokens": 12},  # cut: finish "length"
    {"messages": [ChatMessage(role="user", content="please [[refuse]] this")]},
    {
        "messages": [
            ChatMessage(role="user", content="Oi"),
            ChatMessage(role="assistant", content="Olá! Em que posso ajudar?"),
            ChatMessage(role="user", content="Quanto custa um cartão de visita?"),
        ]
    },
]


@pytest.fixture
def sandbox_url(sandboxes: ServedSandboxes) -> str:
    return sandboxes.url


@pytest.fixture
def small_timeouts(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A first byte within 0.3 s, a stream idle at most 3 s."""
    monkeypatch.setenv("LLM_FIRST_BYTE_TIMEOUT", "0.3")
    monkeypatch.setenv("IMAGE_FIRST_BYTE_TIMEOUT", "0.3")
    monkeypatch.setenv("AI_STREAM_IDLE_TIMEOUT", "3")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def client_for(provider: str, sandbox_url: str, *, http: httpx.Client | None = None) -> Any:
    cls, _ = CLIENTS[provider]
    creds = cls.parse_credentials(demo.demo_secret_values(sandbox_url)[provider])
    return cls(creds, http=http, retry_policy=RetryPolicy(sleep=lambda _: None))


def ask(**values: Any) -> LlmRequest:
    return LlmRequest(org_id="demo", **values)


def fault(sandbox_url: str, provider: str, **spec: Any) -> None:
    assert httpx.put(f"{sandbox_url}/__sandbox/faults/{provider}", json=spec).status_code == 200


def calls(sandbox_url: str, provider: str) -> list[dict[str, Any]]:
    return list(httpx.get(f"{sandbox_url}/__sandbox/requests", params={"provider": provider}).json())


def not_streamed(sandbox_url: str) -> httpx.Client:
    """An HTTP client that sends each request as the non-streamed call (no ``stream``,
    ``stream_options`` or ``partial_images``; Gemini's generateContent), as the adapters did
    before streaming: the baseline the streamed answers must equal."""

    def forward(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        for key in ("stream", "stream_options", "partial_images"):
            body.pop(key, None)
        url = str(request.url.copy_with(query=None)).replace(":streamGenerateContent", ":generateContent")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("content-length", "accept")}
        answer = httpx.post(url, json=body, headers=headers)
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    return httpx.Client(transport=httpx.MockTransport(forward))


def comparable(completion: Completion) -> dict[str, Any]:
    # The provider's request id differs per call (random in the Anthropic and OpenAI sandboxes).
    return completion.model_dump(exclude={"provider_request_id"})


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_streamed_answer_is_exactly_the_non_streamed_one(provider: str, sandbox_url: str) -> None:
    # Given the same prompts, streamed and not
    _, model = CLIENTS[provider]
    streamed = client_for(provider, sandbox_url)
    baseline = client_for(provider, sandbox_url, http=not_streamed(sandbox_url))
    for sample in SAMPLES:
        # When each is generated both ways
        expected = baseline.generate(ask(**sample), model)
        got = streamed.generate(ask(**sample), model)
        # Then text, finish reason, usage and model are the same
        assert comparable(got) == comparable(expected), sample
    sent = [c for c in calls(sandbox_url, provider) if c["method"] == "POST"]
    assert any((c["json"] or {}).get("stream") is True or c["query"].get("alt") == "sse" for c in sent)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_hung_provider_fails_with_first_byte_timeout_and_is_not_asked_again(
    provider: str, sandbox_url: str, small_timeouts: None
) -> None:
    # Given a provider that takes the request and sends nothing for 3 s (TTFB 0.3 s)
    fault(sandbox_url, provider, mode="slow", delay_seconds=3)
    _, model = CLIENTS[provider]
    # When LlmGenerate's adapter calls it
    with pytest.raises(ProviderUnavailableError) as raised:
        client_for(provider, sandbox_url).generate(ask(messages=[ChatMessage(role="user", content="Oi")]), model)
    # Then it gives up with first_byte_timeout, sent once (the caller moves to the next provider)
    assert raised.value.code == FIRST_BYTE_TIMEOUT
    assert raised.value.retryable
    assert len(calls(sandbox_url, provider)) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_slow_but_streaming_provider_is_not_cut(provider: str, sandbox_url: str, small_timeouts: None) -> None:
    # Given a stream that starts, then sends nothing for 1 s: longer than the first-byte time
    # (0.3 s), shorter than the idle time (3 s)
    fault(sandbox_url, provider, mode="stall", delay_seconds=1, times=1)
    _, model = CLIENTS[provider]
    request = ask(messages=[ChatMessage(role="user", content="Quero um orçamento.")])
    # When it is asked
    got = client_for(provider, sandbox_url).generate(request, model)
    # Then the whole answer comes back, as from a healthy stream
    assert comparable(got) == comparable(client_for(provider, sandbox_url).generate(request, model))
    assert [c["fault"] for c in calls(sandbox_url, provider)] == ["stall", None]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_stream_that_stalls_past_the_idle_time_fails_as_a_read_timeout(
    provider: str, sandbox_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_FIRST_BYTE_TIMEOUT", "2")
    monkeypatch.setenv("AI_STREAM_IDLE_TIMEOUT", "0.3")
    get_settings.cache_clear()
    fault(sandbox_url, provider, mode="stall", delay_seconds=3)
    _, model = CLIENTS[provider]
    with pytest.raises(ProviderUnavailableError) as raised:
        client_for(provider, sandbox_url).generate(ask(messages=[ChatMessage(role="user", content="Oi")]), model)
    assert raised.value.code == "read_timeout"
    assert len(calls(sandbox_url, provider)) == 1  # not retried against the same provider


def test_an_overloaded_error_inside_the_stream_is_provider_unavailable(sandbox_url: str) -> None:
    # Given Anthropic breaking the stream with an overloaded_error event (as it does under load)
    request = ask(messages=[ChatMessage(role="user", content="[[overloaded-midstream]] olá")])
    # When it is asked
    with pytest.raises(ProviderUnavailableError) as raised:
        client_for("anthropic", sandbox_url).generate(request, "claude-sonnet-5-5")
    # Then the error is classified as the 529 it stands for: one quick retry, then unavailable
    assert raised.value.code == "overloaded_error"
    assert len(calls(sandbox_url, "anthropic")) == 2


def test_a_hung_image_provider_fails_with_first_byte_timeout(sandbox_url: str, small_timeouts: None) -> None:
    fault(sandbox_url, "openai", mode="slow", delay_seconds=3)
    with pytest.raises(ProviderUnavailableError) as raised:
        client_for("openai", sandbox_url).generate_image("um logo azul", "gpt-image-2.6-flare")
    assert raised.value.code == FIRST_BYTE_TIMEOUT
    assert len(calls(sandbox_url, "openai")) == 1


def test_a_streamed_image_is_the_non_streamed_one(sandbox_url: str, small_timeouts: None) -> None:
    fault(sandbox_url, "openai", mode="stall", delay_seconds=1, times=1)  # slow but alive
    streamed = client_for("openai", sandbox_url).generate_image("um logo azul", "gpt-image-2.6-flare")
    baseline = client_for("openai", sandbox_url, http=not_streamed(sandbox_url))
    expected = baseline.generate_image("um logo azul", "gpt-image-2.6-flare")
    assert streamed == expected


def test_a_hung_embeddings_call_times_out_in_seconds(sandbox_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMBEDDINGS_READ_TIMEOUT", "0.3")
    get_settings.cache_clear()
    fault(sandbox_url, "openai", mode="slow", delay_seconds=3)
    embed: Callable[[], Any] = lambda: client_for("openai", sandbox_url).embed(["oi"])  # noqa: E731
    with pytest.raises(ProviderUnavailableError) as raised:
        embed()
    assert raised.value.code == "read_timeout"
    assert len(calls(sandbox_url, "openai")) == 1
