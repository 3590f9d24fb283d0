"""Sentry ingest sandbox, mounted at ``/sentry``: the DSN of the hub's demo Sentry secret
(``hub/_apps/sentry``) points here, so ``make dev`` reports errors locally.

Keeps Sentry's published ingest contract, not the SDK's habits:

* ``POST /api/<project_id>/envelope/`` (https://develop.sentry.dev/sdk/foundations/transport/envelopes/):
  authenticated by the DSN's public key, in ``X-Sentry-Auth: Sentry sentry_version=7,
  sentry_key=<key>, sentry_client=<name/version>`` or the ``sentry_key`` query parameter
  (https://develop.sentry.dev/sdk/overview/#authentication): missing -> 401, a key that is not
  the project's -> 401, another project -> 403 (``{"detail": ...}`` bodies, as Relay answers).
* The body: ``Content-Encoding`` identity, ``gzip``, ``deflate`` or ``br``; an envelope is a
  JSON header line, then items, each a JSON header line (``type`` required, ``length`` optional:
  exactly that many bytes of payload, else the payload runs to the next newline). Malformed ->
  400. An ``event`` item's payload is a JSON object whose ``event_id`` (32 hex digits) matches
  the envelope header's when both are set; at most ``MAX_EVENT_BYTES`` (Relay's 1 MiB default)
  -> else 413. Answer ``200 {"id": event_id}``.

Sandbox only: ``GET /sentry/events`` lists the events received (decoded), newest last, for
tests and for a developer watching ``make dev``. Not emulated: the store endpoint (``/store/``,
legacy), attachments' processing, rate limits (``X-Sentry-Rate-Limits``), minidumps.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from typing import Any
from urllib.parse import urlsplit

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import DemoSecret, Sandbox, json_response

DEMO_PUBLIC_KEY = "5e1f7a0c9b3d4e2f8a6b1c0d9e8f7a6b"
DEMO_PROJECT_ID = "1"
MAX_EVENT_BYTES = 1024 * 1024
_EVENT_ID = re.compile(r"^[0-9a-f]{32}$")


class EnvelopeError(ValueError):
    pass


def parse_envelope(data: bytes) -> tuple[dict[str, Any], list[tuple[dict[str, Any], bytes]]]:
    """The envelope's header and its (item header, payload) pairs."""
    header_line, _, rest = data.partition(b"\n")
    try:
        header = json.loads(header_line or b"{}")
    except ValueError as exc:
        raise EnvelopeError(f"envelope header is not JSON: {exc}") from None
    if not isinstance(header, dict):
        raise EnvelopeError("envelope header is not a JSON object")
    items: list[tuple[dict[str, Any], bytes]] = []
    while rest.strip():
        item_line, _, rest = rest.partition(b"\n")
        try:
            item_header = json.loads(item_line)
        except ValueError:
            raise EnvelopeError("item header is not JSON") from None
        if not isinstance(item_header, dict) or not isinstance(item_header.get("type"), str):
            raise EnvelopeError("item header has no type")
        length = item_header.get("length")
        if length is not None:
            if not isinstance(length, int) or length < 0 or length > len(rest):
                raise EnvelopeError("item length exceeds the envelope")
            payload, rest = rest[:length], rest[length:]
            if rest[:1] not in (b"", b"\n"):
                raise EnvelopeError("item payload longer than its length")
            rest = rest[1:]
        else:
            payload, _, rest = rest.partition(b"\n")
        items.append((item_header, payload))
    return header, items


def _decode_body(request: Request) -> bytes:
    raw = request.get_data(cache=True)
    encoding = (request.headers.get("Content-Encoding") or "identity").strip().lower()
    try:
        if encoding == "gzip":
            return gzip.decompress(raw)
        if encoding == "deflate":
            return zlib.decompress(raw)
        if encoding == "br":
            import brotli  # the SDK sends br only where brotli is installed

            data: bytes = brotli.decompress(raw)
            return data
    except (OSError, zlib.error) as exc:
        raise EnvelopeError(f"body does not decode as {encoding}: {exc}") from None
    if encoding != "identity":
        raise EnvelopeError(f"unsupported Content-Encoding {encoding}")
    return raw


def _auth_key(request: Request) -> str | None:
    header = request.headers.get("X-Sentry-Auth", "")
    if header.lower().startswith("sentry "):
        fields = dict(part.strip().split("=", 1) for part in header[len("sentry ") :].split(",") if "=" in part)
        if fields.get("sentry_version", "7") != "7":
            return None
        return fields.get("sentry_key")
    return request.args.get("sentry_key")


class SentrySandbox(Sandbox):
    provider = "sentry"

    def __init__(self) -> None:
        super().__init__()
        self.events: list[dict[str, Any]] = []
        self.route("/api/<project_id>/envelope/", ["POST"], self.envelope)
        self.route("/events", ["GET"], self.list_events)

    def reset(self) -> None:
        with self.lock:
            self.events.clear()

    def error_response(self, status: int, message: str | None = None) -> Response:
        return json_response({"detail": message or "error"}, status)

    def envelope(self, request: Request, project_id: str) -> Response:
        key = _auth_key(request)
        if not key:
            return self.error_response(401, "missing authorization information")
        if key != DEMO_PUBLIC_KEY:
            return self.error_response(401, "invalid api key")
        if project_id != DEMO_PROJECT_ID:
            return self.error_response(403, "project id does not match the key")
        try:
            header, items = parse_envelope(_decode_body(request))
        except EnvelopeError as exc:
            return self.error_response(400, str(exc))
        events = []
        for item_header, payload in items:
            if item_header["type"] != "event":
                continue  # client reports, sessions, transactions: accepted, not kept
            if len(payload) > MAX_EVENT_BYTES:
                return self.error_response(413, "event too large")
            try:
                event = json.loads(payload)
            except ValueError:
                return self.error_response(400, "event payload is not JSON")
            if not isinstance(event, dict):
                return self.error_response(400, "event payload is not a JSON object")
            event_id = event.get("event_id") or header.get("event_id")
            if not isinstance(event_id, str) or not _EVENT_ID.fullmatch(event_id):
                return self.error_response(400, "event_id must be 32 hexadecimal digits")
            if header.get("event_id") and header["event_id"] != event_id:
                return self.error_response(400, "event_id differs from the envelope's")
            events.append(event)
        with self.lock:
            self.events.extend(events)
        return json_response({"id": events[-1]["event_id"] if events else header.get("event_id")})

    def list_events(self, request: Request) -> Response:
        with self.lock:
            return json_response({"events": list(self.events)})


def demo_secret(base_url: str) -> dict[str, Any]:
    """The hub's Sentry secret pointing at this sandbox: DSN ``http://<key>@<host>/sentry/<project>``."""
    parts = urlsplit(base_url)
    return {"dsn": f"{parts.scheme}://{DEMO_PUBLIC_KEY}@{parts.netloc}{parts.path.rstrip('/')}/{DEMO_PROJECT_ID}"}


# Self-registration: the local cloud serves SANDBOX at /sentry and seeds DEMO_SECRETS (the hub's
# own secret, hub/_apps/sentry; template parameter SentryDsnSecretName=sentry turns reports on).
SANDBOX = SentrySandbox
DEMO_SECRETS = (DemoSecret("sentry", demo_secret, org_id="_apps"),)
