"""OpenAI: Chat Completions, GPT Image generation and embeddings behind the hub's AI shapes.

The provider's API facts this module relies on, with their doc links: README.md.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr

from hub.ai.catalog import accepts_sampling
from hub.ai.models import Completion, Embeddings, GeneratedImage, ImageJob, ImageSize, LlmRequest, TokenUsage
from hub.config import get_settings
from hub.errors import HubError, InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.providers.base.client import ProviderClient, ProviderCredentials, Stream

# A streamed image arrives as one event when it is done (no partial images are asked for: each
# costs 100 extra output tokens), so the gap after the headers is the whole generation: the
# 120 s the non-streamed call waited, never less (bounded by the Lambda's time left).
IMAGE_IDLE_SECONDS = 120.0
# Embeddings are not streamed: their read timeout grows with what is sent (hub.config).
EMBED_MAX_TIMEOUT_SECONDS = 30.0
EMBED_CHARS_PER_SECOND = 100_000
DEFAULT_EMBEDDING_MODEL = "text-embedding-3-small"
# https://developers.openai.com/api/reference/resources/embeddings/methods/create (input array limit)
MAX_EMBEDDING_INPUTS = 2048

# Billing errors ("You exceeded your current quota"): a 429 whose type is insufficient_quota,
# with the cause in code. https://help.openai.com/en/articles/6614457
BILLING_CODES = frozenset(
    {
        "insufficient_quota",
        "credit_balance_exhausted",
        "organization_spend_limit_exceeded",
        "project_spend_limit_exceeded",
        "organization_usage_limit_exceeded",
    }
)
# Decision: a billing 429 is a RateLimitedError with a long retry_after, not an
# AuthenticationError. The key is valid (rotating it would not help) and the condition does
# clear -- credits are added, a spend limit raised, or the monthly period resets -- but not in
# seconds, and OpenAI says retrying right away never helps. One hour means: no retry inside this
# invocation (the retry policy never sleeps that long), the message goes back to SQS/Step
# Functions for a later attempt instead of a dead-letter queue, routing may fall back to another
# provider, and ``code`` (e.g. credit_balance_exhausted) tells alarms it needs a human.
BILLING_RETRY_AFTER_SECONDS = 3600.0

JSON_INSTRUCTION = "Respond with exactly one JSON object."

# https://developers.openai.com/api/reference/resources/chat/subresources/completions/methods/create
FINISH_REASONS = {
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
}

IMAGE_MIME_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


class OpenAICredentials(ProviderCredentials):
    api_key: SecretStr
    organization: str | None = None
    project: str | None = None


class OpenAIClient(ProviderClient):
    provider: ClassVar[str] = "openai"
    credentials_model: ClassVar[type[ProviderCredentials]] = OpenAICredentials
    # No idempotency key is documented for these endpoints; callers dedupe with
    # LlmRequest.idempotency_key before calling.
    idempotency_header: ClassVar[str | None] = None
    # x-should-retry, retry-after-ms, 408/409 retryable, as the official SDK's _should_retry /
    # _parse_retry_after_header (openai/openai-python src/openai/_base_client.py).
    retry_advice: ClassVar[bool] = True

    credentials: OpenAICredentials

    # https://developers.openai.com/api/reference/overview#authentication
    def auth_headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.credentials.api_key.get_secret_value()}"}
        if self.credentials.organization:
            headers["OpenAI-Organization"] = self.credentials.organization
        if self.credentials.project:
            headers["OpenAI-Project"] = self.credentials.project
        return headers

    # https://developers.openai.com/api/docs/guides/error-codes
    def error_details(self, response: httpx.Response) -> tuple[str, str | None]:
        message, kind, code = _error_fields(response)
        if message is None:
            return super().error_details(response)
        return (message[:300], code or kind)

    def classify(self, response: httpx.Response) -> HubError | None:
        # context_length_exceeded (400) -> InvalidRequestError, invalid_api_key (401) and
        # unsupported_country_region_territory (403) -> AuthenticationError, 429 -> RateLimitedError
        # with Retry-After, 5xx -> ProviderUnavailableError: the base mapping.
        error = super().classify(response)
        if error is None:
            return None
        _, kind, code = _error_fields(response)
        if response.status_code == 429 and (kind in BILLING_CODES or code in BILLING_CODES):
            return error.recast(
                RateLimitedError, retry_after=BILLING_RETRY_AFTER_SECONDS, code=code or kind or "insufficient_quota"
            )
        if code == "slow_down":
            # "A sudden increase in your request rate": our pace, not their outage.
            return error.recast(RateLimitedError, retry_after=self.retry_after_of(response), code=code)
        return error

    # https://developers.openai.com/api/reference/resources/chat/subresources/completions/methods/create
    def generate(self, request: LlmRequest, model: str) -> Completion:
        """POST /chat/completions: instructions as a developer message, JSON mode on request."""
        messages: list[dict[str, str]] = []
        instructions = "\n\n".join(p for p in (request.system, JSON_INSTRUCTION if request.json_output else None) if p)
        if instructions:
            messages.append({"role": "developer", "content": instructions})
        messages.extend({"role": m.role, "content": m.content} for m in request.messages)
        body: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "max_completion_tokens": request.max_tokens,
            "store": False,
        }
        if request.json_output:
            body["response_format"] = {"type": "json_object"}
        if request.temperature is not None and accepts_sampling(model):
            body["temperature"] = request.temperature
        settings = get_settings()
        # Streamed, so a hung API is told from a long generation within seconds (hub.providers.base
        # stream_request); include_usage adds the usage chunk before [DONE]. The chunks are
        # assembled into the chat.completion the non-streamed call returns, so callers see no
        # difference. https://platform.openai.com/docs/api-reference/chat-streaming
        return self.stream_request(
            "POST",
            "/chat/completions",
            lambda stream: self._completion(self._chat_completion_of(stream), model, stream.request_id),
            json={**body, "stream": True, "stream_options": {"include_usage": True}},
            first_byte_timeout=settings.llm_first_byte_timeout,
            idle_timeout=settings.ai_stream_idle_timeout,
            operation="generate",
        )

    def _chat_completion_of(self, stream: Stream) -> dict[str, Any]:
        """The chat.completion a stream of chat.completion.chunk objects adds up to: the first
        choice's ``delta.content`` and ``delta.refusal`` concatenated, its last
        ``finish_reason``, and ``usage`` from the final chunk (empty ``choices``) that
        ``stream_options.include_usage`` adds before ``data: [DONE]``. An ``error`` object in a
        chunk is classified like the HTTP error it describes; a stream without ``[DONE]`` was
        cut short. https://platform.openai.com/docs/api-reference/chat-streaming/streaming"""
        if not stream.is_event_stream:
            return stream.json_object()  # a proxy that ignored stream: true
        content: list[str] = []
        refusal: list[str] = []
        finish_reason: Any = None
        model: Any = None
        usage: Any = None
        for event in stream.events():
            if event.data.strip() == "[DONE]":
                message = {"content": "".join(content) or None, "refusal": "".join(refusal) or None}
                return {
                    "model": model,
                    "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
                    "usage": usage,
                }
            chunk = _json_object(event.data)
            if isinstance(chunk.get("error"), dict):
                raise stream.error_event(_error_status(chunk["error"]), chunk)
            model = chunk.get("model") or model
            usage = chunk.get("usage") or usage
            for choice in chunk.get("choices") or []:
                if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                    continue
                delta: dict[str, Any] = choice["delta"] if isinstance(choice.get("delta"), dict) else {}
                if isinstance(delta.get("content"), str):
                    content.append(delta["content"])
                if isinstance(delta.get("refusal"), str):
                    refusal.append(delta["refusal"])
                finish_reason = choice.get("finish_reason") or finish_reason
        raise stream.interrupted("data: [DONE]")

    def _completion(self, payload: dict[str, Any], model: str, request_id: str | None) -> Completion:
        choices = payload.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise self._unexpected_answer(request_id, "a choices list")
        choice = choices[0]
        message = choice.get("message") or {}
        finish_reason = FINISH_REASONS.get(str(choice.get("finish_reason")), "other")
        if message.get("refusal"):
            # A refusal arrives as finish_reason "stop" with message.refusal set and no content.
            text, finish_reason = "", "content_filter"
        else:
            text = str(message.get("content") or "")
        usage = payload.get("usage") or {}
        return Completion(
            text=text,
            provider=self.provider,
            model=str(payload.get("model") or model),
            finish_reason=finish_reason,
            usage=TokenUsage(
                input_tokens=int(usage.get("prompt_tokens") or 0),
                # Includes reasoning tokens, which are billed as output.
                output_tokens=int(usage.get("completion_tokens") or 0),
            ),
            provider_request_id=request_id,
        )

    # https://developers.openai.com/api/docs/guides/image-generation
    def generate_image(
        self, prompt: str, model: str, size: str = "1024x1024", *, quality: str = "medium"
    ) -> GeneratedImage:
        """POST /images/generations for GPT Image models: base64 in data[0].b64_json, decoded.

        ``quality`` is sent explicitly (the API default "auto" makes the cost unpredictable);
        no ``response_format`` (GPT Image models reject it), no ``output_format`` (png)."""
        body: dict[str, Any] = {"model": model, "prompt": prompt, "n": 1, "size": size, "quality": quality}
        # Streamed without partial images (each costs extra output tokens): the answer's headers
        # come at once, so a hung API is detected within the first-byte time; the image itself
        # is one image_generation.completed event.
        # https://platform.openai.com/docs/api-reference/images-streaming
        return self.stream_request(
            "POST",
            "/images/generations",
            lambda stream: self._image(self._images_response_of(stream), model, stream.request_id),
            json={**body, "stream": True, "partial_images": 0},
            first_byte_timeout=get_settings().image_first_byte_timeout,
            idle_timeout=IMAGE_IDLE_SECONDS,
            operation="image",
        )

    def _images_response_of(self, stream: Stream) -> dict[str, Any]:
        """The images response a stream adds up to: the ``image_generation.completed`` event
        carries ``b64_json``, ``output_format`` and ``usage`` (``image_generation.partial_image``
        previews are skipped). An ``error`` is classified like the HTTP error it describes."""
        if not stream.is_event_stream:
            return stream.json_object()  # a proxy that ignored stream: true
        for event in stream.events():
            data = _json_object(event.data)
            if isinstance(data.get("error"), dict):
                raise stream.error_event(_error_status(data["error"]), data)
            if (data.get("type") or event.event) == "image_generation.completed":
                return {
                    "data": [{"b64_json": data.get("b64_json")}],
                    "output_format": data.get("output_format"),
                    "usage": data.get("usage"),
                }
        raise stream.interrupted("image_generation.completed")

    def _image(self, payload: dict[str, Any], model: str, request_id: str | None) -> GeneratedImage:
        data = payload.get("data")
        first = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
        encoded = first.get("b64_json")
        if not isinstance(encoded, str) or not encoded:
            raise self._unexpected_answer(request_id, "data[0].b64_json")
        try:
            image = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise self._unexpected_answer(request_id, "valid base64 in data[0].b64_json") from None
        output_format = str(payload.get("output_format") or "png").lower()
        usage = payload.get("usage")
        return GeneratedImage(
            provider=self.provider,
            model=model,
            mime_type=IMAGE_MIME_TYPES.get(output_format, "image/png"),
            data=image,
            usage=TokenUsage(
                input_tokens=int(usage.get("input_tokens") or 0),
                output_tokens=int(usage.get("output_tokens") or 0),
            )
            if isinstance(usage, dict)
            else None,
        )

    def create_image(self, prompt: str, model: str, *, size: ImageSize) -> GeneratedImage | ImageJob:
        """The ImageGenerator port: GPT Image answers synchronously (never a job)."""
        return self.generate_image(prompt, model, size)

    def poll_image(self, job_id: str, *, model: str) -> GeneratedImage | ImageJob:
        raise InvalidRequestError(
            "openai images are answered at once: there is no job to poll", provider=self.provider, code="no_job"
        )

    # https://developers.openai.com/api/reference/resources/embeddings/methods/create
    def embed(self, texts: list[str], model: str = DEFAULT_EMBEDDING_MODEL) -> Embeddings:
        """POST /embeddings with the whole batch; vectors returned in the order of ``texts``."""
        if not texts or len(texts) > MAX_EMBEDDING_INPUTS:
            raise InvalidRequestError(
                f"embed takes 1 to {MAX_EMBEDDING_INPUTS} texts, got {len(texts)}", provider=self.provider
            )
        if any(not t for t in texts):
            raise InvalidRequestError("embed cannot embed an empty string", provider=self.provider)
        body = {"model": model, "input": texts, "encoding_format": "float"}
        # Not streamed: a read timeout sized to the batch detects a hung API in seconds without
        # cutting a large batch (hub.config embeddings_read_timeout).
        timeout = min(
            EMBED_MAX_TIMEOUT_SECONDS,
            get_settings().embeddings_read_timeout + sum(map(len, texts)) / EMBED_CHARS_PER_SECOND,
        )
        response = self.request("POST", "/embeddings", json=body, timeout=timeout, operation="embed")
        payload = response.json()
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list) or len(data) != len(texts) or not all(isinstance(i, dict) for i in data):
            raise self._unexpected(response, f"{len(texts)} embeddings")
        # Each item carries the index of its input; order by it rather than trusting list order.
        items = sorted(data, key=lambda item: int(item.get("index", 0)))
        vectors = [[float(x) for x in item.get("embedding") or []] for item in items]
        if [int(item.get("index", -1)) for item in items] != list(range(len(texts))) or not vectors[0]:
            raise self._unexpected(response, "one embedding per input index")
        usage = payload.get("usage") or {}
        return Embeddings(
            provider=self.provider,
            model=str(payload.get("model") or model),
            vectors=vectors,
            dimensions=len(vectors[0]),
            usage=TokenUsage(input_tokens=int(usage.get("prompt_tokens") or 0), output_tokens=0),
        )

    # https://developers.openai.com/api/reference/resources/models/methods/list
    def health_check(self) -> None:
        """GET /models: authenticated and free (no tokens); proves key, org and project."""
        self.request("GET", "/models", timeout=get_settings().health_check_timeout)

    def _unexpected_answer(self, request_id: str | None, wanted: str) -> ProviderUnavailableError:
        return ProviderUnavailableError(
            f"openai answered 200 without {wanted}", provider=self.provider, http_status=200, request_id=request_id
        )

    def _unexpected(self, response: httpx.Response, wanted: str) -> ProviderUnavailableError:
        return ProviderUnavailableError(
            f"openai answered {response.status_code} without {wanted}",
            provider=self.provider,
            http_status=response.status_code,
            request_id=self.request_id_of(response),
        )


def _error_fields(response: httpx.Response) -> tuple[str | None, str | None, str | None]:
    """(message, type, code) of an OpenAI error body, or Nones when it is not one."""
    try:
        body = response.json()
    except ValueError:
        return (None, None, None)
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return (None, None, None)
    kind, code = error.get("type"), error.get("code")
    return (
        str(error.get("message") or response.reason_phrase),
        str(kind) if kind else None,
        str(code) if code else None,
    )


def _json_object(data: str) -> dict[str, Any]:
    try:
        parsed = json.loads(data)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _error_status(error: dict[str, Any]) -> int:
    """The HTTP status an error object sent inside a stream stands for (the error codes guide,
    https://platform.openai.com/docs/guides/error-codes): quota and rate limits 429, invalid
    requests 400, anything else the server's failure (500)."""
    kind, code = str(error.get("type") or ""), str(error.get("code") or "")
    if kind in BILLING_CODES or code in BILLING_CODES or "rate_limit" in kind or "rate_limit" in code:
        return 429
    if kind == "invalid_request_error":
        return 400
    return 500
