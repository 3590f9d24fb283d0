"""What the fake language-model APIs (Anthropic, OpenAI, Gemini) count and read alike."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from typing import Any

from werkzeug.wrappers import Response

CHARS_PER_TOKEN = 4


def tokens(text: str) -> int:
    """The sandboxes' tokenizer: about four characters per token."""
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN)) if text else 0


def text_of(content: Any) -> str:
    """A chat message's text: a string, or the ``{"type": "text", "text"}`` blocks of a content
    list (Anthropic Messages and OpenAI Chat Completions share this shape)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(b.get("text", "")) for b in content if isinstance(b, dict) and b.get("type") == "text")
    return ""


def pieces(text: str, size: int = 12) -> list[str]:
    """A reply cut into the small deltas a streaming API sends."""
    return [text[i : i + size] for i in range(0, len(text), size)]


def sse_response(events: Iterable[tuple[str | None, Any]], headers: dict[str, str] | None = None) -> Response:
    """A ``text/event-stream`` answer sent event by event (each one flushed as it is yielded):
    ``(name, data)`` becomes ``event: name`` (omitted when None) and one ``data:`` line of JSON
    (or the string as is: OpenAI's ``[DONE]``), then a blank line
    (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation)."""

    def encoded() -> Iterator[bytes]:
        for name, data in events:
            line = data if isinstance(data, str) else json.dumps(data)
            yield ((f"event: {name}\n" if name else "") + f"data: {line}\n\n").encode()

    response = Response(encoded(), mimetype="text/event-stream", direct_passthrough=True)
    response.headers["Cache-Control"] = "no-cache"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
