"""OpenAIClient against the documented Chat Completions, Images and Embeddings APIs."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hub.ai.catalog import MODELS
from hub.ai.models import ChatMessage, LlmRequest
from hub.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.providers import ADAPTERS
from hub.providers.openai.client import OpenAIClient, OpenAICredentials
from tests.helpers import AdapterFactory, recording, recording_json, timing_out

CREDS = OpenAICredentials(api_key=SecretStr("sk-proj-test"), organization="org-abc", project="proj_xyz")
PNG = b"\x89PNG\r\n\x1a\nfake-but-bytes"

CHAT_OK: dict[str, Any] = {
    "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
    "object": "chat.completion",
    "created": 1763850000,
    "model": "gpt-6.2-sol",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Olá! Como posso ajudar?", "refusal": None, "annotations": []},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 19,
        "completion_tokens": 18,
        "total_tokens": 37,
        "completion_tokens_details": {"reasoning_tokens": 8},
    },
    "service_tier": "default",
}


def llm_request(**overrides: Any) -> LlmRequest:
    values: dict[str, Any] = {
        "org_id": "demo",
        "messages": [
            ChatMessage(role="user", content="Oi"),
            ChatMessage(role="assistant", content="Olá!"),
            ChatMessage(role="user", content="Quanto custa?"),
        ],
        "system": "Você é um SDR cordial.",
        "max_tokens": 300,
    }
    values.update(overrides)
    return LlmRequest(**values)


client_with = AdapterFactory(OpenAIClient, CREDS, attempts=3)


def error_body(message: str, kind: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def test_generate_posts_a_chat_completion_with_developer_instructions() -> None:
    seen, handler = recording(httpx.Response(200, json=CHAT_OK, headers={"x-request-id": "req_5f2a"}))

    completion = client_with(handler).generate(llm_request(), "gpt-6.2-sol")

    request = seen[0]
    assert request.method == "POST"
    assert str(request.url) == "https://api.openai.com/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-proj-test"
    assert request.headers["openai-organization"] == "org-abc"
    assert request.headers["openai-project"] == "proj_xyz"
    assert json.loads(request.content) == {
        "model": "gpt-6.2-sol",
        "messages": [
            {"role": "developer", "content": "Você é um SDR cordial."},
            {"role": "user", "content": "Oi"},
            {"role": "assistant", "content": "Olá!"},
            {"role": "user", "content": "Quanto custa?"},
        ],
        "max_completion_tokens": 300,
        "store": False,
        # Streamed, so a hung API is detected in seconds (issue 15); usage comes in the last chunk.
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    assert completion.text == "Olá! Como posso ajudar?"
    assert completion.finish_reason == "stop"
    assert (completion.usage.input_tokens, completion.usage.output_tokens) == (19, 18)
    assert completion.provider_request_id == "req_5f2a"
    assert completion.model == "gpt-6.2-sol"


def test_optional_headers_are_absent_without_org_or_project() -> None:
    seen, handler = recording(httpx.Response(200, json=CHAT_OK))

    client_with(handler, creds=OpenAICredentials(api_key=SecretStr("k"))).generate(llm_request(), "gpt-6-luna")
    assert "openai-organization" not in seen[0].headers
    assert "openai-project" not in seen[0].headers


def test_json_output_uses_json_mode_and_names_json_in_the_instructions() -> None:
    bodies, handler = recording_json(httpx.Response(200, json=CHAT_OK))

    client_with(handler).generate(llm_request(system=None, json_output=True), "gpt-6-luna")
    body = bodies[0]
    assert body["response_format"] == {"type": "json_object"}
    assert body["messages"][0]["role"] == "developer"
    assert "JSON" in body["messages"][0]["content"]  # json_object requires the word in the messages


def test_temperature_only_for_models_that_take_it() -> None:
    bodies, handler = recording_json(httpx.Response(200, json=CHAT_OK))

    client = client_with(handler)
    client.generate(llm_request(temperature=0.2), "gpt-6.2-sol")  # reasoning model: 400 on temperature
    client.generate(llm_request(temperature=0.2), "some-fine-tune")  # not in the catalog: passed through
    assert "temperature" not in bodies[0]
    assert bodies[1]["temperature"] == 0.2
    assert "max_tokens" not in bodies[0]


@pytest.mark.parametrize(
    ("finish_reason", "expected"),
    [
        ("stop", "stop"),
        ("length", "length"),
        ("content_filter", "content_filter"),
        ("tool_calls", "tool_use"),
        ("function_call", "tool_use"),
        ("something_new", "other"),
    ],
)
def test_finish_reason_is_normalised(finish_reason: str, expected: str) -> None:
    body = json.loads(json.dumps(CHAT_OK))
    body["choices"][0]["finish_reason"] = finish_reason
    completion = client_with(lambda r: httpx.Response(200, json=body)).generate(llm_request(), "gpt-6.2-sol")
    assert completion.finish_reason == expected


def test_refusal_is_a_content_filter_with_no_text() -> None:
    body = json.loads(json.dumps(CHAT_OK))
    body["choices"][0]["message"] = {"role": "assistant", "content": None, "refusal": "I can't help with that."}
    completion = client_with(lambda r: httpx.Response(200, json=body)).generate(llm_request(), "gpt-6.2-sol")
    assert completion.finish_reason == "content_filter"
    assert completion.text == ""


def test_generate_image_decodes_base64_and_sends_no_response_format() -> None:
    seen: list[httpx.Request] = []
    body = {
        "created": 1763850000,
        "background": "opaque",
        "data": [{"b64_json": base64.b64encode(PNG).decode()}],
        "output_format": "png",
        "quality": "medium",
        "size": "1024x1024",
        "usage": {"input_tokens": 12, "input_tokens_details": {"text_tokens": 12}, "output_tokens": 1756},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=body)

    image = client_with(handler).generate_image("um logo azul", "gpt-image-2.6-flare")
    request = seen[0]
    assert str(request.url) == "https://api.openai.com/v1/images/generations"
    assert json.loads(request.content) == {
        "model": "gpt-image-2.6-flare",
        "prompt": "um logo azul",
        "n": 1,
        "size": "1024x1024",
        "quality": "medium",
        "stream": True,  # the headers come at once: a hung API is detected in seconds (issue 15)
        "partial_images": 0,
    }
    assert image.data == PNG
    assert image.mime_type == "image/png"
    assert image.usage is not None and image.usage.output_tokens == 1756
    cost = MODELS["gpt-image-2.6-flare"].token_cost_usd(image.usage.input_tokens, image.usage.output_tokens)
    assert str(cost) == "0.05274"


def test_image_mime_type_follows_output_format() -> None:
    body = {"data": [{"b64_json": base64.b64encode(b"jpegbytes").decode()}], "output_format": "jpeg"}
    image = client_with(lambda r: httpx.Response(200, json=body)).generate_image("x", "gpt-image-2.6-flare")
    assert image.mime_type == "image/jpeg"
    assert image.usage is None


@pytest.mark.parametrize("data", [[], [{"url": "https://example.com/x.png"}], [{"b64_json": "%%%not-base64"}]])
def test_image_without_valid_base64_is_a_provider_failure(data: list[dict[str, str]]) -> None:
    client = client_with(lambda r: httpx.Response(200, json={"data": data}))
    with pytest.raises(ProviderUnavailableError):
        client.generate_image("x", "gpt-image-2.6-flare")


def test_embed_batches_and_orders_vectors_by_index() -> None:
    seen: list[httpx.Request] = []
    body = {
        "object": "list",
        "data": [
            {"object": "embedding", "index": 2, "embedding": [0.0, 0.0, 1.0]},
            {"object": "embedding", "index": 0, "embedding": [1.0, 0.0, 0.0]},
            {"object": "embedding", "index": 1, "embedding": [0.0, 1.0, 0.0]},
        ],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 9, "total_tokens": 9},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=body)

    result = client_with(handler).embed(["a", "b", "c"])
    assert str(seen[0].url) == "https://api.openai.com/v1/embeddings"
    assert json.loads(seen[0].content) == {
        "model": "text-embedding-3-small",
        "input": ["a", "b", "c"],
        "encoding_format": "float",
    }
    assert result.vectors == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    assert result.dimensions == 3
    assert result.usage.input_tokens == 9
    assert result.usage.output_tokens == 0


def test_embed_rejects_bad_input_locally_and_short_answers() -> None:
    client = client_with(lambda r: httpx.Response(200, json={"data": [{"index": 0, "embedding": [1.0]}]}))
    with pytest.raises(InvalidRequestError):
        client.embed([])
    with pytest.raises(InvalidRequestError):
        client.embed(["ok", ""])
    with pytest.raises(ProviderUnavailableError):
        client.embed(["a", "b"])  # one vector for two inputs


@pytest.mark.parametrize(
    ("status", "body", "error", "code", "calls"),
    [
        (400, error_body("This model's maximum context length is 1050000 tokens.", "invalid_request_error",
                         "context_length_exceeded", "messages"), InvalidRequestError, "context_length_exceeded", 1),
        (401, error_body("Incorrect API key provided: sk-pr***test.", "invalid_request_error", "invalid_api_key"),
         AuthenticationError, "invalid_api_key", 1),
        (403, error_body("Country, region, or territory not supported", "request_forbidden",
                         "unsupported_country_region_territory"), AuthenticationError,
         "unsupported_country_region_territory", 1),
        (404, error_body("The model `gpt-9` does not exist or you do not have access to it.", "invalid_request_error",
                         "model_not_found"), InvalidRequestError, "model_not_found", 1),
        (413, error_body("Request too large.", "invalid_request_error"), InvalidRequestError,
         "invalid_request_error", 1),
        (500, error_body("The server had an error while processing your request.", "server_error"),
         ProviderUnavailableError, "server_error", 2),
        (503, error_body("The engine is currently overloaded, please try again later.", "server_error"),
         ProviderUnavailableError, "server_error", 2),
    ],
)  # fmt: skip
def test_errors_map_to_the_taxonomy(
    status: int, body: dict[str, Any], error: type[Exception], code: str, calls: int
) -> None:
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(1)
        return httpx.Response(status, json=body, headers={"x-request-id": "req_err"})

    with pytest.raises(error) as info:
        client_with(handler).generate(llm_request(), "gpt-6.2-sol")
    assert info.value.code == code  # type: ignore[attr-defined]
    assert info.value.http_status == status  # type: ignore[attr-defined]
    assert info.value.request_id == "req_err"  # type: ignore[attr-defined]
    assert body["error"]["message"] in str(info.value)
    assert len(seen) == calls


def test_rate_limit_carries_retry_after() -> None:
    body = error_body("Rate limit reached for requests", "requests", "rate_limit_exceeded")
    client = client_with(lambda r: httpx.Response(429, json=body, headers={"retry-after": "20"}), attempts=1)
    with pytest.raises(RateLimitedError) as info:
        client.generate(llm_request(), "gpt-6.2-sol")
    assert info.value.retry_after == 20.0
    assert info.value.code == "rate_limit_exceeded"


@pytest.mark.parametrize(
    ("kind", "code"),
    [("insufficient_quota", "credit_balance_exhausted"), ("insufficient_quota", None),
     ("insufficient_quota", "project_spend_limit_exceeded")],
)  # fmt: skip
def test_insufficient_quota_is_a_long_rate_limit_never_retried_now(kind: str, code: str | None) -> None:
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(1)
        return httpx.Response(429, json=error_body("You exceeded your current quota.", kind, code))

    with pytest.raises(RateLimitedError) as info:
        client_with(handler).generate(llm_request(), "gpt-6.2-sol")
    assert info.value.retry_after == 3600.0
    assert info.value.code == (code or "insufficient_quota")
    assert len(seen) == 1


def test_read_timeouts_are_unavailable_without_a_second_wait() -> None:
    seen, handler = timing_out()

    with pytest.raises(ProviderUnavailableError, match="timed out"):
        client_with(handler).embed(["x"])
    assert len(seen) == 1  # read timeouts are not retried in the function (see hub.retry)


def test_health_check_lists_models_with_the_key() -> None:
    seen, handler = recording(httpx.Response(200, json={"object": "list", "data": []}))

    client_with(handler).health_check()
    assert (seen[0].method, str(seen[0].url)) == ("GET", "https://api.openai.com/v1/models")
    assert seen[0].headers["authorization"] == "Bearer sk-proj-test"


def test_registered_and_credentials_validated() -> None:
    assert ADAPTERS["openai"] is OpenAIClient
    creds = OpenAIClient.parse_credentials({"api_key": "k", "project": "proj_1"})
    assert isinstance(creds, OpenAICredentials) and creds.project == "proj_1"
    with pytest.raises(ConfigurationError) as info:
        OpenAIClient.parse_credentials({"organization": "org-1"})
    assert "api_key" in info.value.message
