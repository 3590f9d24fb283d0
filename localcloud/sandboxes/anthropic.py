"""Anthropic Messages API sandbox, mounted at ``/anthropic`` (the secret's base_url).

Implemented (headers ``x-api-key`` = the demo key and ``anthropic-version`` required, as on
https://api.anthropic.com):

* ``POST /v1/messages`` -> a ``message`` object. Deterministic: the reply reports the length of
  the last user message (``Received N characters.``), or ``{"received_characters": N}`` when the
  system prompt asks for JSON. Usage counts ~4 characters per token. Current models
  (``claude-*-5*``) answer 400 to non-default ``temperature``/``top_p``/``top_k``, to an
  assistant prefill and to ``thinking.budget_tokens``, and put a ``thinking`` block before the
  text, as documented. ``max_tokens`` smaller than the reply truncates it with
  ``stop_reason: "max_tokens"``; a last user message containing ``[[refuse]]`` gives
  ``stop_reason: "refusal"`` with no content. Unknown model -> 404 ``not_found_error``.
* ``GET /v1/models[?limit=&after_id=]`` -> the model list page.

Errors use Anthropic's body ``{"type": "error", "error": {"type", "message"}, "request_id"}``
and the ``request-id`` header; fault ``error`` with status 529 gives ``overloaded_error``.

With ``"stream": true`` the same message is answered as Server-Sent Events in the documented order
(message_start, ping, content_block_start/delta/stop per block, message_delta, message_stop); a
last user message containing ``[[overloaded-midstream]]`` breaks the stream after its first text
delta with an ``overloaded_error`` event. The shared ``slow`` fault hangs before the first byte;
``stall`` sends the headers, then nothing for ``delay_seconds``.

Not emulated: tools, prompt caching, batches, token counting, real tokenization.
"""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import DemoSecret, Sandbox, json_response
from localcloud.sandboxes.llm import pieces, sse_response, text_of, tokens

ANTHROPIC_VERSION = "2023-06-01"

# (id, display name, released) -- newest first, as the Models API lists them.
MODELS: tuple[tuple[str, str, str], ...] = (
    ("claude-haiku-5-5", "Claude Haiku 5.5", "2026-10-07T00:00:00Z"),
    ("claude-sonnet-5-5", "Claude Sonnet 5.5", "2026-09-28T00:00:00Z"),
    ("claude-opus-5-5", "Claude Opus 5.5", "2026-09-22T00:00:00Z"),
    ("claude-sonnet-5", "Claude Sonnet 5", "2026-06-30T00:00:00Z"),
    ("claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-15T00:00:00Z"),
)
# Models that think adaptively by default and reject sampling parameters and prefill.
CURRENT_GENERATION_PREFIXES = ("claude-haiku-5", "claude-sonnet-5", "claude-opus-5", "claude-fable-5")

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
DEFAULT_MESSAGES = {
    401: "invalid x-api-key",
    402: "Your credit balance is too low to access the Anthropic API.",
    413: "Request exceeds the maximum allowed number of bytes.",
    429: "This request would exceed your organization's rate limit. Please try again later.",
    500: "Internal server error",
    504: "Request timeout",
    529: "Overloaded",
}
REFUSE_MARKER = "[[refuse]]"
# In the last user message of a streamed request: the stream starts, then breaks with an
# overloaded_error event (what Anthropic sends mid-stream under load).
MIDSTREAM_OVERLOAD_MARKER = "[[overloaded-midstream]]"
THINKING_SUMMARY = "Counting the characters of the last message."

_ALPHABET = string.ascii_letters + string.digits


DEMO_API_KEY = "demo-anthropic-key"


def _id(prefix: str) -> str:
    return prefix + "011" + "".join(secrets.choice(_ALPHABET) for _ in range(21))


