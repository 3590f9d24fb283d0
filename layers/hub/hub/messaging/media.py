"""Files from our own buckets, sent as WhatsApp media (presigned URL) or email attachments.

Only the buckets that hold sendable content are allowed (media uploads, generated
content, invoices, exports, public assets — never the webhook archive or backups), and
only keys under the requesting org's prefix (``{org_id}/…``): one org can never send
another's files.
"""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from hub.config import get_settings
from hub.errors import InvalidRequestError, ProviderUnavailableError
from hub.storage import ObjectStorage

# Long enough for a provider to fetch a media message that waited in a queue.
MEDIA_URL_SECONDS = 24 * 3600


class StoredObject(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    bucket: str = Field(min_length=3, max_length=63)
    key: str = Field(min_length=1, max_length=1024)

    @property
    def filename(self) -> str:
        return PurePosixPath(self.key).name

    @property
    def content_type(self) -> str | None:
        return mimetypes.guess_type(self.filename)[0]


def sendable_buckets() -> set[str]:
    settings = get_settings()
    names = (
        settings.media_uploads_bucket,
        settings.generated_content_bucket,
        settings.invoices_bucket,
        settings.exports_bucket,
        settings.public_assets_bucket,
    )
    return {name for name in names if name}


def check_object(org_id: str, stored: StoredObject, *, field: str) -> None:
    if stored.bucket not in sendable_buckets():
        raise InvalidRequestError(f"{field}.bucket is not one of the hub's sendable buckets", code="invalid_bucket")
    parts = PurePosixPath(stored.key).parts
    if not stored.key.startswith(f"{org_id}/") or ".." in parts:
        raise InvalidRequestError(f"{field}.key must be under the org's prefix '{org_id}/'", code="invalid_key")


def presigned_url(org_id: str, stored: StoredObject, *, field: str = "media") -> str:
    check_object(org_id, stored, field=field)
    return ObjectStorage().presigned_get_url(stored.bucket, stored.key, expires_in=MEDIA_URL_SECONDS)


def read_object(org_id: str, stored: StoredObject, *, field: str, max_bytes: int) -> bytes:
    check_object(org_id, stored, field=field)
    storage = ObjectStorage()
    try:
        head = storage.client.head_object(Bucket=stored.bucket, Key=stored.key)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("404", "NoSuchKey", "NotFound"):
            raise InvalidRequestError(f"{field}: no such object", code="not_found") from None
        raise ProviderUnavailableError(f"{field}: storage unavailable", provider="storage") from exc
    if int(head.get("ContentLength", 0)) > max_bytes:
        raise InvalidRequestError(f"{field} is larger than {max_bytes} bytes", code="too_large")
    return storage.get_bytes(stored.bucket, stored.key)
