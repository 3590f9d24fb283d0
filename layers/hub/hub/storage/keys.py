"""Logical buckets open to the org-facing functions, their upload limits, and org-scoped keys
(docs/storage.md "Buckets", "Presigned URLs")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hub.errors import InvalidRequestError

# ``backups`` is admin only: never through UploadUrlCreate / DownloadUrlCreate / ObjectPut.
OrgBucket = Literal["media-uploads", "generated-content", "contracts", "invoices", "exports", "public-assets"]

MIB = 1024 * 1024


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    content_types: frozenset[str]


UPLOAD_LIMITS: dict[str, UploadLimits] = {
    "media-uploads": UploadLimits(
        100 * MIB,
        frozenset(
            {
                "image/jpeg",
                "image/png",
                "image/webp",
                "image/gif",
                "video/mp4",
                "video/quicktime",
                "audio/mpeg",
                "audio/ogg",
                "application/pdf",
            }
        ),
    ),
    "generated-content": UploadLimits(
        100 * MIB,
        frozenset({"image/jpeg", "image/png", "image/webp", "application/pdf", "video/mp4", "text/html"}),
    ),
    "contracts": UploadLimits(25 * MIB, frozenset({"application/pdf"})),
    "invoices": UploadLimits(10 * MIB, frozenset({"application/pdf", "application/xml", "text/xml"})),
    "exports": UploadLimits(
        500 * MIB,
        frozenset(
            {
                "text/csv",
                "application/json",
                "application/zip",
                "application/pdf",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            }
        ),
    ),
    "public-assets": UploadLimits(
        10 * MIB,
        frozenset(
            {
                "image/jpeg",
                "image/png",
                "image/webp",
                "image/svg+xml",
                "image/x-icon",
                "text/css",
                "font/woff2",
                "font/ttf",
            }
        ),
    ),
}

# S3 and R2 keys are at most 1,024 bytes of UTF-8.
MAX_KEY_BYTES = 1024


def org_key(org_id: str, key: str, *, field: str = "key") -> str:
    """``key`` if it is a safe object key under ``{org_id}/``; InvalidRequestError naming
    ``field`` otherwise (absolute, ``..``/``.``/empty segments, backslash, control characters,
    another org's prefix). The message never echoes the key."""

    def refuse(why: str) -> InvalidRequestError:
        return InvalidRequestError(f"invalid request: {field}: {why}", code="validation_error")

    if not isinstance(key, str) or not key:
        raise refuse("must be a non-empty string")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise refuse(f"at most {MAX_KEY_BYTES} bytes")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in key):
        raise refuse("must not contain control characters")
    if key.startswith("/") or "\\" in key:
        raise refuse("must be a relative key with '/' separators")
    segments = key.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise refuse("must not contain empty, '.' or '..' segments")
    if segments[0] != org_id or len(segments) < 2:
        raise refuse("must be under the org's prefix '{org_id}/'")
    return key


def check_upload(bucket: str, content_type: str, size: int) -> None:
    """The bucket's content-type allow-list and size limit."""
    limits = UPLOAD_LIMITS[bucket]
    if content_type.split(";")[0].strip().lower() not in limits.content_types:
        raise InvalidRequestError(
            f"invalid request: content_type: not accepted in {bucket} "
            f"(allowed: {', '.join(sorted(limits.content_types))})",
            code="validation_error",
        )
    if size > limits.max_bytes:
        raise InvalidRequestError(
            f"invalid request: content_length: at most {limits.max_bytes} bytes in {bucket}", code="validation_error"
        )
