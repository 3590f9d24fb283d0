"""The Anthropic and OpenAI adapters driven against their sandboxes, served alone on a free port."""

from __future__ import annotations

import json
import math
import struct
import zlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from hub.ai.models import ChatMessage, LlmRequest
from hub.config import get_settings
from hub.errors import AuthenticationError, HubError, InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.providers.anthropic.client import AnthropicClient
from hub.providers.openai.client import OpenAIClient
from hub.retry import RetryPolicy
from localcloud import demo
from localcloud.sandboxes import anthropic as anthropic_sandbox
from localcloud.sandboxes import openai as openai_sandbox
from localcloud.sandboxes.openai import NO_CREDIT_API_KEY
from tests.conftest import ServedSandboxes

NO_SLEEP = RetryPolicy(sleep=lambda _: None)


@pytest.fixture
def sandbox_url(sandboxes: ServedSandboxes) -> str:
    return sandboxes.url  # state and faults are reset around every test


def secret(sandbox_url: str, provider: str, **overrides: Any) -> dict[str, Any]:
    return {**demo.demo_secret_values(sandbox_url)[provider], **overrides}


def anthropic(sandbox_url: str, **overrides: Any) -> AnthropicClient:
    creds = AnthropicClient.parse_credentials(secret(sandbox_url, "anthropic", **overrides))
    return AnthropicClient(creds, retry_policy=NO_SLEEP)


def openai(sandbox_url: str, **overrides: Any) -> OpenAIClient:
    creds = OpenAIClient.parse_credentials(secret(sandbox_url, "openai", **overrides))
    return OpenAIClient(creds, retry_policy=NO_SLEEP)


def ask(text: str, **overrides: Any) -> LlmRequest:
    values: dict[str, Any] = {"org_id": "demo", "messages": [ChatMessage(role="user", content=text)]}
    values.update(overrides)
    return LlmRequest(**values)


def logged(sandbox_url: str, provider: str) -> list[dict[str, Any]]:
    return list(httpx.get(f"{sandbox_url}/__sandbox/requests", params={"provider": provider}).json())


def fault(sandbox_url: str, provider: str, **spec: Any) -> None:
    assert httpx.put(f"{sandbox_url}/__sandbox/faults/{provider}", json=spec).status_code == 200


def test_demo_secrets_point_at_the_sandbox_mounts(sandbox_url: str) -> None:
    values = demo.demo_secret_values(sandbox_url)
    assert values["anthropic"] == {"base_url": f"{sandbox_url}/anthropic", "api_key": anthropic_sandbox.DEMO_API_KEY}
    assert values["openai"] == {"base_url": f"{sandbox_url}/openai/v1", "api_key": openai_sandbox.DEMO_API_KEY}


# ----- Anthropic ----------------------------------------------------------------------------


def test_anthropic_generate_against_the_sandbox(sandbox_url: str) -> None:
    client = anthropic(sandbox_url)
    client.health_check()

    # temperature is dropped for Claude 5.x (the sandbox answers 400 to it, as Anthropic does)
    completion = client.generate(ask("Quero um orçamento", system="Seja breve.", temperature=0.4), "claude-sonnet-5-5")
    assert completion.text == "Received 18 characters."
    assert completion.finish_reason == "stop"
    assert completion.usage.input_tokens > 0 and completion.usage.output_tokens > 0
    assert completion.provider_request_id and completion.provider_request_id.startswith("req_")

    as_json = client.generate(ask("olá", json_output=True), "claude-haiku-5-5")
    assert json.loads(as_json.text) == {"received_characters": 3}

    cut = client.generate(ask("x" * 40, max_tokens=12), "claude-haiku-5-5")
    assert cut.finish_reason == "length"
    refused = client.generate(ask("please [[refuse]] this"), "claude-haiku-5-5")
    assert (refused.finish_reason, refused.text) == ("content_filter", "")

    entry = logged(sandbox_url, "anthropic")[1]
    assert (entry["method"], entry["path"]) == ("POST", "/v1/messages")
    assert entry["headers"]["X-Api-Key"] == anthropic_sandbox.DEMO_API_KEY
    assert entry["headers"]["Anthropic-Version"] == "2023-06-01"
    assert entry["json"]["system"] == "Seja breve."
    assert "temperature" not in entry["json"]


@pytest.mark.parametrize(
    ("client", "overrides", "model", "error", "code"),
    [
        (anthropic, {"api_key": "wrong"}, "claude-sonnet-5-5", AuthenticationError, "authentication_error"),
        (anthropic, {}, "claude-9-imaginary", InvalidRequestError, "not_found_error"),
        (openai, {"api_key": "sk-wrong-key-123"}, "gpt-6.2-sol", AuthenticationError, "invalid_api_key"),
        (openai, {"api_key": NO_CREDIT_API_KEY}, "gpt-6.2-sol", RateLimitedError, "credit_balance_exhausted"),
        (openai, {}, "gpt-9", InvalidRequestError, "model_not_found"),
    ],
    ids=["anthropic-key", "anthropic-model", "openai-key", "openai-credit", "openai-model"],
)
def test_llm_errors_come_back_in_the_taxonomy(
    sandbox_url: str,
    client: Callable[..., AnthropicClient | OpenAIClient],
    overrides: dict[str, str],
    model: str,
    error: type[HubError],
    code: str,
) -> None:
    with pytest.raises(error) as info:
        client(sandbox_url, **overrides).generate(ask("oi"), model)
    assert info.value.code == code


