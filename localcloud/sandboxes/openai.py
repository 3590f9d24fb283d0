"""OpenAI API sandbox, mounted at ``/openai``; the secret's base_url is ``<sandbox>/openai/v1``.

Implemented (``Authorization: Bearer`` = the demo key; ``OpenAI-Organization``/``OpenAI-Project``
accepted and echoed in ``openai-organization``/``openai-project``):

* ``POST /v1/chat/completions`` -> a ``chat.completion``. Deterministic reply reporting the
  length of the last user message (``Received N characters.``, or ``{"received_characters": N}``
  with ``response_format: json_object``). Reasoning models (``gpt-5*``, ``gpt-6*``, ``o*``)
  answer 400 to ``max_tokens`` (use ``max_completion_tokens``) and to a non-default
  ``temperature``/``top_p``, and count a few reasoning tokens in ``completion_tokens``;
  ``json_object`` without the word "json" in the messages -> 400. A reply longer than
  ``max_completion_tokens`` is cut with ``finish_reason: "length"``; ``[[refuse]]`` in the
  last user message -> ``message.refusal`` set, ``content: null``.
* ``POST /v1/images/generations`` (GPT Image models) -> ``data[].b64_json`` holding a tiny valid
  PNG, plus ``usage``; ``response_format`` -> 400 ``unknown_parameter`` as on the real API.
* ``POST /v1/embeddings`` -> one deterministic unit vector per input (1536 dimensions for
  ``text-embedding-3-small``, or ``dimensions``), each with its ``index``.
* ``GET /v1/models``, ``GET /v1/models/{id}``.

The key ``demo-openai-no-credit`` authenticates but every call answers the 429
``insufficient_quota`` / ``credit_balance_exhausted`` billing error.

Errors use ``{"error": {"message", "type", "param", "code"}}`` and an ``x-request-id`` header.

Streaming: ``"stream": true`` on chat completions answers chat.completion.chunk objects as
Server-Sent Events ending in ``data: [DONE]`` (with ``stream_options.include_usage`` a last chunk
with empty ``choices`` carries the usage); on image generations, ``partial_images`` previews then
one ``image_generation.completed`` event. The shared ``slow`` fault hangs before the first byte;
``stall`` sends the headers, then nothing for ``delay_seconds``.

Not emulated: tools, the Responses API, image edits, jpeg/webp output, base64 embeddings, real
tokenization or moderation.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import re
import secrets
import struct
import time
import zlib
from collections.abc import Collection
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import DemoSecret, Sandbox, json_response
from localcloud.sandboxes.llm import pieces, sse_response, text_of, tokens

NO_CREDIT_API_KEY = "demo-openai-no-credit"
CREATED = 1_760_000_000

CHAT_MODELS = ("gpt-6.2-sol", "gpt-6.2-astra", "gpt-6.1-sol", "gpt-6.1-terra", "gpt-6-luna", "gpt-4.1-mini")
IMAGE_MODELS = ("gpt-image-2.6-flare", "gpt-image-2.6-sunburst", "gpt-image-2.5-flare", "gpt-image-2")
EMBEDDING_MODELS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072}
REASONING_PREFIXES = ("gpt-5", "gpt-6", "o1", "o3", "o4")
REASONING_TOKENS = 8
IMAGE_QUALITIES = ("low", "medium", "high", "xhigh", "max", "auto")
# Image output tokens of a 1024x1024 image per quality (GPT Image 2 generation figures).
IMAGE_OUTPUT_TOKENS = {"low": 196, "medium": 1756, "high": 7024, "xhigh": 7024, "max": 7024, "auto": 1756}
# Each partial image costs 100 more image output tokens (image generation guide, streaming).
PARTIAL_IMAGE_TOKENS = 100
REFUSE_MARKER = "[[refuse]]"
REFUSAL = "I'm sorry, but I can't help with that request."

ERROR_TYPES = {401: "invalid_request_error", 404: "invalid_request_error", 429: "requests", 500: "server_error"}
DEFAULT_MESSAGES = {
    400: "Bad request.",
    401: "Incorrect API key provided.",
    403: "Country, region, or territory not supported",
    404: "Not found.",
    429: "Rate limit reached for requests. Please try again in 3s.",
    500: "The server had an error while processing your request. Sorry about that!",
    503: "The server is overloaded or not ready yet.",
}
DEFAULT_CODES = {401: "invalid_api_key", 403: "unsupported_country_region_territory", 429: "rate_limit_exceeded"}


DEMO_API_KEY = "demo-openai-key"


def _png_1x1() -> bytes:
    """The smallest valid PNG: one opaque white pixel."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\xff\xff")  # filter byte + one RGB pixel
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


TINY_PNG = _png_1x1()


