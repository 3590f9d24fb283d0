"""GeminiClient against the Gemini API's documented requests, responses and error bodies
(https://ai.google.dev/api/generate-content, https://ai.google.dev/gemini-api/docs/troubleshooting)."""

from __future__ import annotations

import json
from collections.abc import Callable
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
from hub.providers.gemini.client import GeminiClient, GeminiCredentials, normalise_finish_reason
from tests.helpers import AdapterFactory, recording, timing_out

API_KEY = "AIza-test-key"
CREDS = GeminiCredentials(api_key=SecretStr(API_KEY))
MODEL = "gemini-3.8-flash"

OK = {
    "candidates": [
        {
            "content": {"parts": [{"text": "Olá! "}, {"text": "Como posso ajudar?"}], "role": "model"},
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": {
        "promptTokenCount": 12,
        "candidatesTokenCount": 7,
        "thoughtsTokenCount": 30,
        "totalTokenCount": 49,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 12}],
    },
    "modelVersion": "gemini-3.8-flash",
    "responseId": "resp-abc123",
}

Handler = Callable[[httpx.Request], httpx.Response]


client_with = AdapterFactory(GeminiClient, CREDS, attempts=3)


def req(**overrides: Any) -> LlmRequest:
    fields: dict[str, Any] = {
        "org_id": "demo",
        "messages": [
            ChatMessage(role="user", content="Oi"),
            ChatMessage(role="assistant", content="Olá!"),
            ChatMessage(role="user", content="Quero um orçamento"),
        ],
        "max_tokens": 256,
    }
    fields.update(overrides)
    return LlmRequest(**fields)


def google_error(status: int, grpc_status: str, message: str, details: list[dict[str, Any]] | None = None) -> Any:
    error: dict[str, Any] = {"code": status, "message": message, "status": grpc_status}
    if details is not None:
        error["details"] = details
    return {"error": error}


# ----- request shape ------------------------------------------------------------------


def test_generate_posts_the_documented_request_with_the_key_in_a_header() -> None:
    seen, handler = recording(httpx.Response(200, json=OK))

    client_with(handler).generate(req(system="Você é um SDR.", temperature=0.3, json_output=True), MODEL)

    [request] = seen
    assert request.method == "POST"
    assert (
        str(request.url)
        == "https://generativelanguage.googleapis.com/v1beta/models/gemini-3.8-flash:streamGenerateContent?alt=sse"
    )
    assert request.headers["x-goog-api-key"] == API_KEY
    assert "key" not in request.url.params and API_KEY not in str(request.url)
    assert "authorization" not in request.headers
    assert json.loads(request.content) == {
        "contents": [
            {"role": "user", "parts": [{"text": "Oi"}]},
            {"role": "model", "parts": [{"text": "Olá!"}]},
            {"role": "user", "parts": [{"text": "Quero um orçamento"}]},
        ],
        "systemInstruction": {"parts": [{"text": "Você é um SDR."}]},
        "generationConfig": {"maxOutputTokens": 256, "temperature": 0.3, "responseMimeType": "application/json"},
    }


def test_optional_fields_are_left_out() -> None:
    body = GeminiClient.build_body(req())
    assert "systemInstruction" not in body
    assert body["generationConfig"] == {"maxOutputTokens": 256}


def test_models_prefix_is_accepted_and_bad_model_ids_are_refused_before_any_call() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json=OK)

    client_with(handler).generate(req(), "models/gemini-3.1-pro-preview")
    assert seen == ["/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent"]
    for bad in ("../admin", "gemini?key=x", "a/b", ""):
        with pytest.raises(InvalidRequestError):
            client_with(handler).generate(req(), bad)
    assert len(seen) == 1


def test_base_url_from_the_secret_is_used() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=OK)

    creds = GeminiCredentials(api_key=SecretStr(API_KEY), base_url="http://127.0.0.1:4010/gemini/")
    http = httpx.Client(transport=httpx.MockTransport(handler))
    GeminiClient(creds, http=http).generate(req(), MODEL)
    assert seen == ["http://127.0.0.1:4010/gemini/v1beta/models/gemini-3.8-flash:streamGenerateContent?alt=sse"]


# ----- response parsing -----------------------------------------------------------------


def test_completion_text_usage_and_ids() -> None:
    completion = client_with(lambda r: httpx.Response(200, json=OK)).generate(req(), MODEL)
    assert completion.text == "Olá! Como posso ajudar?"
    assert completion.provider == "gemini"
    assert completion.model == MODEL
    assert completion.finish_reason == "stop"
    assert completion.usage.input_tokens == 12
    # Thinking tokens are billed as output tokens.
    assert completion.usage.output_tokens == 7 + 30
    assert completion.provider_request_id == "resp-abc123"


