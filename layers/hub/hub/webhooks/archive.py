"""The raw archive: every authenticated webhook, byte for byte, before any processing —
except the credentials a provider puts in its own bodies (``WebhookSpec.archive_redact``):
their values are replaced by ``[redacted]`` and the document lists the keys it redacted.

Replay does not verify signatures again (hub.webhooks.replay), and the redacted body is
still the same JSON with the same shape, so a redacted archive replays like any other.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterable
from typing import Any

from hub.config import get_settings
from hub.errors import InvalidRequestError
from hub.storage import ObjectStorage
from hub.webhooks.models import RawWebhook

REDACTED = "[redacted]"

# A receiver can carry the archive document in the event's queue message (message attributes)
# instead of writing it itself; the consumer writes it before it processes the event.
CARRIED_KEY = "archive_key"
CARRIED_DOCUMENT = "archive"


def redact_json_keys(body: bytes, keys: Iterable[str]) -> tuple[bytes, list[str]]:
    """Replace the string value of every member named in ``keys``, at any depth, by
    ``"[redacted]"``; every other byte stays as received (so numbers, spacing and the order of
    members are the provider's). Returns the body and the keys that were found. Works on the
    text, so a body that is not valid JSON (archived before it is parsed) is redacted too."""
    found: list[str] = []
    for key in keys:
        # A member: ``{`` or ``,``, the quoted name, a colon, a string value. Inside a JSON string
        # every quote is escaped, so text that merely mentions the key never matches.
        pattern = re.compile(rb'([{,]\s*"' + re.escape(key.encode()) + rb'"\s*:\s*)"(?:[^"\\]|\\.)*"')
        body, count = pattern.subn(lambda m: m.group(1) + b'"' + REDACTED.encode() + b'"', body)
        if count:
            found.append(key)
    return body, found


def _redaction_of(provider: str) -> tuple[str, ...]:
    from hub.webhooks.specs import webhook_spec  # specs import provider modules: only when archiving

    try:
        return webhook_spec(provider).archive_redact
    except InvalidRequestError:
        return ()


def archive_key(request: RawWebhook) -> str:
    ts = request.received_at
    return f"raw/{request.provider}/{request.org_id}/{ts:%Y/%m/%d}/{ts:%H%M%S%f}-{uuid.uuid4().hex}.json"


def archive_document(request: RawWebhook) -> bytes:
    """The archive object of a request: headers minus secrets, the body minus the provider's
    credential fields, every query value (JSON, UTF-8)."""
    body, redacted = redact_json_keys(request.body, _redaction_of(request.provider))
    try:
        body_text, encoding = body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        body_text, encoding = base64.b64encode(body).decode("ascii"), "base64"
    document: dict[str, Any] = {
        "provider": request.provider,
        "org_id": request.org_id,
        "received_at": request.received_at.isoformat(),
        "method": request.method,
        "path": request.path,
        "query": dict(request.query),
        "query_pairs": [list(pair) for pair in request.all_query_pairs()],
        "raw_query": request.raw_query,
        "headers": request.archivable_headers(),
        "source_ip": request.source_ip,
        "route_params": dict(request.route_params),
        "body_encoding": encoding,
        "body": body_text,
    }
    if redacted:
        document["redacted"] = redacted  # the body is not the bytes received (nor signed)
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def store_archive(
    key: str, document: bytes, *, provider: str, org_id: str, storage: ObjectStorage | None = None
) -> str:
    """Write an archive document under ``key``. The same key and bytes again (a redelivered
    queue message whose consumer crashed after archiving) overwrite it with itself."""
    bucket = get_settings().require("webhook_archive_bucket")
    (storage or ObjectStorage()).put_bytes(
        bucket,
        key,
        document,
        content_type="application/json",
        metadata={"provider": provider, "org-id": org_id},
    )
    return key


def archive_raw(request: RawWebhook, storage: ObjectStorage | None = None, *, key: str | None = None) -> str:
    """Store the request (:func:`archive_document`) under ``key`` (default: a new
    :func:`archive_key`) and return the key."""
    get_settings().require("webhook_archive_bucket")  # misconfiguration fails before the work
    return store_archive(
        key or archive_key(request),
        archive_document(request),
        provider=request.provider,
        org_id=request.org_id,
        storage=storage,
    )