def embedding_of(text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector for a text."""
    rng = random.Random(int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big"))
    raw = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return [round(x / norm, 8) for x in raw]


class OpenAISandbox(Sandbox):
    provider = "openai"

    def __init__(self, api_key: str = DEMO_API_KEY) -> None:
        super().__init__()
        self.api_key = api_key
        self.route("/v1/chat/completions", ["POST"], self.chat_completions)
        self.route("/v1/images/generations", ["POST"], self.images_generations)
        self.route("/v1/embeddings", ["POST"], self.embeddings)
        self.route("/v1/models", ["GET"], self.list_models)
        self.route("/v1/models/<path:model>", ["GET"], self.retrieve_model)

    # -- error shapes ------------------------------------------------------ #

    def error_response(
        self,
        status: int,
        message: Any = None,
        *,
        error_type: str | None = None,
        param: str | None = None,
        code: str | None = None,
    ) -> Response:
        kind = error_type or ERROR_TYPES.get(status) or ("server_error" if status >= 500 else "invalid_request_error")
        body = {
            "error": {
                "message": str(message or DEFAULT_MESSAGES.get(status, "Error")),
                "type": kind,
                "param": param,
                "code": code if code is not None else DEFAULT_CODES.get(status),
            }
        }
        return json_response(body, status, headers={"x-request-id": _request_id()})

    def not_found(self, request: Request, subpath: str) -> Response:
        return self.error_response(404, f"Invalid URL ({request.method} {subpath})")

    # -- guards ------------------------------------------------------------ #

    def _guard(self, request: Request) -> Response | None:
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return self.error_response(
                401,
                "You didn't provide an API key. You need to provide your API key in an Authorization header "
                "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                code=None,
            )
        if token == NO_CREDIT_API_KEY:
            return self.error_response(
                429,
                "You exceeded your current quota, please check your plan and billing details.",
                error_type="insufficient_quota",
                code="credit_balance_exhausted",
            )
        if token != self.api_key:
            masked = f"{token[:3]}***{token[-4:]}" if len(token) > 8 else "***"
            return self.error_response(
                401,
                f"Incorrect API key provided: {masked}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )
        return None

    def _ok(self, request: Request, body: Any) -> Response:
        headers = {"x-request-id": _request_id(), "openai-version": "2020-10-01", "openai-processing-ms": "12"}
        for name in ("OpenAI-Organization", "OpenAI-Project"):
            if request.headers.get(name):
                headers[name.lower()] = request.headers[name]
        return json_response(body, headers=headers)

    def _body(self, request: Request, models: Collection[str] = ()) -> dict[str, Any] | Response:
        """The request's JSON object, or the error to answer; with ``models``, its ``model``
        must be one of them (404 model_not_found otherwise)."""
        denied = self._guard(request)
        if denied is not None:
            return denied
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return self.error_response(400, "We could not parse the JSON body of your request.", code="invalid_json")
        if models and body.get("model") not in models:
            return self._model_not_found(str(body.get("model")))
        return body

    # -- endpoints --------------------------------------------------------- #

    def list_models(self, request: Request) -> Response:
        denied = self._guard(request)
        if denied is not None:
            return denied
        ids = [*CHAT_MODELS, *IMAGE_MODELS, *EMBEDDING_MODELS]
        return self._ok(request, {"object": "list", "data": [_model_object(m) for m in ids]})

    def retrieve_model(self, request: Request, model: str) -> Response:
        denied = self._guard(request)
        if denied is not None:
            return denied
        if model not in (*CHAT_MODELS, *IMAGE_MODELS, *EMBEDDING_MODELS):
            return self._model_not_found(model)
        return self._ok(request, _model_object(model))

    def chat_completions(self, request: Request) -> Response:
        body = self._body(request)
        if isinstance(body, Response):
            return body
        problem = self._validate_chat(body)
        if problem is not None:
            return problem
        model: str = body["model"]
        messages: list[dict[str, Any]] = body["messages"]
        reasoning = model.startswith(REASONING_PREFIXES)
        last_user = next((text_of(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
        prompt_tokens = 3 + sum(4 + tokens(text_of(m.get("content"))) for m in messages)
        json_mode = (body.get("response_format") or {}).get("type") == "json_object"
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        reasoning_tokens = REASONING_TOKENS if reasoning else 0

        message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None, "annotations": []}
        finish_reason = "stop"
        if REFUSE_MARKER in last_user:
            message["refusal"] = REFUSAL
            visible = tokens(REFUSAL)
        else:
            reply = json.dumps({"received_characters": len(last_user)}) if json_mode else None
            reply = reply or f"Received {len(last_user)} characters."
            if isinstance(limit, int) and tokens(reply) + reasoning_tokens > limit:
                room = max(0, limit - reasoning_tokens)
                reply, finish_reason = reply[: room * 4], "length"
                reasoning_tokens = min(reasoning_tokens, limit)
            message["content"] = reply
            visible = tokens(reply)
        completion_tokens = visible + reasoning_tokens
        completion = {
            "id": "chatcmpl-" + secrets.token_urlsafe(21).replace("-", "A").replace("_", "b"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": reasoning_tokens,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
            "service_tier": "default",
            "system_fingerprint": None,
        }
        if body.get("stream") is True:
            usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return self._stream(request, _chat_chunks(completion, include_usage=usage))
        return self._ok(request, completion)

    def _stream(self, request: Request, events: list[tuple[str | None, Any]]) -> Response:
        """The answer as Server-Sent Events, with the headers a JSON answer carries."""
        ok = self._ok(request, {})
        headers = {k: v for k, v in ok.headers.items() if k.lower() not in ("content-type", "content-length")}
        return sse_response(events, headers=headers)

    def images_generations(self, request: Request) -> Response:
        body = self._body(request, IMAGE_MODELS)
        if isinstance(body, Response):
            return body
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt:
            return self.error_response(
                400, "Missing required parameter: 'prompt'.", param="prompt", code="missing_required_parameter"
            )
        if "response_format" in body:
            return self.error_response(
                400, "Unknown parameter: 'response_format'.", param="response_format", code="unknown_parameter"
            )
        n = body.get("n", 1)
        if not isinstance(n, int) or not 1 <= n <= 10:
            return self.error_response(
                400, f"Invalid 'n': {n!r}. Expected a value between 1 and 10.", param="n", code="invalid_value"
            )
        size = str(body.get("size", "auto"))
        match = re.fullmatch(r"(\d+)x(\d+)", size)
        if size != "auto" and (match is None or any(int(v) % 16 for v in match.groups())):
            return self.error_response(400, f"Invalid 'size': '{size}'.", param="size", code="invalid_value")
        quality = str(body.get("quality", "auto"))
        if quality not in IMAGE_QUALITIES:
            return self.error_response(400, f"Invalid 'quality': '{quality}'.", param="quality", code="invalid_value")
        output_format = str(body.get("output_format", "png"))
        if output_format != "png":
            return self.error_response(
                400, "sandbox: only png output is emulated", param="output_format", code="invalid_value"
            )
        partial_images = body.get("partial_images", 0)
        if not isinstance(partial_images, int) or not 0 <= partial_images <= 3:
            return self.error_response(
                400, f"Invalid 'partial_images': {partial_images!r}.", param="partial_images", code="invalid_value"
            )
        output_tokens = IMAGE_OUTPUT_TOKENS[quality] * n + PARTIAL_IMAGE_TOKENS * partial_images
        input_tokens = tokens(prompt)
        encoded = base64.b64encode(TINY_PNG).decode("ascii")
        result = {
            "created": int(time.time()),
            "background": "opaque",
            "data": [{"b64_json": encoded} for _ in range(n)],
            "output_format": "png",
            "quality": "medium" if quality == "auto" else quality,
            "size": "1024x1024" if size == "auto" else size,
            "usage": {
                "input_tokens": input_tokens,
                "input_tokens_details": {"image_tokens": 0, "text_tokens": input_tokens},
                "output_tokens": output_tokens,
                "total_tokens": input_tokens + output_tokens,
            },
        }
        if body.get("stream") is True:
            return self._stream(request, _image_events(result, partial_images))
        return self._ok(request, result)

    def embeddings(self, request: Request) -> Response:
        body = self._body(request, EMBEDDING_MODELS)
        if isinstance(body, Response):
            return body
        model = body["model"]
        raw = body.get("input")
        inputs = [raw] if isinstance(raw, str) else raw
        if not isinstance(inputs, list) or not inputs or not all(isinstance(t, str) and t for t in inputs):
            return self.error_response(
                400,
                "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
            )
        if len(inputs) > 2048:
            return self.error_response(400, "'input' must have at most 2048 items.", param="input")
        if body.get("encoding_format", "float") != "float":
            return self.error_response(400, "sandbox: only float embeddings are emulated", param="encoding_format")
        native = EMBEDDING_MODELS[str(model)]
        dimensions = body.get("dimensions", native)
        if not isinstance(dimensions, int) or not 1 <= dimensions <= native:
            return self.error_response(400, f"Invalid 'dimensions': {dimensions!r}.", param="dimensions")
        data = [
            {"object": "embedding", "index": i, "embedding": embedding_of(text, dimensions)}
            for i, text in enumerate(inputs)
        ]
        prompt_tokens = sum(tokens(t) for t in inputs)
        result = {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
        }
        return self._ok(request, result)

    # -- validation -------------------------------------------------------- #

    def _model_not_found(self, model: str) -> Response:
        return self.error_response(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            code="model_not_found",
        )

    def _validate_chat(self, body: dict[str, Any]) -> Response | None:
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return self.error_response(400, "you must provide a model parameter")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return self.error_response(400, "[] is too short - 'messages'", param="messages", code="empty_array")
        for i, m in enumerate(messages):
            if not isinstance(m, dict) or m.get("role") not in ("developer", "system", "user", "assistant", "tool"):
                return self.error_response(400, f"Invalid value for 'messages[{i}].role'.", param=f"messages[{i}].role")
        if body.get("stream_options") is not None and body.get("stream") is not True:
            return self.error_response(
                400,
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                param="stream_options",
                code="invalid_value",
            )
        if model not in CHAT_MODELS:
            return self._model_not_found(model)
        if model.startswith(REASONING_PREFIXES):
            if "max_tokens" in body:
                return self.error_response(
                    400,
                    "Unsupported parameter: 'max_tokens' is not supported with this model. "
                    "Use 'max_completion_tokens' instead.",
                    param="max_tokens",
                    code="unsupported_parameter",
                )
            for name in ("temperature", "top_p"):
                value = body.get(name)
                if value is not None and value != 1:
                    return self.error_response(
                        400,
                        f"Unsupported value: '{name}' does not support {value} with this model. "
                        "Only the default (1) value is supported.",
                        param=name,
                        code="unsupported_value",
                    )
        limit = body.get("max_completion_tokens")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
            return self.error_response(
                400, f"Invalid 'max_completion_tokens': {limit!r}.", param="max_completion_tokens"
            )
        response_format = body.get("response_format") or {}
        if response_format.get("type") == "json_object":
            if not any("json" in text_of(m.get("content")).lower() for m in messages):
                return self.error_response(
                    400,
                    "'messages' must contain the word 'json' in some form, to use 'response_format' of type "
                    "'json_object'.",
                    param="messages",
                )
        return None


def _chat_chunks(completion: dict[str, Any], *, include_usage: bool) -> list[tuple[str | None, Any]]:
    """A chat.completion as the chat.completion.chunk objects of a stream
    (https://platform.openai.com/docs/api-reference/chat-streaming/streaming): the role first,
    then content (or refusal) deltas, then the finish_reason; with ``include_usage`` every chunk
    has ``usage: null`` and one more chunk with empty ``choices`` carries the usage; then
    ``data: [DONE]``. OpenAI names no SSE events."""
    common = {
        key: completion[key] for key in ("id", "object", "created", "model", "service_tier", "system_fingerprint")
    }
    common["object"] = "chat.completion.chunk"
    message = completion["choices"][0]["message"]

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return {**common, "choices": [choice], **({"usage": None} if include_usage else {})}

    chunks = [chunk({"role": "assistant", "content": "", "refusal": None})]
    if message["refusal"]:
        chunks += [chunk({"refusal": part}) for part in pieces(message["refusal"])]
    else:
        chunks += [chunk({"content": part}) for part in pieces(message["content"] or "")]
    chunks.append(chunk({}, completion["choices"][0]["finish_reason"]))
    if include_usage:
        chunks.append({**common, "choices": [], "usage": completion["usage"]})
    return [*((None, c) for c in chunks), (None, "[DONE]")]


def _image_events(result: dict[str, Any], partial_images: int) -> list[tuple[str | None, Any]]:
    """An images response as its stream (https://platform.openai.com/docs/api-reference/images-streaming):
    ``partial_images`` image_generation.partial_image previews, then image_generation.completed with
    the image and the usage."""
    common = {
        "created_at": result["created"],
        "size": result["size"],
        "quality": result["quality"],
        "background": result["background"],
        "output_format": result["output_format"],
    }
    encoded = result["data"][0]["b64_json"]
    events: list[tuple[str | None, Any]] = [
        (
            "image_generation.partial_image",
            {"type": "image_generation.partial_image", "b64_json": encoded, "partial_image_index": i, **common},
        )
        for i in range(partial_images)
    ]
    completed = {"type": "image_generation.completed", "b64_json": encoded, **common, "usage": result["usage"]}
    events.append(("image_generation.completed", completed))
    return events


def _request_id() -> str:
    return "req_" + secrets.token_hex(16)


def _model_object(model: str) -> dict[str, Any]:
    return {"id": model, "object": "model", "created": CREATED, "owned_by": "system"}


# Self-registration: the local cloud serves SANDBOX at /openai and seeds DEMO_SECRETS.
SANDBOX = OpenAISandbox
DEMO_SECRETS = (
    # OpenAI's base URL carries the API version (https://api.openai.com/v1); so does the sandbox's.
    DemoSecret("openai", lambda base_url: {"base_url": f"{base_url}/v1", "api_key": DEMO_API_KEY}),
)