def test_thought_parts_are_not_part_of_the_answer() -> None:
    payload = json.loads(json.dumps(OK))
    payload["candidates"][0]["content"]["parts"] = [{"text": "pensando...", "thought": True}, {"text": "Resposta"}]
    completion = client_with(lambda r: httpx.Response(200, json=payload)).generate(req(), MODEL)
    assert completion.text == "Resposta"


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("SPII", "content_filter"),
        ("LANGUAGE", "other"),
        ("MALFORMED_FUNCTION_CALL", "other"),
        ("FINISH_REASON_UNSPECIFIED", "other"),
        (None, "other"),
    ],
)
def test_finish_reasons_are_normalised(raw: str | None, normalised: str) -> None:
    assert normalise_finish_reason(raw) == normalised
    payload = json.loads(json.dumps(OK))
    payload["candidates"][0]["finishReason"] = raw
    completion = client_with(lambda r: httpx.Response(200, json=payload)).generate(req(), MODEL)
    assert completion.finish_reason == normalised


def test_max_tokens_with_partial_text_is_a_length_completion() -> None:
    payload = json.loads(json.dumps(OK))
    payload["candidates"][0]["finishReason"] = "MAX_TOKENS"
    completion = client_with(lambda r: httpx.Response(200, json=payload)).generate(req(), MODEL)
    assert completion.finish_reason == "length"
    assert completion.text


def test_blocked_prompt_is_http_200_without_candidates() -> None:
    blocked = {
        "promptFeedback": {
            "blockReason": "SAFETY",
            "safetyRatings": [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH", "blocked": True}],
        },
        "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9},
        "modelVersion": MODEL,
        "responseId": "resp-blocked",
    }
    with pytest.raises(InvalidRequestError) as info:
        client_with(lambda r: httpx.Response(200, json=blocked)).generate(req(), MODEL)
    assert info.value.code == "safety_blocked"
    assert "SAFETY" in info.value.message
    assert info.value.details == {"block_reason": "SAFETY"}
    assert info.value.request_id == "resp-blocked"
    assert info.value.retryable is False


@pytest.mark.parametrize("reason", ["SAFETY", "PROHIBITED_CONTENT", "SPII"])
def test_candidate_withheld_by_a_filter_without_text_is_safety_blocked(reason: str) -> None:
    payload = {"candidates": [{"finishReason": reason, "index": 0}], "usageMetadata": {"promptTokenCount": 5}}
    with pytest.raises(InvalidRequestError) as info:
        client_with(lambda r: httpx.Response(200, json=payload)).generate(req(), MODEL)
    assert info.value.code == "safety_blocked"
    assert reason in info.value.message


# ----- errors ---------------------------------------------------------------------------

API_KEY_INVALID = google_error(
    400,
    "INVALID_ARGUMENT",
    "API key not valid. Please pass a valid API key.",
    [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"},
        },
        {
            "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
            "locale": "en-US",
            "message": "API key not valid. Please pass a valid API key.",
        },
    ],
)

RATE_LIMITED = google_error(
    429,
    "RESOURCE_EXHAUSTED",
    "You exceeded your current quota, please check your plan and billing details. Please retry in 37.2s.",
    [
        {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [
                {
                    "quotaMetric": "generativelanguage.googleapis.com/generate_content_paid_tier_requests",
                    "quotaId": "GenerateRequestsPerMinutePerProjectPerModel",
                }
            ],
        },
        {"@type": "type.googleapis.com/google.rpc.Help", "links": [{"url": "https://ai.google.dev/gemini-api/docs"}]},
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"},
    ],
)


def test_invalid_api_key_is_400_but_an_authentication_error() -> None:
    with pytest.raises(AuthenticationError) as info:
        client_with(lambda r: httpx.Response(400, json=API_KEY_INVALID)).generate(req(), MODEL)
    assert info.value.http_status == 400
    assert info.value.code == "API_KEY_INVALID"
    assert API_KEY not in info.value.message


