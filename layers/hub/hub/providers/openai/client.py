"""OpenAI: Chat Completions, GPT Image generation and embeddings behind the hub's AI shapes.

The provider's API facts this module relies on, with their doc links: README.md.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr

from hub.ai.catalog import accepts_sampling
from hub.ai.models import Completion, Embeddings, GeneratedImage, ImageJob, ImageSize, LlmRequest, TokenUsage
from hub.config import get_settings
from hub.errors import HubError, InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.providers.base.client import ProviderClient, ProviderCredentials

GENERATE_TIMEOUT_SECONDS = 60.0
IMAGE_TIMEOUT_SECONDS = 120.0
EMBED_TIMEOUT_SECONDS = 30.0
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
        response = self.request(
            "POST", "/chat/completions", json=body, timeout=GENERATE_TIMEOUT_SECONDS, operation="generate"
        )
        payload = response.json()
        choices = payload.get("choices") if isinstance(payload, dict) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise self._unexpected(response, "a choices list")
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
            provider_request_id=self.request_id_of(response),
        )

    # https://developers.openai.com/api/docs/guides/image-generation
    def generate_image(
        self, prompt: str, model: str, size: str = "1024x1024", *, quality: str = "medium"
    ) -> GeneratedImage:
        """POST /images/generations for GPT Image models: base64 in data[0].b64_json, decoded.

        ``quality`` is sent explicitly (the API default "auto" makes the cost unpredictable);
        no ``response_format`` (GPT Image models reject it), no ``output_format`` (png)."""
        body: dict[str, Any] = {"model": model, "prompt": prompt, "n": 1, "size": size, "quality": quality}
        response = self.request(
            "POST", "/images/generations", json=body, timeout=IMAGE_TIMEOUT_SECONDS, operation="image"
        )
        payload = response.json()
        data = payload.get("data") if isinstance(payload, dict) else None
        first = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
        encoded = first.get("b64_json")
        if not isinstance(encoded, str) or not encoded:
            raise self._unexpected(response, "data[0].b64_json")
        try:
            image = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise self._unexpected(response, "valid base64 in data[0].b64_json") from None
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
        response = self.request("POST", "/embeddings", json=body, timeout=EMBED_TIMEOUT_SECONDS, operation="embed")
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
