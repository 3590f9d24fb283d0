"""One storage port over S3-compatible backends (docs/storage.md "Backends and R2 mode").

Three named backends, each configured by settings (hub.config, ``STORAGE_<NAME>_*``):

- ``primary``: the hub's own buckets (AWS S3, or ``STORAGE_ENDPOINT_URL`` /
  ``STORAGE_PRIMARY_ENDPOINT_URL``); a logical bucket maps to its own physical bucket.
- ``secondary``: where ObjectPut writes when the primary is down (Cloudflare R2 in production;
  another moto bucket locally); one bucket, objects under ``{logical_bucket}/{key}``.
- ``backup``: where StorageBackupRun copies to; one bucket, same layout as the secondary.

Each backend has a mode: ``s3`` (AWS S3), ``r2`` (Cloudflare R2) or ``s3-compatible`` (any other
server through its endpoint). R2 mode refuses, before any call, what R2 does not implement: object
lock, ACLs, tagging, SSE-KMS and presigned POST
(https://developers.cloudflare.com/r2/api/s3/api/ — PutObject: x-amz-acl, x-amz-object-lock-*,
x-amz-tagging and SSE-KMS headers are "not implemented"; PostObject is not implemented).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from hub.config import Settings, get_settings
from hub.errors import (
    AuthenticationError,
    ConfigurationError,
    HubError,
    InvalidRequestError,
    ProviderUnavailableError,
)

# The backup backend is hub.backups' (BACKUP_* settings, StorageBackupRun): one configuration for it.
BackendName = Literal["primary", "secondary"]
BACKEND_NAMES: tuple[BackendName, ...] = ("primary", "secondary")
Mode = Literal["s3", "r2", "s3-compatible"]

# The hub's logical buckets (seed §9) and the settings naming their physical bucket on the primary.
LOGICAL_BUCKETS: dict[str, str] = {
    "media-uploads": "media_uploads_bucket",
    "generated-content": "generated_content_bucket",
    "contracts": "contracts_bucket",
    "invoices": "invoices_bucket",
    "exports": "exports_bucket",
    "public-assets": "public_assets_bucket",
    "backups": "backups_bucket",
}

# Object metadata key carrying the SHA-256 of the bytes, so a copy on another backend is
# verifiable whatever its ETag (multipart ETags are not MD5s; R2's differ from S3's).
CHECKSUM_METADATA = "sha256"


def checksum(data: bytes) -> str:
    """The hub's object checksum: lowercase hex SHA-256 of the bytes."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class StoredObject:
    bucket: str
    key: str
    size: int
    etag: str | None = None
    checksum: str | None = None  # sha256 hex, when written by the hub (metadata) or computed
    content_type: str | None = None
    last_modified: datetime | None = None


@dataclass(frozen=True)
class BackendConfig:
    name: BackendName
    mode: Mode
    endpoint_url: str | None
    region: str | None
    bucket: str | None  # secondary/backup: their one bucket; primary: None (per logical bucket)
    access_key_id: str | None = None
    secret_access_key: str | None = None
    connect_timeout: float = 2.0
    read_timeout: float = 10.0
    max_attempts: int = 2


def _r2_refuse(option: str) -> ConfigurationError:
    return ConfigurationError(
        f"{option} is not supported by Cloudflare R2 (R2 mode): refused before any call",
        code="r2_unsupported",
        details={"option": option},
    )