def test_other_400s_stay_invalid_requests() -> None:
    body = google_error(400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified\n")
    with pytest.raises(InvalidRequestError) as info:
        client_with(lambda r: httpx.Response(400, json=body)).generate(req(), MODEL)
    assert info.value.code == "INVALID_ARGUMENT"


def test_429_retry_hint_comes_from_the_body() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(429, json=RATE_LIMITED)  # Gemini sends no Retry-After header

    sleeps: list[float] = []
    with pytest.raises(RateLimitedError) as info:
        client_with(handler, sleeps=sleeps).generate(req(), MODEL)
    assert info.value.retry_after == 37
    assert info.value.code == "RESOURCE_EXHAUSTED"
    # 37 s is past the in-Lambda sleep budget: no sleeping, the caller waits (SQS/Step Functions).
    assert calls == [1] and sleeps == []


def test_429_fractional_retry_delay_and_header_fallback() -> None:
    body = json.loads(json.dumps(RATE_LIMITED))
    body["error"]["details"][-1]["retryDelay"] = "0.5s"
    sleeps: list[float] = []
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(429, json=body) if len(calls) == 1 else httpx.Response(200, json=OK)

    client_with(handler, sleeps=sleeps).generate(req(), MODEL)
    assert sleeps == [0.5] and len(calls) == 2

    no_hint = google_error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).")
    with pytest.raises(RateLimitedError) as info:
        client_with(lambda r: httpx.Response(429, json=no_hint, headers={"Retry-After": "12"})).generate(req(), MODEL)
    assert info.value.retry_after == 12


@pytest.mark.parametrize(
    ("status", "grpc_status", "error"),
    [
        (401, "UNAUTHENTICATED", AuthenticationError),
        (403, "PERMISSION_DENIED", AuthenticationError),
        (404, "NOT_FOUND", InvalidRequestError),
        (500, "INTERNAL", ProviderUnavailableError),
        (503, "UNAVAILABLE", ProviderUnavailableError),
        (504, "DEADLINE_EXCEEDED", ProviderUnavailableError),
    ],
)
def test_status_codes_map_to_the_taxonomy(status: int, grpc_status: str, error: type[Exception]) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(status, json=google_error(status, grpc_status, "nope"))

    with pytest.raises(error) as info:
        client_with(handler).generate(req(), MODEL)
    assert isinstance(info.value, AuthenticationError | InvalidRequestError | ProviderUnavailableError)
    assert info.value.http_status == status
    assert info.value.code == grpc_status
    assert "nope" in info.value.message
    assert len(calls) == (2 if status >= 500 else 1)  # only 5xx are retried, once (hub.retry)


def test_404_for_a_retired_model_names_the_model_but_is_not_retried() -> None:
    body = google_error(
        404,
        "NOT_FOUND",
        "models/gemini-1.5-pro is not found for API version v1beta, or is not supported for generateContent.",
    )
    with pytest.raises(InvalidRequestError, match=r"gemini-1\.5-pro"):
        client_with(lambda r: httpx.Response(404, json=body)).generate(req(), "gemini-1.5-pro")


def test_read_timeouts_are_unavailable_without_a_second_wait() -> None:
    seen, handler = timing_out()

    with pytest.raises(ProviderUnavailableError, match="timed out"):
        client_with(handler).generate(req(), MODEL)
    assert len(seen) == 1  # read timeouts are not retried in the function (see hub.retry)


def test_non_json_error_bodies_are_still_classified() -> None:
    with pytest.raises(ProviderUnavailableError):
        client_with(lambda r: httpx.Response(502, text="<html>Bad Gateway</html>")).generate(req(), MODEL)


def test_list_wrapped_error_body_is_understood() -> None:
    with pytest.raises(AuthenticationError):
        client_with(lambda r: httpx.Response(400, json=[API_KEY_INVALID])).generate(req(), MODEL)


# ----- health, credentials, registry ------------------------------------------------------


def test_health_check_lists_one_model_with_the_key_header() -> None:
    seen, handler = recording(httpx.Response(200, json={"models": [{"name": f"models/{MODEL}"}], "nextPageToken": "x"}))

    client_with(handler).health_check()
    [request] = seen
    assert request.method == "GET"
    assert request.url.path == "/v1beta/models"
    assert dict(request.url.params) == {"pageSize": "1"}
    assert request.headers["x-goog-api-key"] == API_KEY
    with pytest.raises(AuthenticationError):
        client_with(lambda r: httpx.Response(400, json=API_KEY_INVALID)).health_check()


def test_credentials_require_an_api_key_and_are_registered() -> None:
    with pytest.raises(ConfigurationError) as info:
        GeminiClient.parse_credentials({"base_url": "https://x"})
    assert "api_key" in info.value.message
    creds = GeminiClient.parse_credentials({"api_key": "k"})
    assert isinstance(creds, GeminiCredentials)
    assert ADAPTERS["gemini"] is GeminiClient
