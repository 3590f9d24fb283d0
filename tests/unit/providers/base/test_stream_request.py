"""ProviderClient.stream_request and the adapters' stream readers, without a network: the SSE
rules, the first-byte clock bounded by the time left, streams cut short, and errors sent inside
a stream classified like the HTTP errors they stand for (secrets scrubbed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hub import runtime
from hub.ai.models import ChatMessage, LlmRequest
from hub.config import get_settings
from hub.errors import InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.providers.anthropic.client import AnthropicClient, AnthropicCredentials
from hub.providers.base.sse import ServerSentEvent, parse_sse
from hub.providers.gemini.client import GeminiClient, GeminiCredentials
from hub.providers.openai.client import OpenAIClient, OpenAICredentials
from tests.helpers import FakeLambdaContext, client_with

ANTHROPIC_KEY = "sk-ant-unit-secret"


def ask(text: str = "Oi") -> LlmRequest:
    return LlmRequest(org_id="demo", messages=[ChatMessage(role="user", content=text)])


def event_stream(*events: str) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content="".join(events).encode())


def anthropic(*responses: httpx.Response, attempts: int = 1) -> tuple[AnthropicClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return queue.pop(0) if len(queue) > 1 else queue[0]

    creds = AnthropicCredentials(api_key=SecretStr(ANTHROPIC_KEY))
    return client_with(AnthropicClient, creds, handler, attempts=attempts), seen


@pytest.fixture
def deadline() -> Iterator[None]:
    runtime.start_invocation(FakeLambdaContext(timeout_ms=3000))
    yield
    runtime._deadline.set(None)


def test_sse_follows_the_standards_rules() -> None:
    lines = [
        ": keep-alive comment",
        "event: message_start",
        'data: {"a":',
        "data:1}",
        "",
        "",
        "data: [DONE]",
        "",
        "event: cut",
        "data: never dispatched",  # the stream ends before its blank line
    ]
    assert list(parse_sse(lines)) == [
        ServerSentEvent("message_start", '{"a":\n1}'),
        ServerSentEvent("message", "[DONE]"),
    ]


def test_the_first_byte_wait_never_passes_the_time_left(deadline: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given 3 s left, a 1 s safety margin and a first-byte setting of 5 s
    monkeypatch.setenv("LLM_FIRST_BYTE_TIMEOUT", "5")
    get_settings.cache_clear()
    seen: list[httpx.Request] = []

    def hung(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise httpx.ReadTimeout("no first byte", request=request)

    creds = AnthropicCredentials(api_key=SecretStr(ANTHROPIC_KEY))
    with pytest.raises(ProviderUnavailableError, match="no first byte within"):
        client_with(AnthropicClient, creds, hung).generate(ask(), "claude-sonnet-5-5")
    # Then the call waited at most the 2 s the function could spare, not 5
    assert 0 < seen[0].extensions["timeout"]["read"] <= 2.0


def test_a_stream_cut_before_message_stop_is_unavailable_not_a_short_answer() -> None:
    start = '{"type":"message_start","message":{"model":"claude-sonnet-5-5","content":[],"usage":{"input_tokens":3}}}'
    block = '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}'
    delta = '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Olá"}}'
    client, _ = anthropic(
        event_stream(
            f"event: message_start\ndata: {start}\n\n",
            f"event: content_block_start\ndata: {block}\n\n",
            f"event: content_block_delta\ndata: {delta}\n\n",
        )
    )
    with pytest.raises(ProviderUnavailableError, match="before message_stop") as info:
        client.generate(ask(), "claude-sonnet-5-5")
    assert info.value.code == "connection_lost"


def test_an_error_event_is_classified_and_scrubbed_of_the_key() -> None:
    error = '{"type":"error","error":{"type":"rate_limit_error","message":"slow down, key ' + ANTHROPIC_KEY + '"}}'
    client, seen = anthropic(event_stream(f"event: error\ndata: {error}\n\n"), attempts=1)
    with pytest.raises(RateLimitedError) as info:
        client.generate(ask(), "claude-sonnet-5-5")
    assert info.value.code == "rate_limit_error"
    assert ANTHROPIC_KEY not in str(info.value.to_dict())
    assert seen[0].headers["accept"] == "text/event-stream"


def openai_client(response: httpx.Response) -> OpenAIClient:
    return client_with(
        OpenAIClient, OpenAICredentials(api_key=SecretStr("sk-proj-unit")), lambda _: response, attempts=1
    )


def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    body = {
        "object": "chat.completion.chunk",
        "model": "gpt-6.2-sol",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ('{"error":{"message":"The server had an error","type":"server_error","code":null}}', ProviderUnavailableError),
        ('{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}', RateLimitedError),
    ],
)
def test_an_openai_error_inside_the_stream_is_classified(error: str, expected: type[Exception]) -> None:
    response = event_stream(chunk({"role": "assistant", "content": ""}), f"data: {error}\n\n")
    with pytest.raises(expected):
        openai_client(response).generate(ask(), "gpt-6.2-sol")


def test_an_openai_streamed_refusal_is_a_content_filter_finish() -> None:
    usage = '{"object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12}}'
    response = event_stream(
        chunk({"role": "assistant", "content": "", "refusal": None}),
        chunk({"refusal": "I'm sorry, "}),
        chunk({"refusal": "I can't help."}),
        chunk({}, "stop"),
        f"data: {usage}\n\n",
        "data: [DONE]\n\n",
    )
    completion = openai_client(response).generate(ask(), "gpt-6.2-sol")
    assert (completion.text, completion.finish_reason) == ("", "content_filter")
    assert (completion.usage.input_tokens, completion.usage.output_tokens) == (9, 12)


def test_an_openai_stream_without_done_is_unavailable() -> None:
    response = event_stream(chunk({"role": "assistant", "content": "Olá"}))
    with pytest.raises(ProviderUnavailableError, match=r"before data: \[DONE\]"):
        openai_client(response).generate(ask(), "gpt-6.2-sol")


def gemini_client(response: httpx.Response) -> GeminiClient:
    creds = GeminiCredentials(api_key=SecretStr("AIza-unit-key"))
    return client_with(GeminiClient, creds, lambda _: response, attempts=1)


def test_a_gemini_error_inside_the_stream_is_classified_by_its_code() -> None:
    error = '{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}'
    with pytest.raises(ProviderUnavailableError, match="overloaded"):
        gemini_client(event_stream(f"data: {error}\n\n")).generate(ask(), "gemini-3.8-flash")


def test_a_gemini_stream_without_a_finish_reason_is_unavailable() -> None:
    part = '{"candidates":[{"content":{"parts":[{"text":"Olá"}],"role":"model"},"index":0}]}'
    with pytest.raises(ProviderUnavailableError, match="before a finishReason"):
        gemini_client(event_stream(f"data: {part}\n\n")).generate(ask(), "gemini-3.8-flash")


def test_a_gemini_streamed_thought_is_not_the_answer_and_thinking_is_billed() -> None:
    thought = '{"candidates":[{"content":{"parts":[{"text":"pensando","thought":true}],"role":"model"}}]}'
    last = (
        '{"candidates":[{"content":{"parts":[{"text":"Olá!"}],"role":"model"},"finishReason":"STOP"}],'
        '"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":2,"thoughtsTokenCount":7}}'
    )
    completion = gemini_client(event_stream(f"data: {thought}\n\n", f"data: {last}\n\n")).generate(
        ask(), "gemini-3.8-flash"
    )
    assert (completion.text, completion.finish_reason) == ("Olá!", "stop")
    assert (completion.usage.input_tokens, completion.usage.output_tokens) == (4, 9)


def test_a_gemini_streamed_blocked_prompt_is_refused() -> None:
    blocked = '{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":4}}'
    with pytest.raises(InvalidRequestError) as info:
        gemini_client(event_stream(f"data: {blocked}\n\n")).generate(ask(), "gemini-3.8-flash")
    assert info.value.code == "safety_blocked"
