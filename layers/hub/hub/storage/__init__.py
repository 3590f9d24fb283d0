"""S3-compatible object storage (docs/storage.md).

``s3_client`` / ``ObjectStorage``: the hub's own buckets through ``STORAGE_ENDPOINT_URL`` (unset
means AWS S3; set, any S3-compatible server, R2 or the local moto server), used by every module
that stores files. Path-style addressing is used with a custom endpoint (R2 and most
S3-compatible servers expect it).

The storage port over several backends (primary, secondary, backup), R2 mode, org-scoped keys,
presigned URLs and the write fallback live in the submodules; :func:`backend` is the entry point
other packages (backups) use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import boto3
from botocore.config import Config

from hub.config import get_settings
from hub.storage.backends import BACKEND_NAMES, StorageBackend, StoredObject, backend

__all__ = ["BACKEND_NAMES", "ObjectStorage", "StorageBackend", "StoredObject", "backend", "s3_client"]

_client: Any = None


def s3_client() -> Any:
    global _client
    if _client is None:
        settings = get_settings()
        config = Config(
            # SigV4 for presigned URLs too (botocore may sign them with SigV2 against a custom
            # endpoint; R2 and current S3 regions accept only SigV4).
            signature_version="s3v4",
            s3={"addressing_style": "path" if settings.storage_endpoint_url else "auto"},
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=3,
            read_timeout=10,
        )
        _client = boto3.client(
            "s3",
            endpoint_url=settings.storage_endpoint_url,
            region_name=settings.storage_region,
            config=config,
        )
    return _client


class ObjectStorage:
    """put / get / presigned URL over one S3-compatible client."""

    def __init__(self, client: Any = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or s3_client()

    def put_bytes(
        self,
        bucket: str,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        metadata: Mapping[str, str] | None = None,
    ) -> str:
        self.client.put_object(
            Bucket=bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            Metadata=dict(metadata or {}),
        )
        return key

    def get_bytes(self, bucket: str, key: str) -> bytes:
        response = self.client.get_object(Bucket=bucket, Key=key)
        body: bytes = response["Body"].read()
        return body

    def presigned_get_url(self, bucket: str, key: str, *, expires_in: int = 3600) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_in
        )
        return url

    def head_bucket(self, bucket: str) -> None:
        self.client.head_bucket(Bucket=bucket)
