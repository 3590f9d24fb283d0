"""Anthropic Claude: the Messages API behind the hub's one LLM request/response shape.

The provider's API facts this module relies on, with their doc links: README.md.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr

from hub.ai.catalog import accepts_sampling
from hub.ai.models import Completion, LlmRequest, TokenUsage
from hub.config import get_settings
from hub.errors import HubError, ProviderUnavailableError, RateLimitedError
from hub.providers.base.client import ProviderClient, ProviderCredentials, Stream

ANTHROPIC_VERSION = "2023-06-01"
# Anthropic's temperature range is 0..1; LlmRequest allows 0..2 (OpenAI's range).
MAX_TEMPERATURE = 1.0
# A 402 billing_error does not clear in seconds: someone must fix billing. Retryable later
# (SQS/Step Functions, or another provider), never inside this invocation.
BILLING_RETRY_AFTER_SECONDS = 3600.0

# Prefill ("{" as the start of an assistant turn) answers 400 on current models and does not
# combine with thinking, so JSON output is asked for in the system prompt.
# https://platform.claude.com/docs/en/models/haiku-5-5/migration-guide#replace-assistant-prefill
JSON_INSTRUCTION = (
    "Respond with exactly one JSON object and nothing else: no prose before or after it and no Markdown code fences."
)

# The HTTP status of each error type (https://platform.claude.com/docs/en/api/errors): an error
# event inside a stream is classified as that status would be (overloaded_error -> 529 ->
# ProviderUnavailableError, rate_limit_error -> 429 -> RateLimitedError, ...).
ERROR_STATUSES = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}

# https://platform.claude.com/docs/en/build-with-claude/handling-stop-reasons
FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "refusal": "content_filter",
    "tool_use": "tool_use",
}


class AnthropicCredentials(ProviderCredentials):
    api_key: SecretStr


class AnthropicClient(ProviderClient):
    provider: ClassVar[str] = "anthropic"
    credentials_model: ClassVar[type[ProviderCredentials]] = AnthropicCredentials
    # The Messages API documents no idempotency key; callers dedupe with LlmRequest.idempotency_key.
    idempotency_header: ClassVar[str | None] = None
    # x-should-retry, retry-after-ms, 408/409 retryable, as the official SDK's _should_retry /
    # _parse_retry_after_header (anthropics/anthropic-sdk-python src/anthropic/_base_client.py).
    retry_advice: ClassVar[bool] = True

    credentials: AnthropicCredentials

    # https://platform.claude.com/docs/en/api/overview (authentication, versioning)
    def auth_headers(self) -> dict[str, str]:
        return {"x-api-key": self.credentials.api_key.get_secret_value(), "anthropic-version": ANTHROPIC_VERSION}

    # https://platform.claude.com/docs/en/api/errors
    def error_details(self, response: httpx.Response) -> tuple[str, str | None]:
        try:
            body = response.json()
        except ValueError:
            return super().error_details(response)
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            message = str(error.get("message") or response.reason_phrase)
            kind = error.get("type")
            return (message[:300], str(kind) if kind else None)
        return super().error_details(response)

    def classify(self, response: httpx.Response) -> HubError | None:
        # 413 request_too_large -> InvalidRequestError, 429 (retry-after) -> RateLimitedError and
        # 529 overloaded_error / 5xx -> ProviderUnavailableError come from the base mapping.
        error = super().classify(response)
        if error is not None and (response.status_code == 402 or error.code == "billing_error"):
            # 402 billing_error: the key is valid, the account cannot pay. Not an auth problem
            # (rotating keys would not help) and not retryable in seconds.
            return error.recast(
                RateLimitedError, retry_after=BILLING_RETRY_AFTER_SECONDS, code=error.code or "billing_error"
            )
        return error

    # https://platform.claude.com/docs/en/api/messages/create
    def generate(self, request: LlmRequest, model: str) -> Completion:
        """POST /v1/messages: system as the top-level ``system``, text from the ``text`` blocks."""
        body: dict[str, Any] = {
            "model": model,
            "max_tokens": request.max_tokens,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        }
        system = _system_prompt(request)
        if system:
            body["system"] = system
        if request.temperature is not None and accepts_sampling(model):
            body["temperature"] = min(request.temperature, MAX_TEMPERATURE)
        settings = get_settings()
        # Streamed, so a hung API is told from a long generation within seconds (hub.providers.base
        # stream_request); the answer is assembled into the same message object the non-streamed
        # call returns, so callers see no difference.
        # https://platform.claude.com/docs/en/build-with-claude/streaming
        return self.stream_request(
            "POST",
            "/v1/messages",
            lambda stream: self._completion(self._message_of(stream), request, model, stream.request_id),
            json={**body, "stream": True},
            first_byte_timeout=settings.llm_first_byte_timeout,
            idle_timeout=settings.ai_stream_idle_timeout,
            operation="generate",
        )

    def _message_of(self, stream: Stream) -> dict[str, Any]:
        """The ``message`` object a streamed answer adds up to: ``message_start`` carries the
        message with empty content; each block opens with ``content_block_start``, grows by its
        ``content_block_delta`` (text_delta, thinking_delta, signature_delta, input_json_delta)
        and closes with ``content_block_stop``; ``message_delta`` sets stop_reason and the
        cumulative usage; ``message_stop`` ends it. ``ping`` and unknown events are skipped (the
        docs ask clients to tolerate new event types); ``error`` is classified like the HTTP
        error of the same type. https://platform.claude.com/docs/en/build-with-claude/streaming"""
        if not stream.is_event_stream:
            return stream.json_object()  # a proxy that ignored stream: true
        message: dict[str, Any] | None = None
        blocks: dict[int, dict[str, Any]] = {}
        for event in stream.events():
            data = _event_data(event.data)
            kind = data.get("type") or event.event
            if kind == "error":
                error = _object(data.get("error"))
                raise stream.error_event(ERROR_STATUSES.get(str(error.get("type")), 500), data)
            if kind == "message_start" and isinstance(data.get("message"), dict):
                message = dict(data["message"])
                message["usage"] = dict(message.get("usage") or {})
            elif message is None:
                continue  # ping before message_start, or an unknown event
            elif kind == "content_block_start" and isinstance(data.get("content_block"), dict):
                blocks[int(data.get("index", len(blocks)))] = dict(data["content_block"])
            elif kind == "content_block_delta" and isinstance(data.get("delta"), dict):
                _apply_delta(blocks.setdefault(int(data.get("index", 0)), {}), data["delta"])
            elif kind == "message_delta":
                delta = _object(data.get("delta"))
                for key in ("stop_reason", "stop_sequence", "stop_details"):
                    if key in delta:
                        message[key] = delta[key]
                # The usage of message_delta is cumulative: it replaces what message_start said.
                usage = _object(data.get("usage"))
                message["usage"].update({k: v for k, v in usage.items() if v is not None})
            elif kind == "message_stop":
                message["content"] = [blocks[i] for i in sorted(blocks)]
                return message
        raise stream.interrupted("message_stop")

    def _completion(
        self, payload: dict[str, Any], request: LlmRequest, model: str, request_id: str | None
    ) -> Completion:
        content = payload.get("content")
        if not isinstance(content, list):
            raise ProviderUnavailableError(
                "anthropic answered 200 without a content list", provider=self.provider, request_id=request_id
            )
        # Select blocks by type: thinking blocks can precede the text.
        text = "".join(str(b.get("text", "")) for b in content if isinstance(b, dict) and b.get("type") == "text")
        if request.json_output:
            text = strip_code_fences(text)
        usage = payload.get("usage") or {}
        # Cache reads/writes are billed input too; counted in so costs are never under-estimated.
        input_tokens = sum(
            int(usage.get(key) or 0)
            for key in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
        )
        return Completion(
            text=text,
            provider=self.provider,
            model=str(payload.get("model") or model),
            finish_reason=FINISH_REASONS.get(str(payload.get("stop_reason")), "other"),
            usage=TokenUsage(input_tokens=input_tokens, output_tokens=int(usage.get("output_tokens") or 0)),
            provider_request_id=request_id,
        )

    # https://platform.claude.com/docs/en/api/models/list
    def health_check(self) -> None:
        """GET /v1/models?limit=1: authenticated, free, one small object."""
        self.request("GET", "/v1/models", params={"limit": 1}, timeout=get_settings().health_check_timeout)


