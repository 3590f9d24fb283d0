"""AnthropicClient against the Messages API's documented requests, responses and errors."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hub.ai.models import ChatMessage, LlmRequest
from hub.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.providers import ADAPTERS
from hub.providers.anthropic.client import AnthropicClient, AnthropicCredentials, strip_code_fences
from hub.retry import RetryPolicy
from tests.helpers import AdapterFactory, recording, recording_json, timing_out

CREDS = AnthropicCredentials(api_key=SecretStr("sk-ant-test"))

MESSAGE_OK: dict[str, Any] = {
    "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-5-5",
    "content": [
        {"type": "thinking", "thinking": "The user greets me.", "signature": "EqQBCgIYAhIM"},
        {"type": "text", "text": "Olá! "},
        {"type": "text", "text": "Como posso ajudar?"},
    ],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "stop_details": None,
    "usage": {
        "input_tokens": 21,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": 14,
        "service_tier": "standard",
    },
}


def llm_request(**overrides: Any) -> LlmRequest:
    values: dict[str, Any] = {
        "org_id": "demo",
        "messages": [ChatMessage(role="user", content="Oi, tudo bem?")],
        "system": "Você é um SDR cordial.",
        "max_tokens": 256,
    }
    values.update(overrides)
    return LlmRequest(**values)


client_with = AdapterFactory(AnthropicClient, CREDS, attempts=3)


def error_body(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}


def test_generate_posts_the_documented_messages_request() -> None:
    seen, handler = recording(
        httpx.Response(200, json=MESSAGE_OK, headers={"request-id": "req_011CSHoEeqs5C35K2UUqR7Fy"})
    )

    completion = client_with(handler).generate(llm_request(), "claude-sonnet-5-5")

    request = seen[0]
    assert request.method == "POST"
    assert str(request.url) == "https://api.anthropic.com/v1/messages"
    assert request.headers["x-api-key"] == "sk-ant-test"
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in request.headers
    assert json.loads(request.content) == {
        "model": "claude-sonnet-5-5",
        "max_tokens": 256,
        "messages": [{"role": "user", "content": "Oi, tudo bem?"}],
        "system": "Você é um SDR cordial.",
        "stream": True,  # streamed, so a hung API is detected in seconds (issue 15)
    }
    # Text blocks concatenated, the thinking block skipped.
    assert completion.text == "Olá! Como posso ajudar?"
    assert completion.finish_reason == "stop"
    assert completion.usage.input_tokens == 21
    assert completion.usage.output_tokens == 14
    assert completion.provider == "anthropic"
    assert completion.model == "claude-sonnet-5-5"
    assert completion.provider_request_id == "req_011CSHoEeqs5C35K2UUqR7Fy"


def test_base_url_from_the_secret_is_used() -> None:
    seen, handler = recording(httpx.Response(200, json=MESSAGE_OK))

    http = httpx.Client(transport=httpx.MockTransport(handler))
    creds = AnthropicCredentials(api_key=SecretStr("k"), base_url="http://127.0.0.1:4010/anthropic/")
    AnthropicClient(creds, http=http).generate(llm_request(), "claude-haiku-5-5")
    assert str(seen[0].url) == "http://127.0.0.1:4010/anthropic/v1/messages"


def test_temperature_is_left_out_for_models_that_reject_it() -> None:
    bodies, handler = recording_json(httpx.Response(200, json=MESSAGE_OK))

    client = client_with(handler)
    client.generate(llm_request(temperature=0.3), "claude-haiku-5-5")  # 400 on non-default sampling
    client.generate(llm_request(temperature=1.7), "claude-legacy-model")  # unknown: sent, clamped to 0..1
    assert "temperature" not in bodies[0]
    assert bodies[1]["temperature"] == 1.0


def test_json_output_is_asked_for_in_the_system_prompt_without_prefill() -> None:
    fenced = {**MESSAGE_OK, "content": [{"type": "text", "text": '```json\n{"intent": "buy"}\n```'}]}

    bodies, handler = recording_json(httpx.Response(200, json=fenced))

    completion = client_with(handler).generate(llm_request(json_output=True), "claude-sonnet-5-5")
    body = bodies[0]
    assert body["system"].startswith("Você é um SDR cordial.")
    assert "JSON object" in body["system"]
    assert body["messages"][-1]["role"] == "user"  # no assistant prefill (400 on current models)
    assert json.loads(completion.text) == {"intent": "buy"}


@pytest.mark.parametrize(
    ("stop_reason", "expected"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("refusal", "content_filter"),
        ("tool_use", "tool_use"),
        ("pause_turn", "other"),
        (None, "other"),
    ],
)
def test_stop_reason_is_normalised(stop_reason: str | None, expected: str) -> None:
    body = {**MESSAGE_OK, "stop_reason": stop_reason}
    if stop_reason == "refusal":
        body["content"] = []
    completion = client_with(lambda r: httpx.Response(200, json=body)).generate(llm_request(), "claude-sonnet-5-5")
    assert completion.finish_reason == expected


def test_cache_tokens_count_as_input() -> None:
    usage = {"input_tokens": 10, "cache_creation_input_tokens": 5, "cache_read_input_tokens": 7, "output_tokens": 3}
    body = {**MESSAGE_OK, "usage": usage}
    completion = client_with(lambda r: httpx.Response(200, json=body)).generate(llm_request(), "claude-sonnet-5-5")
    assert completion.usage.input_tokens == 22


def test_a_200_without_content_is_a_provider_failure() -> None:
    with pytest.raises(ProviderUnavailableError):
        client_with(lambda r: httpx.Response(200, json={"type": "message"})).generate(llm_request(), "m")


@pytest.mark.parametrize(
    ("status", "kind", "error", "calls"),
    [
        (400, "invalid_request_error", InvalidRequestError, 1),
        (401, "authentication_error", AuthenticationError, 1),
        (403, "permission_error", AuthenticationError, 1),
        (404, "not_found_error", InvalidRequestError, 1),
        (413, "request_too_large", InvalidRequestError, 1),
        (500, "api_error", ProviderUnavailableError, 2),
        (503, "api_error", ProviderUnavailableError, 2),
        (504, "timeout_error", ProviderUnavailableError, 2),
        (529, "overloaded_error", ProviderUnavailableError, 2),
    ],
)
def test_errors_map_to_the_taxonomy(status: int, kind: str, error: type[Exception], calls: int) -> None:
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(1)
        return httpx.Response(status, json=error_body(kind, f"{kind} happened"), headers={"request-id": "req_1"})

    with pytest.raises(error) as info:
        client_with(handler).generate(llm_request(), "claude-sonnet-5-5")
    assert info.value.code == kind  # type: ignore[attr-defined]
    assert info.value.http_status == status  # type: ignore[attr-defined]
    assert info.value.request_id == "req_1"  # type: ignore[attr-defined]
    assert f"{kind} happened" in str(info.value)
    assert len(seen) == calls  # only 5xx/529 are retried, once (hub.retry)


def test_rate_limit_honours_retry_after() -> None:
    sleeps: list[float] = []
    responses = iter(
        [
            httpx.Response(429, json=error_body("rate_limit_error", "slow down"), headers={"retry-after": "1"}),
            httpx.Response(200, json=MESSAGE_OK),
        ]
    )
    http = httpx.Client(transport=httpx.MockTransport(lambda r: next(responses)))
    client = AnthropicClient(CREDS, http=http, retry_policy=RetryPolicy(sleep=sleeps.append))
    assert client.generate(llm_request(), "claude-sonnet-5-5").text
    assert sleeps == [1.0]


def test_rate_limit_error_carries_retry_after() -> None:
    body = error_body("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit")
    client = client_with(lambda r: httpx.Response(429, json=body, headers={"retry-after": "30"}), attempts=1)
    with pytest.raises(RateLimitedError) as info:
        client.generate(llm_request(), "claude-sonnet-5-5")
    assert info.value.retry_after == 30.0
    assert info.value.code == "rate_limit_error"


def test_billing_error_is_a_long_rate_limit_not_retried_now() -> None:
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(1)
        return httpx.Response(402, json=error_body("billing_error", "Your credit balance is too low"))

    with pytest.raises(RateLimitedError) as info:
        client_with(handler).generate(llm_request(), "claude-sonnet-5-5")
    assert info.value.retry_after == 3600.0
    assert info.value.code == "billing_error"
    assert len(seen) == 1


def test_timeouts_are_provider_unavailable() -> None:
    _, handler = timing_out()

    with pytest.raises(ProviderUnavailableError, match="timed out"):
        client_with(handler).generate(llm_request(), "claude-sonnet-5-5")


def test_health_check_lists_one_model() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        page = {"data": [{"type": "model", "id": "claude-haiku-5-5"}], "has_more": True}
        return httpx.Response(200, json=page)

    client_with(handler).health_check()
    assert seen[0].method == "GET"
    assert str(seen[0].url) == "https://api.anthropic.com/v1/models?limit=1"
    assert seen[0].headers["x-api-key"] == "sk-ant-test"
    with pytest.raises(AuthenticationError):
        client_with(
            lambda r: httpx.Response(401, json=error_body("authentication_error", "invalid x-api-key"))
        ).health_check()


def test_registered_and_credentials_validated() -> None:
    assert ADAPTERS["anthropic"] is AnthropicClient
    with pytest.raises(ConfigurationError) as info:
        AnthropicClient.parse_credentials({"base_url": "https://x"})
    assert "api_key" in info.value.message


def test_strip_code_fences() -> None:
    assert strip_code_fences('```json\n{"a": 1}\n```') == '{"a": 1}'
    assert strip_code_fences('```\n{"a": 1}\n```') == '{"a": 1}'
    assert strip_code_fences(' {"a": 1} ') == '{"a": 1}'