def test_openai_out_of_credit_is_retried_after_an_hour(sandbox_url: str) -> None:
    with pytest.raises(RateLimitedError) as quota:
        openai(sandbox_url, api_key=NO_CREDIT_API_KEY).generate(ask("oi"), "gpt-6.2-sol")
    assert quota.value.retry_after == 3600.0


def test_anthropic_overloaded_fault_is_retried_then_unavailable(sandbox_url: str) -> None:
    client = anthropic(sandbox_url)
    # The raw 529: Anthropic's overloaded body and request-id header.
    fault(sandbox_url, "anthropic", mode="error", status=529, times=1)
    raw = httpx.get(f"{sandbox_url}/anthropic/v1/models")
    assert raw.status_code == 529
    assert raw.json()["type"] == "error"
    assert raw.json()["error"] == {"type": "overloaded_error", "message": "Overloaded"}
    assert raw.headers["request-id"].startswith("req_")

    fault(sandbox_url, "anthropic", mode="error", status=529, times=1)
    assert client.generate(ask("oi"), "claude-sonnet-5-5").text  # one 529, then the retry succeeds

    fault(sandbox_url, "anthropic", mode="error", status=529)
    with pytest.raises(ProviderUnavailableError) as info:
        client.generate(ask("oi"), "claude-sonnet-5-5")
    assert (info.value.http_status, info.value.code) == (529, "overloaded_error")
    fault(sandbox_url, "anthropic", mode="rate_limited", retry_after=30)
    with pytest.raises(RateLimitedError) as limited:
        client.generate(ask("oi"), "claude-sonnet-5-5")
    assert limited.value.retry_after == 30.0  # too long to sleep here: handed back at once
    httpx.delete(f"{sandbox_url}/__sandbox/faults/anthropic")
    faults = [e["fault"] for e in logged(sandbox_url, "anthropic")]
    # a persistent 529: one quick retry, then the caller fails over (hub.retry)
    assert faults == ["error", "error", None, "error", "error", "rate_limited"]


# ----- OpenAI -------------------------------------------------------------------------------


def test_openai_chat_image_and_embeddings_against_the_sandbox(sandbox_url: str) -> None:
    client = openai(sandbox_url, organization="org-demo", project="proj_demo")
    client.health_check()

    completion = client.generate(ask("Quero um orçamento", system="Seja breve.", temperature=0.4), "gpt-6.2-sol")
    assert completion.text == "Received 18 characters."
    assert completion.finish_reason == "stop"
    assert completion.usage.output_tokens > 8  # reasoning tokens are billed as output
    assert completion.provider_request_id and completion.provider_request_id.startswith("req_")
    as_json = client.generate(ask("olá", json_output=True), "gpt-6-luna")
    assert json.loads(as_json.text) == {"received_characters": 3}
    refused = client.generate(ask("[[refuse]]"), "gpt-6-luna")
    assert refused.finish_reason == "content_filter"

    image = client.generate_image("um logo azul", "gpt-image-2.6-flare")
    assert image.mime_type == "image/png"
    assert_valid_png(image.data)
    assert image.usage is not None and image.usage.output_tokens == 1756

    texts = ["primeiro", "segundo", "terceiro"]
    result = client.embed(texts)
    assert result.dimensions == 1536
    assert len(result.vectors) == 3
    assert all(math.isclose(math.sqrt(sum(x * x for x in v)), 1.0, rel_tol=1e-6) for v in result.vectors)
    assert client.embed(["segundo"]).vectors[0] == result.vectors[1]  # deterministic, in input order

    chat = next(e for e in logged(sandbox_url, "openai") if e["path"] == "/v1/chat/completions")
    assert chat["headers"]["Authorization"] == f"Bearer {openai_sandbox.DEMO_API_KEY}"
    assert chat["headers"]["Openai-Organization"] == "org-demo"
    assert chat["headers"]["Openai-Project"] == "proj_demo"
    assert chat["json"]["messages"][0] == {"role": "developer", "content": "Seja breve."}
    assert chat["json"]["max_completion_tokens"] == 1024
    assert "temperature" not in chat["json"] and "max_tokens" not in chat["json"]
    images = next(e for e in logged(sandbox_url, "openai") if e["path"] == "/v1/images/generations")
    assert "response_format" not in images["json"]


def test_openai_down_and_slow_faults(sandbox_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client = openai(sandbox_url)
    fault(sandbox_url, "openai", mode="down", times=2)
    with pytest.raises(ProviderUnavailableError, match="unreachable"):
        client.embed(["oi"])

    monkeypatch.setenv("HEALTH_CHECK_TIMEOUT", "0.2")
    get_settings.cache_clear()
    fault(sandbox_url, "openai", mode="slow", delay_seconds=0.6, times=1)
    with pytest.raises(ProviderUnavailableError, match="timed out"):
        client.health_check()
    # a dropped connection gets one quick retry; a read timeout none (the provider is working on it)
    assert [e["fault"] for e in logged(sandbox_url, "openai")] == ["down"] * 2 + ["slow"]


def assert_valid_png(data: bytes) -> None:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, kinds = 8, []
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind, payload = data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + payload) & 0xFFFFFFFF == crc
        kinds.append(kind)
        offset += 12 + length
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
