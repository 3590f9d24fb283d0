"""The streaming contract of the AI providers (issue 15).

* Every text generator in the registry streams its generation and a first-byte timeout is a
  ProviderUnavailableError ``first_byte_timeout`` that the breaker counts, sent once.
* Each sandbox streams the shapes its provider documents (event names, order, JSON of each
  event, how the stream ends), read here with a plain SSE reader, not with the hub's adapters,
  and adds up to the same answer as its non-streamed call.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from hub.ai.models import ChatMessage, LlmRequest
from hub.errors import ProviderUnavailableError
from hub.providers import ports
from hub.providers.base.client import FIRST_BYTE_TIMEOUT
from localcloud import demo
from localcloud.sandboxes import anthropic as anthropic_sandbox
from localcloud.sandboxes import gemini as gemini_sandbox
from localcloud.sandboxes import openai as openai_sandbox
from tests.conftest import ServedSandboxes
from tests.contract.conftest import ContractAws
from tests.contract.test_contract import ORG, adapter

TEXT_GENERATORS = ports.providers_with(ports.TextGenerator)
MODELS = {"anthropic": "claude-sonnet-5-5", "openai": "gpt-6.2-sol", "gemini": "gemini-3.8-flash"}
PROMPT = "Quero um orçamento para 40 convites de casamento."


def sse(lines: Iterator[str]) -> list[tuple[str | None, str]]:
    """(event name or None, data) of each event: the standard's rules, written out plainly."""
    events: list[tuple[str | None, str]] = []
    name: str | None = None
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                events.append((name, "\n".join(data)))
            name, data = None, []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    return events


def streamed(method: str, url: str, **kwargs: Any) -> tuple[httpx.Response, list[tuple[str | None, str]]]:
    with httpx.stream(method, url, **kwargs) as response:
        events = sse(response.iter_lines())
    return response, events


@pytest.fixture
def sandbox_url(sandboxes: ServedSandboxes) -> str:
    return sandboxes.url


def test_the_registry_lists_the_streaming_text_generators() -> None:
    assert set(TEXT_GENERATORS) == set(MODELS)