class StorageBackend:
    """put / get / head / list / copy / delete / presign over one S3-compatible client.

    Errors: :class:`ProviderUnavailableError` (connect error, timeout, 5xx: the backend is down,
    ``provider`` = ``storage:<name>``), :class:`InvalidRequestError` (missing object, code
    ``not_found``), :class:`AuthenticationError` (403), :class:`ConfigurationError` (R2 mode
    refusals, missing bucket settings)."""

    def __init__(self, config: BackendConfig, client: Any = None, settings: Settings | None = None) -> None:
        self.config = config
        self._client = client
        self._settings = settings

    @property
    def name(self) -> BackendName:
        return self.config.name

    @property
    def mode(self) -> Mode:
        return self.config.mode

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = _client_for(self.config)
        return self._client

    checksum = staticmethod(checksum)

    # -- where a logical bucket lives on this backend -------------------------------------------

    def location(self, logical_bucket: str, key: str) -> tuple[str, str]:
        """(physical bucket, key) of ``key`` of ``logical_bucket`` on this backend."""
        if logical_bucket not in LOGICAL_BUCKETS:
            raise InvalidRequestError(f"bucket: unknown bucket {logical_bucket!r}", code="validation_error")
        if self.config.bucket:
            return self.config.bucket, f"{logical_bucket}/{key}"
        settings = self._settings or get_settings()
        field = LOGICAL_BUCKETS[logical_bucket]
        physical = getattr(settings, field)
        if not physical:
            alias = type(settings).model_fields[field].alias
            raise ConfigurationError(f"environment variable {alias} is not set")
        return str(physical), key

    # -- R2 mode ----------------------------------------------------------------------------------

    def check_options(
        self,
        *,
        acl: str | None = None,
        tagging: Mapping[str, str] | None = None,
        sse_kms_key_id: str | None = None,
        object_lock_mode: str | None = None,
        object_lock_retain_until: datetime | None = None,
        object_lock_legal_hold: bool | None = None,
    ) -> None:
        """Refuse, before any call, the options this backend's mode cannot honour."""
        if self.mode != "r2":
            return
        if acl is not None:
            raise _r2_refuse("acl")
        if tagging:
            raise _r2_refuse("tagging")
        if sse_kms_key_id is not None:
            raise _r2_refuse("sse_kms_key_id")
        if object_lock_mode is not None or object_lock_retain_until is not None or object_lock_legal_hold:
            raise _r2_refuse("object_lock")

    # -- operations -------------------------------------------------------------------------------

    def put(
        self,
        bucket: str,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        metadata: Mapping[str, str] | None = None,
        acl: str | None = None,
        tagging: Mapping[str, str] | None = None,
        sse_kms_key_id: str | None = None,
        object_lock_mode: str | None = None,
        object_lock_retain_until: datetime | None = None,
    ) -> StoredObject:
        self.check_options(
            acl=acl,
            tagging=tagging,
            sse_kms_key_id=sse_kms_key_id,
            object_lock_mode=object_lock_mode,
            object_lock_retain_until=object_lock_retain_until,
        )
        digest = checksum(data)
        params: dict[str, Any] = {
            "Bucket": bucket,
            "Key": key,
            "Body": data,
            "ContentType": content_type,
            "Metadata": {**dict(metadata or {}), CHECKSUM_METADATA: digest},
        }
        if acl is not None:
            params["ACL"] = acl
        if tagging:
            from urllib.parse import urlencode

            params["Tagging"] = urlencode(dict(tagging))
        if sse_kms_key_id is not None:
            params["ServerSideEncryption"] = "aws:kms"
            params["SSEKMSKeyId"] = sse_kms_key_id
        if object_lock_mode is not None:
            params["ObjectLockMode"] = object_lock_mode
        if object_lock_retain_until is not None:
            params["ObjectLockRetainUntilDate"] = object_lock_retain_until
        response = self._call("put_object", **params)
        return StoredObject(
            bucket=bucket,
            key=key,
            size=len(data),
            etag=response.get("ETag"),
            checksum=digest,
            content_type=content_type,
        )

    def get(self, bucket: str, key: str) -> bytes:
        response = self._call("get_object", Bucket=bucket, Key=key)
        body: bytes = response["Body"].read()
        return body

    def head(self, bucket: str, key: str) -> StoredObject | None:
        """The object's size, ETag and checksum, or None when it does not exist."""
        try:
            response = self._call("head_object", Bucket=bucket, Key=key)
        except InvalidRequestError as exc:
            if exc.code == "not_found":
                return None
            raise
        return StoredObject(
            bucket=bucket,
            key=key,
            size=int(response.get("ContentLength", 0)),
            etag=response.get("ETag"),
            checksum=(response.get("Metadata") or {}).get(CHECKSUM_METADATA),
            content_type=response.get("ContentType"),
            last_modified=response.get("LastModified"),
        )

    def list(self, bucket: str, prefix: str = "", *, start_after: str | None = None) -> Iterator[StoredObject]:
        """Every object under ``prefix`` in key order (checksum not included: ``head`` it)."""
        params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        if start_after:
            params["StartAfter"] = start_after
        while True:
            page = self._call("list_objects_v2", **params)
            for item in page.get("Contents", []):
                yield StoredObject(
                    bucket=bucket,
                    key=item["Key"],
                    size=int(item.get("Size", 0)),
                    etag=item.get("ETag"),
                    last_modified=item.get("LastModified"),
                )
            if not page.get("IsTruncated"):
                return
            params["ContinuationToken"] = page["NextContinuationToken"]
            params.pop("StartAfter", None)

    def copy(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str) -> StoredObject:
        """Server-side copy within this backend (metadata, hence the checksum, carried over)."""
        self._call(
            "copy_object",
            Bucket=dst_bucket,
            Key=dst_key,
            CopySource={"Bucket": src_bucket, "Key": src_key},
            MetadataDirective="COPY",
        )
        stored = self.head(dst_bucket, dst_key)
        if stored is None:  # pragma: no cover - a copy that answered 200 exists
            raise ProviderUnavailableError(f"storage {self.name}: copy not found after copy", provider=self.provider)
        return stored

    def delete(self, bucket: str, key: str) -> None:
        self._call("delete_object", Bucket=bucket, Key=key)

    def presign_get(self, bucket: str, key: str, *, expires_in: int) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_in
        )
        return url

    def presign_put(self, bucket: str, key: str, *, content_type: str, content_length: int, expires_in: int) -> str:
        """A PUT URL whose signature covers Content-Type and Content-Length: an upload with another
        type or size does not match the signature and is refused by the server."""
        url: str = self.client.generate_presigned_url(
            "put_object",
            Params={"Bucket": bucket, "Key": key, "ContentType": content_type, "ContentLength": content_length},
            ExpiresIn=expires_in,
        )
        return url

    def presigned_post(self, bucket: str, key: str, *, expires_in: int, conditions: Sequence[Any] | None = None) -> Any:
        if self.mode == "r2":
            raise _r2_refuse("presigned_post")
        return self.client.generate_presigned_post(bucket, key, Conditions=list(conditions or []), ExpiresIn=expires_in)

    # -- errors -----------------------------------------------------------------------------------

    @property
    def provider(self) -> str:
        return f"storage:{self.name}"

    def _call(self, operation: str, **params: Any) -> Any:
        try:
            return getattr(self.client, operation)(**params)
        except ClientError as exc:
            raise self._client_error(exc, operation) from None
        except BotoCoreError as exc:
            # EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError...: down for us.
            raise ProviderUnavailableError(
                f"storage {self.name} unavailable ({type(exc).__name__})", provider=self.provider, code="unavailable"
            ) from None

    def _client_error(self, exc: ClientError, operation: str) -> HubError:
        error = exc.response.get("Error", {})
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        code = str(error.get("Code") or status)
        if status >= 500 or code in {"SlowDown", "ServiceUnavailable", "InternalError"}:
            return ProviderUnavailableError(
                f"storage {self.name} unavailable ({code})",
                provider=self.provider,
                http_status=status,
                code="unavailable",
            )
        if status == 404 or code in {"NoSuchKey", "NotFound", "404"}:
            return InvalidRequestError(
                f"storage {self.name}: object not found", provider=self.provider, http_status=404, code="not_found"
            )
        if code == "NoSuchBucket":
            return ConfigurationError(f"storage {self.name}: bucket does not exist", provider=self.provider, code=code)
        if status in (401, 403):
            return AuthenticationError(
                f"storage {self.name}: access denied ({operation})", provider=self.provider, http_status=status
            )
        return InvalidRequestError(
            f"storage {self.name}: {operation} refused ({code})", provider=self.provider, http_status=status, code=code
        )


