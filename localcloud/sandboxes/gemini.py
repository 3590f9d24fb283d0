"""Gemini API (Generative Language API v1beta) sandbox, mounted at ``/gemini``.

Shapes follow https://ai.google.dev/api/generate-content, https://ai.google.dev/api/models and
the Google error format (https://ai.google.dev/gemini-api/docs/troubleshooting).

Implemented endpoints (API key in ``x-goog-api-key``, or ``?key=`` which Google also accepts):

* ``POST /v1beta/models/{model}:generateContent`` -> deterministic text (an echo of sizes, never
  of content), realistic ``usageMetadata`` (about 4 characters per token), ``STOP`` or
  ``MAX_TOKENS`` when ``maxOutputTokens`` is too small. ``responseMimeType: application/json``
  answers a JSON object.
* ``GET /v1beta/models[?pageSize=n]`` and ``GET /v1beta/models/{model}``.

Trigger words in any user text:

* ``BLOCKME`` -> 200 with no candidates and ``promptFeedback.blockReason: SAFETY``.
* ``UNSAFEREPLY`` -> 200 with a candidate whose ``finishReason`` is ``SAFETY`` and no content.

Errors are Google's: a missing key is 403 ``PERMISSION_DENIED``, a wrong key 400
``INVALID_ARGUMENT`` with ``ErrorInfo.reason: API_KEY_INVALID``. The shared ``rate_limited``
fault answers 429 ``RESOURCE_EXHAUSTED`` whose ``RetryInfo.retryDelay`` is the fault's
``retry_after``; like Gemini, the response carries no ``Retry-After`` header.

* ``POST /v1beta/models/{model}:streamGenerateContent[?alt=sse]`` -> the same answer in chunks
  (Server-Sent Events with ``alt=sse``, else one JSON array); the shared ``slow`` fault hangs
  before the first byte, ``stall`` sends the headers, then nothing for a while.

Not emulated: tools, multimodal parts, thinking (``thoughtsTokenCount`` is 0),
safety ratings beyond the blocked case.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import DemoSecret, Sandbox, json_response, reason
from localcloud.sandboxes.llm import CHARS_PER_TOKEN, pieces, sse_response, tokens

# https://ai.google.dev/gemini-api/docs/models (token limits as published for each model).
MODELS: dict[str, dict[str, Any]] = {
    "gemini-3.8-flash": {"displayName": "Gemini 3.8 Flash", "inputTokenLimit": 1_048_576, "outputTokenLimit": 65_536},
    "gemini-3.6-flash": {"displayName": "Gemini 3.6 Flash", "inputTokenLimit": 1_048_576, "outputTokenLimit": 65_536},
    "gemini-3.5-flash-lite": {
        "displayName": "Gemini 3.5 Flash-Lite",
        "inputTokenLimit": 1_048_576,
        "outputTokenLimit": 65_536,
    },
    "gemini-3.1-pro-preview": {
        "displayName": "Gemini 3.1 Pro Preview",
        "inputTokenLimit": 1_048_576,
        "outputTokenLimit": 65_536,
    },
}

GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

BLOCK_WORD = "BLOCKME"
UNSAFE_REPLY_WORD = "UNSAFEREPLY"
DEFAULT_RETRY_DELAY = 3


DEMO_API_KEY = "demo-gemini-key"


def google_error(status: int, message: str | None = None, details: list[dict[str, Any]] | None = None) -> Response:
    error: dict[str, Any] = {
        "code": status,
        "message": message or reason(status),
        "status": GOOGLE_STATUS.get(status, "UNKNOWN" if status < 500 else "INTERNAL"),
    }
    if details:
        error["details"] = details
    return json_response({"error": error}, status)


def _rate_limit_details(delay: str) -> list[dict[str, Any]]:
    return [
        {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [
                {
                    "quotaMetric": "generativelanguage.googleapis.com/generate_content_paid_tier_requests",
                    "quotaId": "GenerateRequestsPerMinutePerProjectPerModel",
                    "quotaDimensions": {"location": "global", "model": "gemini-3.8-flash"},
                }
            ],
        },
        {
            "@type": "type.googleapis.com/google.rpc.Help",
            "links": [
                {
                    "description": "Learn more about Gemini API quotas",
                    "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                }
            ],
        },
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay},
    ]


class _RateLimitedResponse(Response):
    """429 whose RetryInfo.retryDelay follows the shared fault's ``retry_after``.

    The sandbox server sets ``Retry-After`` after asking for the error body; the body is
    rendered at send time from that value, and the header is removed (Gemini sends none)."""

    def __call__(self, environ: Any, start_response: Any) -> Any:
        raw = self.headers.pop("Retry-After", None)
        delay = int(raw) if raw and raw.isdigit() else DEFAULT_RETRY_DELAY
        message = (
            "You exceeded your current quota, please check your plan and billing details. For more information "
            "on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. "
            f"Please retry in {delay}.0s."
        )
        body = {
            "error": {
                "code": 429,
                "message": message,
                "status": "RESOURCE_EXHAUSTED",
                "details": _rate_limit_details(f"{delay}s"),
            }
        }
        self.set_data(json.dumps(body))
        return super().__call__(environ, start_response)


def _texts(content: Any) -> list[str]:
    parts = content.get("parts") if isinstance(content, dict) else None
    if not isinstance(parts, list):
        return []
    return [str(p["text"]) for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)]


class GeminiSandbox(Sandbox):
    provider = "gemini"

    def __init__(self, api_key: str = DEMO_API_KEY) -> None:
        super().__init__()
        self.api_key = api_key
        self.generated = 0
        self.route("/v1beta/models", ["GET"], self.list_models)
        self.route("/v1beta/models/<name>", ["GET", "POST"], self.model_resource)

    # -- error shapes ------------------------------------------------------ #

    def error_response(self, status: int, message: str | None = None) -> Response:
        if status == 429:
            return _RateLimitedResponse(status=429, content_type="application/json; charset=UTF-8")
        return google_error(status, message)

    def not_found(self, request: Request, subpath: str) -> Response:
        return google_error(404, f"Method not found: {request.method} {subpath}")

    def reset(self) -> None:
        with self.lock:
            self.generated = 0

    # -- guards ------------------------------------------------------------ #

    def _guard(self, request: Request) -> Response | None:
        key = request.headers.get("x-goog-api-key") or request.args.get("key")
        if not key:
            return google_error(
                403,
                "Method doesn't allow unregistered callers (callers without established identity). "
                "Please use API Key or other form of API consumer identity to call this API.",
            )
        if key != self.api_key:
            return google_error(
                400,
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
        return None

    # -- endpoints --------------------------------------------------------- #

    @staticmethod
    def _model(name: str) -> dict[str, Any]:
        info = MODELS[name]
        return {
            "name": f"models/{name}",
            "version": "001",
            "displayName": info["displayName"],
            "description": f"{info['displayName']} (sandbox)",
            "inputTokenLimit": info["inputTokenLimit"],
            "outputTokenLimit": info["outputTokenLimit"],
            "supportedGenerationMethods": [
                "generateContent",
                "countTokens",
                "createCachedContent",
                "batchGenerateContent",
            ],
            "temperature": 1,
            "topP": 0.95,
            "topK": 64,
            "maxTemperature": 2,
            "thinking": True,
        }

    def list_models(self, request: Request) -> Response:
        denied = self._guard(request)
        if denied is not None:
            return denied
        names = list(MODELS)
        try:
            size = int(request.args.get("pageSize", 50))
            start = int(request.args.get("pageToken") or 0)
        except ValueError:
            return google_error(400, "Invalid value for pageSize or pageToken.")
        size = max(1, min(size, 1000))
        page = names[start : start + size]
        body: dict[str, Any] = {"models": [self._model(n) for n in page]}
        if start + size < len(names):
            body["nextPageToken"] = str(start + size)
        return json_response(body)

    def model_resource(self, request: Request, name: str) -> Response:
        denied = self._guard(request)
        if denied is not None:
            return denied
        model, _, method = name.partition(":")
        if request.method == "GET" and not method:
            if model not in MODELS:
                return google_error(404, f"models/{model} is not found for API version v1beta.")
            return json_response(self._model(model))
        if request.method == "POST" and method in ("generateContent", "streamGenerateContent"):
            if model not in MODELS:
                return google_error(
                    404,
                    f"models/{model} is not found for API version v1beta, or is not supported for generateContent. "
                    "Call ListModels to see the list of available models and their supported methods.",
                )
            if method == "streamGenerateContent":
                return self.stream_generate_content(request, model)
            return self.generate_content(request, model)
        return self.not_found(request, request.path)

    def generate_content(self, request: Request, model: str) -> Response:
        generated = self._generated(request, model)
        return generated if isinstance(generated, Response) else json_response(generated)

    def stream_generate_content(self, request: Request, model: str) -> Response:
        """streamGenerateContent: the same answer cut into GenerateContentResponse chunks (text
        parts in order, usageMetadata on each, finishReason and the output token count on the
        last), as Server-Sent Events with ``alt=sse`` (``data:`` lines, no event names, no end
        marker) or else as one JSON array
        (https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent)."""
        generated = self._generated(request, model)
        if isinstance(generated, Response):
            return generated
        chunks = _chunks(generated)
        if request.args.get("alt") == "sse":
            return sse_response((None, chunk) for chunk in chunks)
        return json_response(chunks)

    def _generated(self, request: Request, model: str) -> Response | dict[str, Any]:
        """The GenerateContentResponse for a request, or the error to answer."""
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return google_error(400, "Invalid JSON payload received. Expected an object.")
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            return google_error(400, "* GenerateContentRequest.contents: contents is not specified\n")
        for index, content in enumerate(contents):
            role = content.get("role", "user") if isinstance(content, dict) else None
            if role not in ("user", "model") or not _texts(content):
                return google_error(
                    400, f"* GenerateContentRequest.contents[{index}].parts: contents.parts must not be empty.\n"
                )
        config = body.get("generationConfig") or {}
        max_output = config.get("maxOutputTokens")
        if max_output is not None and (not isinstance(max_output, int) or max_output < 1):
            return google_error(400, "* GenerateContentRequest.generation_config.max_output_tokens: must be positive\n")
        system_texts = _texts(body.get("systemInstruction"))
        user_texts = [t for c in contents for t in _texts(c)]
        prompt_tokens = sum(tokens(t) for t in user_texts + system_texts)
        response_id = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:22]
        base: dict[str, Any] = {"modelVersion": model, "responseId": response_id}

        if any(BLOCK_WORD in t for t in user_texts):
            return {
                "promptFeedback": {
                    "blockReason": "SAFETY",
                    "safetyRatings": [
                        {"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH", "blocked": True},
                        {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
                        {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
                        {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "NEGLIGIBLE"},
                    ],
                },
                "usageMetadata": {"promptTokenCount": prompt_tokens, "totalTokenCount": prompt_tokens},
                **base,
            }
        if any(UNSAFE_REPLY_WORD in t for t in user_texts):
            return {
                "candidates": [{"finishReason": "SAFETY", "index": 0}],
                "usageMetadata": {"promptTokenCount": prompt_tokens, "totalTokenCount": prompt_tokens},
                **base,
            }

        chars = sum(len(t) for t in user_texts)
        if config.get("responseMimeType") == "application/json":
            text = json.dumps({"reply": "sandbox", "model": model, "turns": len(contents), "input_chars": chars})
        else:
            text = (
                f"Resposta do sandbox Gemini ({model}): recebi {len(contents)} mensagem(ns) "
                f"com {chars} caracteres no total."
            )
        finish = "STOP"
        if max_output is not None and tokens(text) > max_output:
            text = text[: max_output * CHARS_PER_TOKEN]
            finish = "MAX_TOKENS"
        output_tokens = tokens(text)
        with self.lock:
            self.generated += 1
        return {
            "candidates": [
                {"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": finish, "index": 0}
            ],
            "usageMetadata": {
                "promptTokenCount": prompt_tokens,
                "candidatesTokenCount": output_tokens,
                "totalTokenCount": prompt_tokens + output_tokens,
                "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
            },
            **base,
        }


def _chunks(response: dict[str, Any]) -> list[dict[str, Any]]:
    """A GenerateContentResponse as the chunks of its stream."""
    candidates = response.get("candidates")
    if not candidates or "content" not in candidates[0]:
        return [response]  # a blocked prompt or a withheld answer comes as one chunk
    candidate = candidates[0]
    text = "".join(p["text"] for p in candidate["content"]["parts"])
    usage = response["usageMetadata"]
    prompt = {"promptTokenCount": usage["promptTokenCount"], "totalTokenCount": usage["promptTokenCount"]}
    common = {"modelVersion": response["modelVersion"], "responseId": response["responseId"]}
    parts = pieces(text, 24) or [""]
    chunks = [
        {
            "candidates": [{"content": {"parts": [{"text": part}], "role": "model"}, "index": 0}],
            "usageMetadata": prompt,
            **common,
        }
        for part in parts
    ]
    chunks[-1]["candidates"][0]["finishReason"] = candidate["finishReason"]
    chunks[-1]["usageMetadata"] = usage
    return chunks


# Self-registration: the local cloud serves SANDBOX at /gemini and seeds DEMO_SECRETS.
SANDBOX = GeminiSandbox
DEMO_SECRETS = (DemoSecret("gemini", lambda base_url: {"base_url": base_url, "api_key": DEMO_API_KEY}),)