@pytest.mark.parametrize("key", TEXT_GENERATORS)
def test_a_first_byte_timeout_is_unavailable_sent_once_and_counted_by_the_breaker(
    key: str, contract_aws: ContractAws
) -> None:
    seen: list[httpx.Request] = []

    def hung(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise httpx.ReadTimeout("no first byte", request=request)

    client: Any = adapter(key, hung, attempts=3)
    request = LlmRequest(org_id=ORG, messages=[ChatMessage(role="user", content="Oi")])
    with pytest.raises(ProviderUnavailableError) as info:
        client.generate(request, MODELS[key])

    assert info.value.code == FIRST_BYTE_TIMEOUT
    assert len(seen) == 1  # the next provider, not this one again
    assert seen[0].headers["accept"] == "text/event-stream"
    breaker = client.circuit_breaker()
    assert breaker is not None and breaker.status().failures == 1


# ----- Anthropic: https://platform.claude.com/docs/en/build-with-claude/streaming ------------


def anthropic_call(sandbox_url: str, **body: Any) -> tuple[httpx.Response, list[tuple[str | None, str]]]:
    values = demo.demo_secret_values(sandbox_url)["anthropic"]
    headers = {"x-api-key": values["api_key"], "anthropic-version": anthropic_sandbox.ANTHROPIC_VERSION}
    payload = {"model": MODELS["anthropic"], "max_tokens": 300, "messages": [{"role": "user", "content": PROMPT}]}
    return streamed("POST", f"{values['base_url']}/v1/messages", json={**payload, **body}, headers=headers)


def test_anthropic_streams_the_documented_event_flow(sandbox_url: str) -> None:
    response, events = anthropic_call(sandbox_url, stream=True)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["request-id"].startswith("req_")
    names = [name for name, _ in events]
    datas = [json.loads(data) for _, data in events]
    # Each SSE event name is the "type" of its data.
    assert names == [d["type"] for d in datas]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert "ping" in names
    start = datas[0]["message"]
    assert (start["type"], start["role"], start["content"], start["stop_reason"]) == ("message", "assistant", [], None)
    assert start["usage"]["input_tokens"] > 0
    # Blocks: content_block_start, deltas, content_block_stop, each with its index, in order.
    blocks = [d for d in datas if d["type"].startswith("content_block")]
    for index in {d["index"] for d in blocks}:
        own = [d["type"] for d in blocks if d["index"] == index]
        assert own[0] == "content_block_start" and own[-1] == "content_block_stop"
        assert set(own[1:-1]) == {"content_block_delta"}
    delta_types = {d["delta"]["type"] for d in blocks if d["type"] == "content_block_delta"}
    assert delta_types <= {"text_delta", "thinking_delta", "signature_delta"} and "text_delta" in delta_types
    final = datas[-2]
    assert final["delta"]["stop_reason"] == "end_turn" and final["usage"]["output_tokens"] > 0
    # The deltas add up to the non-streamed message.
    whole = httpx.post(
        f"{demo.demo_secret_values(sandbox_url)['anthropic']['base_url']}/v1/messages",
        json={"model": MODELS["anthropic"], "max_tokens": 300, "messages": [{"role": "user", "content": PROMPT}]},
        headers={"x-api-key": anthropic_sandbox.DEMO_API_KEY, "anthropic-version": "2023-06-01"},
    ).json()
    text = "".join(d["delta"]["text"] for d in blocks if d.get("delta", {}).get("type") == "text_delta")
    assert text == "".join(b["text"] for b in whole["content"] if b["type"] == "text")
    assert final["usage"]["output_tokens"] == whole["usage"]["output_tokens"]


def test_anthropic_sends_an_error_event_when_overloaded_mid_stream(sandbox_url: str) -> None:
    _, events = anthropic_call(
        sandbox_url, stream=True, messages=[{"role": "user", "content": "[[overloaded-midstream]]"}]
    )
    name, data = events[-1]
    assert name == "error"
    assert json.loads(data) == {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    assert events[0][0] == "message_start"


# ----- OpenAI: https://platform.openai.com/docs/api-reference/chat-streaming -----------------


def openai_call(
    sandbox_url: str, path: str, body: dict[str, Any]
) -> tuple[httpx.Response, list[tuple[str | None, str]]]:
    values = demo.demo_secret_values(sandbox_url)["openai"]
    headers = {"Authorization": f"Bearer {values['api_key']}"}
    return streamed("POST", f"{values['base_url']}{path}", json=body, headers=headers)


@pytest.mark.parametrize("include_usage", [True, False])
def test_openai_streams_chat_completion_chunks_ending_in_done(sandbox_url: str, include_usage: bool) -> None:
    body: dict[str, Any] = {
        "model": MODELS["openai"],
        "messages": [{"role": "user", "content": PROMPT}],
        "stream": True,
    }
    if include_usage:
        body["stream_options"] = {"include_usage": True}
    response, events = openai_call(sandbox_url, "/chat/completions", body)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-request-id"]
    assert all(name is None for name, _ in events)  # OpenAI names no events
    assert events[-1][1] == "[DONE]"
    chunks = [json.loads(data) for _, data in events[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    with_choices = [c for c in chunks if c["choices"]]
    assert with_choices[-1]["choices"][0]["finish_reason"] == "stop"
    assert all(c["choices"][0]["finish_reason"] is None for c in with_choices[:-1])
    if include_usage:
        assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0
        assert all(c["usage"] is None for c in chunks[:-1])
    else:
        assert all("usage" not in c for c in chunks)
    whole = httpx.post(
        f"{demo.demo_secret_values(sandbox_url)['openai']['base_url']}/chat/completions",
        json={k: v for k, v in body.items() if k not in ("stream", "stream_options")},
        headers={"Authorization": f"Bearer {openai_sandbox.DEMO_API_KEY}"},
    ).json()
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in with_choices)
    assert text == whole["choices"][0]["message"]["content"]
    if include_usage:
        assert chunks[-1]["usage"] == whole["usage"]


def test_openai_refuses_stream_options_without_stream(sandbox_url: str) -> None:
    body = {"model": MODELS["openai"], "messages": [{"role": "user", "content": "Oi"}], "stream_options": {}}
    response, _ = openai_call(sandbox_url, "/chat/completions", body)
    assert response.status_code == 400


@pytest.mark.parametrize("partial_images", [0, 2])
def test_openai_streams_images_as_partial_then_completed_events(sandbox_url: str, partial_images: int) -> None:
    body = {
        "model": "gpt-image-2.6-flare",
        "prompt": "um logo azul",
        "size": "1024x1024",
        "quality": "low",
        "stream": True,
        "partial_images": partial_images,
    }
    _, events = openai_call(sandbox_url, "/images/generations", body)
    names = [name for name, _ in events]
    assert names == ["image_generation.partial_image"] * partial_images + ["image_generation.completed"]
    datas = [json.loads(data) for _, data in events]
    assert [d["type"] for d in datas] == names
    assert [d["partial_image_index"] for d in datas[:-1]] == list(range(partial_images))
    completed = datas[-1]
    assert completed["b64_json"] and completed["output_format"] == "png" and completed["size"] == "1024x1024"
    assert completed["usage"]["output_tokens"] == openai_sandbox.IMAGE_OUTPUT_TOKENS["low"] + 100 * partial_images


# ----- Gemini: https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent ---


def gemini_url(sandbox_url: str, method: str) -> str:
    return f"{demo.demo_secret_values(sandbox_url)['gemini']['base_url']}/v1beta/models/{MODELS['gemini']}:{method}"


GEMINI_HEADERS = {"x-goog-api-key": gemini_sandbox.DEMO_API_KEY}
GEMINI_BODY = {"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]}


def test_gemini_streams_generate_content_responses_with_alt_sse(sandbox_url: str) -> None:
    response, events = streamed(
        "POST",
        gemini_url(sandbox_url, "streamGenerateContent"),
        params={"alt": "sse"},
        json=GEMINI_BODY,
        headers=GEMINI_HEADERS,
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    assert len(events) > 1 and all(name is None for name, _ in events)  # no event names, no end marker
    chunks = [json.loads(data) for _, data in events]
    assert all(c["candidates"][0]["content"]["role"] == "model" for c in chunks)
    assert all("finishReason" not in c["candidates"][0] for c in chunks[:-1])
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert chunks[-1]["usageMetadata"]["candidatesTokenCount"] > 0
    whole = httpx.post(gemini_url(sandbox_url, "generateContent"), json=GEMINI_BODY, headers=GEMINI_HEADERS).json()
    text = "".join(p["text"] for c in chunks for p in c["candidates"][0]["content"]["parts"])
    assert text == whole["candidates"][0]["content"]["parts"][0]["text"]
    assert chunks[-1]["usageMetadata"] == whole["usageMetadata"]


def test_gemini_streams_a_json_array_without_alt_sse(sandbox_url: str) -> None:
    answer = httpx.post(gemini_url(sandbox_url, "streamGenerateContent"), json=GEMINI_BODY, headers=GEMINI_HEADERS)
    assert answer.headers["content-type"].startswith("application/json")
    chunks = answer.json()
    assert isinstance(chunks, list) and chunks[-1]["candidates"][0]["finishReason"] == "STOP"


def test_gemini_streams_a_blocked_prompt_as_one_chunk(sandbox_url: str) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": f"{gemini_sandbox.BLOCK_WORD} agora"}]}]}
    _, events = streamed(
        "POST",
        gemini_url(sandbox_url, "streamGenerateContent"),
        params={"alt": "sse"},
        json=body,
        headers=GEMINI_HEADERS,
    )
    [(_, data)] = events
    assert json.loads(data)["promptFeedback"]["blockReason"] == "SAFETY"


# ----- faults: the shared slow fault hangs a stream before its first byte ----------------------

CALLS: dict[str, Callable[[str], tuple[str, dict[str, Any], dict[str, str], dict[str, str]]]] = {
    "anthropic": lambda url: (
        f"{url}/anthropic/v1/messages",
        {
            "model": MODELS["anthropic"],
            "max_tokens": 50,
            "messages": [{"role": "user", "content": "Oi"}],
            "stream": True,
        },
        {"x-api-key": anthropic_sandbox.DEMO_API_KEY, "anthropic-version": "2023-06-01"},
        {},
    ),
    "openai": lambda url: (
        f"{url}/openai/v1/chat/completions",
        {"model": MODELS["openai"], "messages": [{"role": "user", "content": "Oi"}], "stream": True},
        {"Authorization": f"Bearer {openai_sandbox.DEMO_API_KEY}"},
        {},
    ),
    "gemini": lambda url: (
        gemini_url(url, "streamGenerateContent"),
        {"contents": [{"role": "user", "parts": [{"text": "Oi"}]}]},
        GEMINI_HEADERS,
        {"alt": "sse"},
    ),
}


@pytest.mark.parametrize("provider", list(CALLS))
def test_the_slow_fault_hangs_a_stream_before_its_first_byte(provider: str, sandbox_url: str) -> None:
    assert httpx.put(f"{sandbox_url}/__sandbox/faults/{provider}", json={"mode": "slow", "delay_seconds": 2}).is_success
    url, body, headers, params = CALLS[provider](sandbox_url)
    with pytest.raises(httpx.ReadTimeout):  # not even the status line came
        streamed("POST", url, json=body, headers=headers, params=params, timeout=httpx.Timeout(5, read=0.3))


@pytest.mark.parametrize("provider", list(CALLS))
def test_the_stall_fault_sends_the_headers_then_nothing(provider: str, sandbox_url: str) -> None:
    assert httpx.put(
        f"{sandbox_url}/__sandbox/faults/{provider}", json={"mode": "stall", "delay_seconds": 2}
    ).is_success
    url, body, headers, params = CALLS[provider](sandbox_url)
    with httpx.stream(
        "POST", url, json=body, headers=headers, params=params, timeout=httpx.Timeout(5, read=0.5)
    ) as response:
        assert response.status_code == 200  # the first byte came
        with pytest.raises(httpx.ReadTimeout):  # then the stream stalls
            response.read()
