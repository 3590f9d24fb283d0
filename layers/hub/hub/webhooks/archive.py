"""The raw archive: every authenticated webhook, byte for byte, before any processing."""

from __future__ import annotations

import base64
import json
import uuid

from hub.config import get_settings
from hub.storage import ObjectStorage
from hub.webhooks.models import RawWebhook


def archive_key(request: RawWebhook) -> str:
    ts = request.received_at
    return f"raw/{request.provider}/{request.org_id}/{ts:%Y/%m/%d}/{ts:%H%M%S%f}-{uuid.uuid4().hex}.json"


def archive_raw(request: RawWebhook, storage: ObjectStorage | None = None) -> str:
    """Store the request (headers minus secrets, exact body) and return its S3 key."""
    bucket = get_settings().require("webhook_archive_bucket")
    try:
        body_text, encoding = request.body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        body_text, encoding = base64.b64encode(request.body).decode("ascii"), "base64"
    document = {
        "provider": request.provider,
        "org_id": request.org_id,
        "received_at": request.received_at.isoformat(),
        "method": request.method,
        "path": request.path,
        "query": dict(request.query),
        "headers": request.archivable_headers(),
        "source_ip": request.source_ip,
        "route_params": dict(request.route_params),
        "body_encoding": encoding,
        "body": body_text,
    }
    key = archive_key(request)
    (storage or ObjectStorage()).put_bytes(
        bucket,
        key,
        json.dumps(document, ensure_ascii=False).encode("utf-8"),
        content_type="application/json",
        metadata={"provider": request.provider, "org-id": request.org_id},
    )
    return key
