"""The media of a post: our objects (always under the org's prefix) or public URLs.

Networks that fetch media themselves (Instagram, Facebook) get a presigned GET URL of our
object; networks that take the bytes (LinkedIn image/video uploads, YouTube's resumable upload)
read them by byte range, so a video is never held whole in a Lambda's memory.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from hub.config import get_settings
from hub.errors import InvalidRequestError
from hub.social.models import MediaItem, ResolvedMedia
from hub.storage import s3_client


def _buckets() -> list[str]:
    settings = get_settings()
    return [b for b in (settings.media_uploads_bucket, settings.generated_content_bucket) if b]


def _head(bucket: str, key: str) -> dict[str, object] | None:
    try:
        head: dict[str, object] = s3_client().head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return head


def resolve(org_id: str, media: tuple[MediaItem, ...] | list[MediaItem]) -> tuple[ResolvedMedia, ...]:
    """Each item as an adapter takes it; InvalidRequestError naming ``content.media[i]`` for a key
    outside the org's prefix or an object that is not in the media-uploads or generated-content
    bucket (checked before anything is stored or sent)."""
    expires = get_settings().social_media_url_seconds
    resolved: list[ResolvedMedia] = []
    for index, item in enumerate(media):
        field = f"content.media[{index}]"
        if item.url is not None:
            resolved.append(ResolvedMedia(type=item.type, url=item.url, alt_text=item.alt_text))
            continue
        key = item.s3_key or ""
        if not key.startswith(f"{org_id}/"):
            raise InvalidRequestError(
                f"{field}.s3_key must be under the org's prefix '{org_id}/'", code="media_outside_org"
            )
        for bucket in _buckets():
            head = _head(bucket, key)
            if head is None:
                continue
            url = s3_client().generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires
            )
            size = head.get("ContentLength")
            content_type = head.get("ContentType")
            resolved.append(
                ResolvedMedia(
                    type=item.type,
                    url=url,
                    alt_text=item.alt_text,
                    bucket=bucket,
                    key=key,
                    size=size if isinstance(size, int) else None,
                    content_type=content_type if isinstance(content_type, str) else None,
                )
            )
            break
        else:
            raise InvalidRequestError(
                f"{field}.s3_key: no such object in the media-uploads or generated-content bucket",
                code="media_not_found",
            )
    return tuple(resolved)


def require_object(media: ResolvedMedia, index: int, network: str) -> tuple[str, str, int]:
    """Bucket, key and size of an item the network needs the bytes of; InvalidRequestError for a
    URL-only item (we never fetch arbitrary URLs on a caller's behalf)."""
    if media.bucket is None or media.key is None or media.size is None:
        raise InvalidRequestError(
            f"content.media[{index}].url: {network} takes the file's bytes; upload it to the media-uploads "
            "bucket and give its s3_key",
            code="media_needs_upload",
        )
    return media.bucket, media.key, media.size


def read_range(media: ResolvedMedia, start: int, end: int) -> bytes:
    """Bytes ``start``..``end`` (inclusive) of our object."""
    if media.bucket is None or media.key is None:
        raise InvalidRequestError("this media is not an object of ours", code="media_needs_upload")
    if start < 0 or end < start:
        raise ValueError(f"bad byte range {start}-{end}")
    response = s3_client().get_object(Bucket=media.bucket, Key=media.key, Range=f"bytes={start}-{end}")
    data: bytes = response["Body"].read()
    return data