# -- configuration ----------------------------------------------------------------------------------

_CLIENTS: dict[BackendConfig, Any] = {}
_LOCK = threading.Lock()


def _client_for(config: BackendConfig) -> Any:
    """One boto3 client per backend configuration per container."""
    with _LOCK:
        client = _CLIENTS.get(config)
        if client is None:
            s3: dict[str, Any] = {"addressing_style": "path" if config.endpoint_url else "auto"}
            options: dict[str, Any] = {
                "signature_version": "s3v4",
                "s3": s3,
                "retries": {"mode": "standard", "max_attempts": config.max_attempts},
                "connect_timeout": config.connect_timeout,
                "read_timeout": config.read_timeout,
            }
            if config.mode == "r2":
                # R2 does not implement the SDKs' default CRC checksums on every request: compute and
                # validate them only when an operation requires it.
                # https://developers.cloudflare.com/r2/examples/aws/boto3/
                options["request_checksum_calculation"] = "when_required"
                options["response_checksum_validation"] = "when_required"
                s3["addressing_style"] = "path"
            client = boto3.client(
                "s3",
                endpoint_url=config.endpoint_url,
                # R2's region is "auto" (https://developers.cloudflare.com/r2/api/s3/api/, Bucket region).
                region_name="auto" if config.mode == "r2" else config.region,
                aws_access_key_id=config.access_key_id,
                aws_secret_access_key=config.secret_access_key,
                config=Config(**options),
            )
            _CLIENTS[config] = client
        return client


