"""Google Gemini API (Generative Language API, ``v1beta``): text generation.

The provider's API facts this module relies on, with their doc links: README.md.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

import httpx
from pydantic import Field, SecretStr

from hub.ai.models import ChatMessage, Completion, LlmRequest, TokenUsage
from hub.config import get_settings
from hub.errors import AuthenticationError, HubError, InvalidRequestError, RateLimitedError
from hub.observability import logger
from hub.providers.base.client import ProviderClient, ProviderCredentials, Stream, parse_retry_after

API_VERSION = "v1beta"
# Model ids are path segments: letters, digits, dots and dashes only (no "/", "?", ":").
_MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9.\-]{0,127}$")
# google.protobuf.Duration in JSON: decimal seconds with an "s" suffix, e.g. "37s" or "45.8379s".
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")

ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo"
RETRY_INFO_TYPE = "type.googleapis.com/google.rpc.RetryInfo"

# Candidate.FinishReason -> our normalised finish_reason (https://ai.google.dev/api/generate-content#FinishReason).
FINISH_REASONS: dict[str, str] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
}
# Finish reasons that mean "the answer was withheld by a filter".
_FILTERED = frozenset(reason for reason, normalised in FINISH_REASONS.items() if normalised == "content_filter")


class GeminiCredentials(ProviderCredentials):
    api_key: SecretStr = Field(min_length=1)


def _google_error(response: httpx.Response) -> dict[str, Any]:
    """The ``error`` object of a Google API error body (``{"error": {...}}``), or {}.

    Some Google front ends wrap it in a one-element list; both shapes are accepted."""
    try:
        body = response.json()
    except ValueError:
        return {}
    if isinstance(body, list) and body:
        body = body[0]
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _details(error: dict[str, Any], type_url: str) -> list[dict[str, Any]]:
    details = error.get("details")
    if not isinstance(details, list):
        return []
    return [d for d in details if isinstance(d, dict) and d.get("@type") == type_url]


def error_reason(error: dict[str, Any]) -> str | None:
    """``google.rpc.ErrorInfo.reason`` (e.g. ``API_KEY_INVALID``), when the body carries one."""
    for info in _details(error, ERROR_INFO_TYPE):
        reason = info.get("reason")
        if isinstance(reason, str) and reason:
            return reason
    return None


def retry_delay_seconds(error: dict[str, Any]) -> float | None:
    """``google.rpc.RetryInfo.retryDelay`` in seconds ("37s" -> 37.0), when present.

    Gemini sends no Retry-After header on 429: the hint lives only in the body."""
    for info in _details(error, RETRY_INFO_TYPE):
        delay = info.get("retryDelay")
        if isinstance(delay, str):
            match = _DURATION.match(delay)
            if match:
                return float(match.group(1))
        if isinstance(delay, dict):  # the proto form {"seconds": "37", "nanos": 0}, just in case
            try:
                return float(delay.get("seconds", 0)) + float(delay.get("nanos", 0)) / 1e9
            except (TypeError, ValueError):
                return None
    return None


def normalise_finish_reason(reason: str | None) -> str:
    return FINISH_REASONS.get(reason or "", "other")


class GeminiClient(ProviderClient):
    provider: ClassVar[str] = "gemini"
    credentials_model: ClassVar[type[ProviderCredentials]] = GeminiCredentials
    # The Gemini API has no idempotency header. A retried generateContent after a timeout
    # may be billed twice; 5xx answers are not billed (only successful generations are).
    idempotency_header: ClassVar[str | None] = None

    credentials: GeminiCredentials

    def auth_headers(self) -> dict[str, str]:
        # https://ai.google.dev/api ("Authentication"): x-goog-api-key header.
        return {"x-goog-api-key": self.credentials.api_key.get_secret_value()}

    # ----- errors ---------------------------------------------------------------------

    def error_details(self, response: httpx.Response) -> tuple[str, str | None]:
        # {"error": {"code": 400, "message": "...", "status": "INVALID_ARGUMENT", "details": [...]}}
        # https://ai.google.dev/gemini-api/docs/troubleshooting
        error = _google_error(response)
        if not error:
            return super().error_details(response)
        message = str(error.get("message") or response.reason_phrase)[:300]
        status = error.get("status")
        return (message, error_reason(error) or (str(status) if status else None))

    def classify(self, response: httpx.Response) -> HubError | None:
        error = super().classify(response)
        if error is None:
            return None
        google = _google_error(response)
        # Quirk: a wrong or expired API key answers 400 INVALID_ARGUMENT (not 401) with
        # ErrorInfo.reason API_KEY_INVALID.
        if response.status_code == 400 and error_reason(google) == "API_KEY_INVALID":
            return error.recast(AuthenticationError)
        # Quirk: 429 RESOURCE_EXHAUSTED carries its retry hint in the body (RetryInfo), no header.
        if response.status_code == 429:
            delay = retry_delay_seconds(google)
            if delay is None:
                delay = parse_retry_after(response.headers.get("retry-after"))
            return error.recast(RateLimitedError, retry_after=delay)
        return error

    # ----- operations -------------------------------------------------------------------

    @staticmethod
    def build_body(request: LlmRequest) -> dict[str, Any]:
        """The GenerateContentRequest for an LlmRequest (https://ai.google.dev/api/generate-content)."""
        body: dict[str, Any] = {"contents": [_content(m) for m in request.messages]}
        if request.system:
            body["systemInstruction"] = {"parts": [{"text": request.system}]}
        config: dict[str, Any] = {"maxOutputTokens": request.max_tokens}
        if request.temperature is not None:
            # Gemini 3.6+ documents temperature as deprecated and ignored; older models honour it.
            config["temperature"] = request.temperature
        if request.json_output:
            config["responseMimeType"] = "application/json"
        body["generationConfig"] = config
        return body

    def generate(self, request: LlmRequest, model: str) -> Completion:
        """POST /v1beta/models/{model}:streamGenerateContent?alt=sse: the same request as
        generateContent (https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent),
        streamed so a hung API is told from a long generation within seconds (hub.providers.base
        stream_request); the chunks are merged into the one GenerateContentResponse the
        non-streamed call returns, so callers see no difference."""
        model_id = _model_id(model)
        settings = get_settings()
        return self.stream_request(
            "POST",
            f"/{API_VERSION}/models/{model_id}:streamGenerateContent",
            lambda stream: self._completion(self._response_of(stream), model_id, stream.request_id),
            json=self.build_body(request),
            params={"alt": "sse"},
            first_byte_timeout=settings.llm_first_byte_timeout,
            idle_timeout=settings.ai_stream_idle_timeout,
            operation="generate",
        )

    def _response_of(self, stream: Stream) -> dict[str, Any]:
        """One GenerateContentResponse from the streamed ones (each SSE ``data`` is a whole
        GenerateContentResponse holding the next parts): the first candidate's parts in order, its
        last finishReason, the last usageMetadata (cumulative), promptFeedback, responseId and
        modelVersion. The stream has no end marker: it is complete when the connection closes
        after a chunk with a finishReason (or a blocked prompt's promptFeedback). An ``error``
        object is classified like the HTTP error of its ``code``."""
        if not stream.is_event_stream:
            return stream.json_object()  # a proxy that ignored alt=sse
        merged: dict[str, Any] = {}
        parts: list[Any] = []
        finish: Any = None
        candidate_seen = False
        for event in stream.events():
            try:
                chunk = json.loads(event.data)
            except ValueError:
                continue
            if isinstance(chunk, list) and chunk:  # some Google front ends wrap it in a list
                chunk = chunk[0]
            if not isinstance(chunk, dict):
                continue
            error = chunk.get("error")
            if isinstance(error, dict):
                status = error.get("code")
                raise stream.error_event(status if isinstance(status, int) and status >= 400 else 500, chunk)
            for key in ("usageMetadata", "promptFeedback", "responseId", "modelVersion"):
                if chunk.get(key) is not None:
                    merged[key] = chunk[key]
            candidates = chunk.get("candidates")
            if isinstance(candidates, list) and candidates and isinstance(candidates[0], dict):
                candidate_seen = True
                content = candidates[0].get("content")
                more = content.get("parts") if isinstance(content, dict) else None
                parts.extend(more if isinstance(more, list) else [])
                finish = candidates[0].get("finishReason") or finish
        if finish is None and not (merged.get("promptFeedback") or {}).get("blockReason"):
            raise stream.interrupted("a finishReason")
        if candidate_seen:
            merged["candidates"] = [{"content": {"parts": parts, "role": "model"}, "finishReason": finish}]
        return merged

    def _safety_blocked(self, what: str, request_id: str | None, details: dict[str, Any]) -> InvalidRequestError:
        """An answer of HTTP 200 that safety filters emptied: the caller's request is refused."""
        return InvalidRequestError(
            f"{self.provider} {what}",
            provider=self.provider,
            http_status=200,
            code="safety_blocked",
            request_id=request_id,
            details=details,
        )

    def _completion(self, payload: dict[str, Any], model: str, header_request_id: str | None) -> Completion:
        request_id = payload.get("responseId") or header_request_id
        candidates = payload.get("candidates") or []
        if not candidates:
            # Quirk: a blocked prompt is HTTP 200 with no candidates and promptFeedback.blockReason.
            block_reason = (payload.get("promptFeedback") or {}).get("blockReason") or "UNSPECIFIED"
            raise self._safety_blocked(
                f"blocked the prompt (blockReason={block_reason})", request_id, {"block_reason": block_reason}
            )
        candidate = candidates[0] if isinstance(candidates[0], dict) else {}
        raw_reason = candidate.get("finishReason")
        parts = (candidate.get("content") or {}).get("parts") or []
        # Thought summaries (part.thought = true) are not the answer.
        text = "".join(
            str(p["text"])
            for p in parts
            if isinstance(p, dict) and isinstance(p.get("text"), str) and not p.get("thought")
        )
        if not text and raw_reason in _FILTERED:
            # The answer itself was withheld: the same outcome as a blocked prompt for callers.
            raise self._safety_blocked(
                f"withheld the answer (finishReason={raw_reason})", request_id, {"finish_reason": raw_reason}
            )
        usage = payload.get("usageMetadata") or {}
        served = payload.get("modelVersion")
        logger.info(
            "gemini_completion",
            extra={
                "provider": self.provider,
                "model": model,
                "model_version": served,
                "provider_request_id": request_id,
                "finish_reason": raw_reason,
                "output_chars": len(text),
            },
        )
        return Completion(
            text=text,
            provider=self.provider,
            model=model,
            finish_reason=normalise_finish_reason(raw_reason),
            usage=TokenUsage(
                input_tokens=int(usage.get("promptTokenCount") or 0),
                # Thinking tokens are billed as output ("output price, including thinking tokens",
                # https://ai.google.dev/gemini-api/docs/pricing), so they count as output here.
                output_tokens=int(usage.get("candidatesTokenCount") or 0) + int(usage.get("thoughtsTokenCount") or 0),
            ),
            provider_request_id=request_id,
        )

    def health_check(self) -> None:
        """GET /v1beta/models?pageSize=1: authenticated, free, tiny (https://ai.google.dev/api/models)."""
        self.request(
            "GET",
            f"/{API_VERSION}/models",
            params={"pageSize": 1},
            timeout=get_settings().health_check_timeout,
        )


def _content(message: ChatMessage) -> dict[str, Any]:
    # Gemini roles are "user" and "model" (https://ai.google.dev/api/caching#Content).
    role = "model" if message.role == "assistant" else "user"
    return {"role": role, "parts": [{"text": message.content}]}


def _model_id(model: str) -> str:
    model_id = model.removeprefix("models/")
    if not _MODEL_ID.match(model_id):
        raise InvalidRequestError(f"invalid gemini model id {model!r}", provider="gemini", code="invalid_model")
    return model_id
