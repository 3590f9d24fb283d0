"""Server-Sent Events, as the AI providers stream them (Anthropic, OpenAI, Gemini ``alt=sse``).

The parsing rules are the HTML standard's "event stream interpretation"
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
``event:`` names the event, ``data:`` lines are joined with newlines, a blank line dispatches,
lines starting with ``:`` are comments, one optional space after the colon is dropped; ``id``
and ``retry`` mean nothing to a one-shot request and are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

EVENT_STREAM = "text/event-stream"


@dataclass(frozen=True)
class ServerSentEvent:
    event: str  # "message" when the stream names none (OpenAI, Gemini)
    data: str


def parse_sse(lines: Iterable[str]) -> Iterator[ServerSentEvent]:
    """The events of a stream given line by line (line terminators already removed)."""
    event = ""
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield ServerSentEvent(event or "message", "\n".join(data))
            event, data = "", []
            continue
        if line.startswith(":"):
            continue  # a comment (keep-alive)
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    # A stream that ends before an event's blank line drops that event (the standard's rule):
    # it may be cut short.


def is_event_stream(content_type: str | None) -> bool:
    return (content_type or "").split(";", 1)[0].strip().lower() == EVENT_STREAM