def _credentials(secret_name: str | None) -> tuple[str | None, str | None]:
    """Keys of a backend outside AWS (R2 API token): a Secrets Manager secret
    ``{"access_key_id": ..., "secret_access_key": ...}``; None = the default credential chain."""
    if not secret_name:
        return None, None
    from hub.aws import aws_client

    try:
        raw = aws_client("secretsmanager").get_secret_value(SecretId=secret_name)["SecretString"]
        value = json.loads(raw)
        return str(value["access_key_id"]), str(value["secret_access_key"])
    except (ClientError, KeyError, ValueError, TypeError) as exc:
        raise ConfigurationError(
            f"storage backend secret {secret_name!r} is missing or malformed ({type(exc).__name__})"
        ) from None


def backend_config(name: BackendName, settings: Settings | None = None) -> BackendConfig:
    settings = settings or get_settings()
    timeouts = settings.storage_backend_connect_timeout, settings.storage_backend_read_timeout
    attempts = settings.storage_backend_max_attempts
    if name == "primary":
        key_id, secret = _credentials(settings.storage_primary_secret)
        return BackendConfig(
            name="primary",
            mode=settings.storage_primary_mode,
            endpoint_url=settings.storage_primary_endpoint_url or settings.storage_endpoint_url,
            region=settings.storage_region,
            bucket=None,
            access_key_id=key_id,
            secret_access_key=secret,
            connect_timeout=timeouts[0],
            read_timeout=timeouts[1],
            max_attempts=attempts,
        )
    if name != "secondary":
        raise InvalidRequestError(f"backend: unknown storage backend {name!r}", code="validation_error")
    bucket = getattr(settings, f"storage_{name}_bucket")
    if not bucket:
        alias = type(settings).model_fields[f"storage_{name}_bucket"].alias
        raise ConfigurationError(f"storage backend {name} is not configured: environment variable {alias} is not set")
    key_id, secret = _credentials(getattr(settings, f"storage_{name}_secret"))
    return BackendConfig(
        name=name,
        mode=getattr(settings, f"storage_{name}_mode"),
        endpoint_url=getattr(settings, f"storage_{name}_endpoint_url"),
        region=getattr(settings, f"storage_{name}_region"),
        bucket=str(bucket),
        access_key_id=key_id,
        secret_access_key=secret,
        connect_timeout=timeouts[0],
        read_timeout=timeouts[1],
        max_attempts=attempts,
    )


def backend(name: BackendName) -> StorageBackend:
    """The storage backend ``name`` (``primary`` | ``secondary`` | ``backup``) as configured now."""
    settings = get_settings()
    return StorageBackend(backend_config(name, settings), settings=settings)


def configured(name: BackendName) -> bool:
    """Whether ``name`` is configured (the primary always is)."""
    settings = get_settings()
    return name == "primary" or bool(getattr(settings, f"storage_{name}_bucket"))