class AnthropicSandbox(Sandbox):
    provider = "anthropic"

    def __init__(self, api_key: str = DEMO_API_KEY) -> None:
        super().__init__()
        self.api_key = api_key
        self.route("/v1/messages", ["POST"], self.messages)
        self.route("/v1/models", ["GET"], self.list_models)

    # -- error shapes ------------------------------------------------------ #

    def error_response(self, status: int, message: Any = None, error_type: str | None = None) -> Response:
        kind = error_type or ERROR_TYPES.get(status) or ("api_error" if status >= 500 else "invalid_request_error")
        request_id = _id("req_")
        body = {
            "type": "error",
            "error": {"type": kind, "message": str(message or DEFAULT_MESSAGES.get(status, "Error"))},
            "request_id": request_id,
        }
        return json_response(body, status, headers={"request-id": request_id})

    def not_found(self, request: Request, subpath: str) -> Response:
        return self.error_response(404, "Not Found")

    # -- guards ------------------------------------------------------------ #

    def _guard(self, request: Request) -> Response | None:
        if request.headers.get("x-api-key") != self.api_key:
            return self.error_response(401, "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return self.error_response(400, "anthropic-version: header is required")
        return None

    # -- endpoints --------------------------------------------------------- #

    def list_models(self, request: Request) -> Response:
        denied = self._guard(request)
        if denied is not None:
            return denied
        try:
            limit = int(request.args.get("limit", 20))
        except ValueError:
            return self.error_response(400, "limit: Input should be a valid integer")
        if not 1 <= limit <= 1000:
            return self.error_response(400, "limit: Input should be between 1 and 1000")
        ids = [m[0] for m in MODELS]
        start = ids.index(request.args["after_id"]) + 1 if request.args.get("after_id") in ids else 0
        page = MODELS[start : start + limit]
        data = [
            {"type": "model", "id": mid, "display_name": name, "created_at": created} for mid, name, created in page
        ]
        body = {
            "data": data,
            "has_more": start + limit < len(MODELS),
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
        }
        return json_response(body, headers={"request-id": _id("req_")})

    def messages(self, request: Request) -> Response:
        denied = self._guard(request)
        if denied is not None:
            return denied
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return self.error_response(400, "There was an issue with your request body: expected a JSON object")
        problem = self._validate(body)
        if problem is not None:
            return problem
        model: str = body["model"]
        current = model.startswith(CURRENT_GENERATION_PREFIXES)
        messages: list[dict[str, Any]] = body["messages"]
        system = text_of(body.get("system"))
        last_user = next((text_of(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
        input_tokens = 8 + tokens(system) + sum(4 + tokens(text_of(m.get("content"))) for m in messages)

        content: list[dict[str, Any]] = []
        output_tokens = 0
        if current:
            content.append({"type": "thinking", "thinking": THINKING_SUMMARY, "signature": _id("sig_")})
            output_tokens += tokens(THINKING_SUMMARY)
        if REFUSE_MARKER in last_user:
            content, stop_reason = [], "refusal"
        else:
            if "json" in system.lower():
                reply = json.dumps({"received_characters": len(last_user)})
            else:
                reply = f"Received {len(last_user)} characters."
            room = max(0, int(body["max_tokens"]) - output_tokens)
            stop_reason = "end_turn"
            if tokens(reply) > room:
                reply, stop_reason = reply[: room * 4], "max_tokens"
            if reply:
                content.append({"type": "text", "text": reply})
            output_tokens += tokens(reply)
            output_tokens = min(output_tokens, int(body["max_tokens"]))
        message = {
            "id": _id("msg_"),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "stop_details": None,
            "usage": {
                "input_tokens": input_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": output_tokens,
                "service_tier": "standard",
            },
        }
        if body.get("stream") is True:
            return self._stream(message, MIDSTREAM_OVERLOAD_MARKER in last_user)
        return json_response(message, headers={"request-id": _id("req_")})

    @staticmethod
    def _stream(message: dict[str, Any], overload: bool) -> Response:
        """The same message as Server-Sent Events, in the documented order
        (https://platform.claude.com/docs/en/build-with-claude/streaming): message_start (empty
        content, usage so far), a ping, per block content_block_start / content_block_delta
        (thinking_delta + signature_delta, text_delta) / content_block_stop, message_delta
        (stop_reason, cumulative usage), message_stop. With ``overload`` the stream breaks
        after the first text delta with the documented ``overloaded_error`` event."""
        usage = message["usage"]
        start = {**message, "content": [], "stop_reason": None, "stop_sequence": None}
        start["usage"] = {**usage, "output_tokens": 1}
        events: list[tuple[str | None, Any]] = [
            ("message_start", {"type": "message_start", "message": start}),
            ("ping", {"type": "ping"}),
        ]
        for index, block in enumerate(message["content"]):
            if block["type"] == "thinking":
                opened, deltas = (
                    {"type": "thinking", "thinking": "", "signature": ""},
                    [{"type": "thinking_delta", "thinking": part} for part in pieces(block["thinking"])],
                )
                deltas.append({"type": "signature_delta", "signature": block["signature"]})
            else:
                opened = {"type": "text", "text": ""}
                deltas = [{"type": "text_delta", "text": part} for part in pieces(block["text"])]
            events.append(
                ("content_block_start", {"type": "content_block_start", "index": index, "content_block": opened})
            )
            for delta in deltas:
                events.append(("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}))
                if overload and delta["type"] == "text_delta":
                    error = {"type": "overloaded_error", "message": DEFAULT_MESSAGES[529]}
                    events.append(("error", {"type": "error", "error": error}))
                    return sse_response(events, headers={"request-id": _id("req_")})
            events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        delta_usage = {k: usage[k] for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")}
        events += [
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                    "usage": {**delta_usage, "output_tokens": usage["output_tokens"]},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
        return sse_response(events, headers={"request-id": _id("req_")})

    def _validate(self, body: dict[str, Any]) -> Response | None:
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return self.error_response(400, "model: Field required")
        max_tokens = body.get("max_tokens")
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            return self.error_response(400, "max_tokens: Field required (an integer >= 1)")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return self.error_response(400, "messages: at least one message is required")
        for i, m in enumerate(messages):
            if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
                return self.error_response(400, f"messages.{i}.role: Input should be 'user' or 'assistant'")
            if not text_of(m.get("content")):
                return self.error_response(400, f"messages.{i}: all messages must have non-empty content")
        if body.get("stream") not in (None, True, False):
            return self.error_response(400, "stream: Input should be a valid boolean")
        if model not in {m[0] for m in MODELS}:
            return self.error_response(404, f"model: {model}")
        if model.startswith(CURRENT_GENERATION_PREFIXES):
            for name in ("temperature", "top_p", "top_k"):
                if body.get(name) is not None:
                    return self.error_response(400, f"{name}: is not supported on {model}; remove it")
            if messages[-1].get("role") == "assistant":
                return self.error_response(
                    400,
                    "This model does not support assistant message prefill. "
                    "The conversation must end with a user message.",
                )
            thinking = body.get("thinking")
            if isinstance(thinking, dict) and thinking.get("type") == "enabled":
                return self.error_response(400, f"thinking.type.enabled: is not supported on {model}; use adaptive")
        temperature = body.get("temperature")
        if temperature is not None and (not isinstance(temperature, (int, float)) or not 0 <= temperature <= 1):
            return self.error_response(400, "temperature: Input should be less than or equal to 1")
        return None


# Self-registration: the local cloud serves SANDBOX at /anthropic and seeds DEMO_SECRETS.
SANDBOX = AnthropicSandbox
DEMO_SECRETS = (DemoSecret("anthropic", lambda base_url: {"base_url": base_url, "api_key": DEMO_API_KEY}),)
