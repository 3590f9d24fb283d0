"""What the fake language-model APIs (Anthropic, OpenAI, Gemini) count and read alike."""

from __future__ import annotations

import math
from typing import Any

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