def _system_prompt(request: LlmRequest) -> str | None:
    parts = [p for p in (request.system, JSON_INSTRUCTION if request.json_output else None) if p]
    return "\n\n".join(parts) or None


def strip_code_fences(text: str) -> str:
    """Drop a Markdown fence (```json ... ```) a model may still wrap JSON in."""
    stripped = text.strip()
    if stripped.startswith("```") and stripped.endswith("```") and len(stripped) >= 6:
        inner = stripped[3:-3]
        first_line, _, rest = inner.partition("\n")
        if first_line.strip().isalpha() or not first_line.strip():
            inner = rest
        return inner.strip()
    return stripped


def _event_data(data: str) -> dict[str, Any]:
    try:
        return _object(json.loads(data))
    except ValueError:
        return {}


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _apply_delta(block: dict[str, Any], delta: dict[str, Any]) -> None:
    """One content_block_delta added to its block (the delta types of the streaming docs)."""
    kind = delta.get("type")
    if kind == "text_delta":
        block["text"] = str(block.get("text") or "") + str(delta.get("text") or "")
    elif kind == "thinking_delta":
        block["thinking"] = str(block.get("thinking") or "") + str(delta.get("thinking") or "")
    elif kind == "signature_delta":
        block["signature"] = str(delta.get("signature") or "")
    elif kind == "input_json_delta":
        block["partial_json"] = str(block.get("partial_json") or "") + str(delta.get("partial_json") or "")
