"""UploadUrlCreate, DownloadUrlCreate and ObjectPut with its write fallback
(docs/storage.md "Presigned URLs", "Write fallback").

ObjectPut: primary → secondary (recorded, so reads find it) → deferred (the bytes in chunks in
``STORAGE_TABLE``, a receipt the caller polls with the same idempotency key); the
StorageDeferredDrain schedule writes deferred objects when a backend is back.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field

from hub.aws import aws_client
from hub.config import get_settings
from hub.errors import (
    IdempotencyConflictError,
    InvalidRequestError,
    ProviderUnavailableError,
)
from hub.storage.backends import StorageBackend, backend, checksum, configured
from hub.storage.keys import MIB, OrgBucket, check_upload, org_key

# Lambda's synchronous invoke payload is at most 6 MB: base64 of 4.5 MiB (6,291,456 chars) plus
# the other fields fits.
MAX_PUT_BYTES = 4 * MIB + MIB // 2
MAX_PUT_BASE64 = 4 * ((MAX_PUT_BYTES + 2) // 3)
# A DynamoDB item is at most 400 KB: deferred bytes are kept in 300 KiB chunks.
CHUNK_BYTES = 300 * 1024


def _now() -> datetime:
    return datetime.now(UTC)


def _expires_in(value: int | None) -> int:
    settings = get_settings()
    if value is None:
        return min(settings.storage_url_default_seconds, settings.storage_url_max_seconds)
    if value < 1 or value > settings.storage_url_max_seconds:
        raise InvalidRequestError(
            f"invalid request: expires_in: must be 1 to {settings.storage_url_max_seconds} seconds",
            code="validation_error",
        )
    return value


# -- presigned URLs -----------------------------------------------------------------------------


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    org_id: str
    bucket: OrgBucket
    key: str = Field(min_length=1, max_length=1024)


class UploadUrlRequest(_Request):
    content_type: str = Field(min_length=3, max_length=255)
    content_length: int = Field(ge=1)
    expires_in: int | None = None


class DownloadUrlRequest(_Request):
    expires_in: int | None = None


class PresignedUrl(BaseModel):
    url: str
    method: Literal["PUT", "GET"]
    headers: dict[str, str] | None = None
    bucket: str
    key: str
    backend: str
    expires_in: int
    expires_at: datetime


def create_upload_url(request: UploadUrlRequest) -> PresignedUrl:
    key = org_key(request.org_id, request.key)
    check_upload(request.bucket, request.content_type, request.content_length)
    expires_in = _expires_in(request.expires_in)
    primary = backend("primary")
    bucket, physical_key = primary.location(request.bucket, key)
    url = primary.presign_put(
        bucket,
        physical_key,
        content_type=request.content_type,
        content_length=request.content_length,
        expires_in=expires_in,
    )
    return PresignedUrl(
        url=url,
        method="PUT",
        headers={"Content-Type": request.content_type, "Content-Length": str(request.content_length)},
        bucket=request.bucket,
        key=key,
        backend=primary.name,
        expires_in=expires_in,
        expires_at=_now() + timedelta(seconds=expires_in),
    )


def create_download_url(request: DownloadUrlRequest) -> PresignedUrl:
    key = org_key(request.org_id, request.key)
    expires_in = _expires_in(request.expires_in)
    where = _location(request.org_id, request.bucket, key)
    store = backend(where)
    bucket, physical_key = store.location(request.bucket, key)
    return PresignedUrl(
        url=store.presign_get(bucket, physical_key, expires_in=expires_in),
        method="GET",
        bucket=request.bucket,
        key=key,
        backend=store.name,
        expires_in=expires_in,
        expires_at=_now() + timedelta(seconds=expires_in),
    )


# -- the storage table: locations, receipts, deferred chunks -----------------------------------


def _table() -> str:
    return get_settings().require("storage_table")


def _ddb(operation: str, **params: Any) -> Any:
    try:
        return getattr(aws_client("dynamodb"), operation)(TableName=_table(), **params)
    except (ClientError, BotoCoreError) as exc:
        raise ProviderUnavailableError(
            f"storage table unavailable ({type(exc).__name__})", provider="dynamodb", code="unavailable"
        ) from None


def _loc_key(org_id: str, bucket: str, key: str) -> dict[str, Any]:
    return {"pk": {"S": f"LOC#{org_id}#{bucket}#{key}"}, "sk": {"S": "LOC"}}


def _location(org_id: str, bucket: str, key: str) -> Literal["primary", "secondary"]:
    """Which backend holds the object: the secondary when ObjectPut wrote it there."""
    if not get_settings().storage_table:
        return "primary"
    item = _ddb("get_item", Key=_loc_key(org_id, bucket, key), ConsistentRead=True).get("Item")
    if item and item.get("backend", {}).get("S") == "secondary" and configured("secondary"):
        return "secondary"
    return "primary"


def _record_location(org_id: str, bucket: str, key: str, where: str, digest: str, size: int) -> None:
    if where == "primary":
        _ddb("delete_item", Key=_loc_key(org_id, bucket, key))
        return
    item = {
        **_loc_key(org_id, bucket, key),
        "backend": {"S": where},
        "sha256": {"S": digest},
        "size": {"N": str(size)},
        "updated_at": {"S": _now().isoformat()},
    }
    _ddb("put_item", Item=item)


# -- ObjectPut -----------------------------------------------------------------------------------


class ObjectPutRequest(_Request):
    content_base64: str = Field(min_length=0, max_length=MAX_PUT_BASE64)
    content_type: str = Field(min_length=3, max_length=255)
    idempotency_key: str = Field(min_length=1, max_length=255)


class ObjectPutResult(BaseModel):
    receipt_id: str
    status: Literal["written", "deferred"]
    backend: Literal["primary", "secondary"] | None = None
    bucket: str
    key: str
    size: int
    sha256: str


def receipt_id_for(org_id: str, idempotency_key: str) -> str:
    return "rcpt_" + hashlib.sha256(f"{org_id}\0{idempotency_key}".encode()).hexdigest()[:32]


def _receipt_key(receipt_id: str, sk: str = "META") -> dict[str, Any]:
    return {"pk": {"S": f"RCPT#{receipt_id}"}, "sk": {"S": sk}}


def _result(item: dict[str, Any]) -> ObjectPutResult:
    return ObjectPutResult(
        receipt_id=item["receipt_id"]["S"],
        status=item["status"]["S"],
        backend=item["backend"]["S"] if "backend" in item else None,
        bucket=item["bucket"]["S"],
        key=item["key"]["S"],
        size=int(item["size"]["N"]),
        sha256=item["sha256"]["S"],
    )


def _decode(content_base64: str) -> bytes:
    try:
        data = base64.b64decode(content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequestError(
            "invalid request: content_base64: not valid base64", code="validation_error"
        ) from None
    if len(data) > MAX_PUT_BYTES:
        raise InvalidRequestError(
            f"invalid request: content_base64: at most {MAX_PUT_BYTES} bytes (use UploadUrlCreate)",
            code="validation_error",
        )
    return data


def _write(bucket: str, key: str, data: bytes, content_type: str) -> StorageBackend | None:
    """Write to the primary, else the secondary; the backend written to, None when both are down."""
    names = ["primary"] + (["secondary"] if configured("secondary") else [])
    for name in names:
        store = backend(name)  # type: ignore[arg-type]
        physical_bucket, physical_key = store.location(bucket, key)
        try:
            store.put(physical_bucket, physical_key, data, content_type=content_type)
        except ProviderUnavailableError:
            continue
        return store
    return None


def put_object(request: ObjectPutRequest) -> ObjectPutResult:
    """Validate everything first, then answer an earlier receipt for this idempotency key, else
    write (primary → secondary → deferred)."""
    key = org_key(request.org_id, request.key)
    data = _decode(request.content_base64)
    check_upload(request.bucket, request.content_type, len(data))
    digest = checksum(data)
    receipt_id = receipt_id_for(request.org_id, request.idempotency_key)

    existing = _ddb("get_item", Key=_receipt_key(receipt_id), ConsistentRead=True).get("Item")
    if existing:
        same = (
            existing["bucket"]["S"] == request.bucket
            and existing["key"]["S"] == key
            and existing["sha256"]["S"] == digest
        )
        if not same:
            raise IdempotencyConflictError(
                "idempotency_key: already used for another object or content; use a new key",
                code="idempotency_conflict",
            )
        return _result(existing)

    meta: dict[str, Any] = {
        **_receipt_key(receipt_id),
        "receipt_id": {"S": receipt_id},
        "org_id": {"S": request.org_id},
        "bucket": {"S": request.bucket},
        "key": {"S": key},
        "content_type": {"S": request.content_type},
        "size": {"N": str(len(data))},
        "sha256": {"S": digest},
        "created_at": {"S": _now().isoformat()},
    }
    written = _write(request.bucket, key, data, request.content_type)
    if written is not None:
        _record_location(request.org_id, request.bucket, key, written.name, digest, len(data))
        meta.update({"status": {"S": "written"}, "backend": {"S": written.name}, "written_at": meta["created_at"]})
        _ddb("put_item", Item=meta)
        return _result(meta)

    # Both backends down: the bytes wait in the table (chunks first, then the receipt and the
    # pending marker, so a receipt never points at missing chunks).
    chunks = [data[i : i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES)] or [b""]
    for index, chunk in enumerate(chunks):
        _ddb("put_item", Item={**_receipt_key(receipt_id, f"CHUNK#{index:05d}"), "data": {"B": chunk}})
    meta.update({"status": {"S": "deferred"}, "chunks": {"N": str(len(chunks))}})
    _ddb("put_item", Item=meta)
    _ddb(
        "put_item",
        Item={"pk": {"S": "PENDING"}, "sk": {"S": f"{meta['created_at']['S']}#{receipt_id}"}, **_rid(receipt_id)},
    )
    return _result(meta)


def _rid(receipt_id: str) -> dict[str, Any]:
    return {"receipt_id": {"S": receipt_id}}


# -- StorageDeferredDrain ------------------------------------------------------------------------


class DrainResult(BaseModel):
    written: int = 0
    still_deferred: int = 0
    bytes: int = 0


def _query_all(**params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = _ddb("query", ConsistentRead=True, **params)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def drain_deferred(limit: int = 100) -> DrainResult:
    """Write deferred objects (oldest first) to the primary, else the secondary. Stops at the first
    object no backend accepts: they are all still down; the next run tries again."""
    result = DrainResult()
    pending = _query_all(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "PENDING"}})
    batch = pending[:limit]
    for index, marker in enumerate(batch):
        receipt_id = marker["receipt_id"]["S"]
        parts = _query_all(
            KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": f"RCPT#{receipt_id}"}}
        )
        meta = next((p for p in parts if p["sk"]["S"] == "META"), None)
        if meta is None or meta["status"]["S"] != "deferred":
            _ddb("delete_item", Key={"pk": marker["pk"], "sk": marker["sk"]})
            continue
        chunks = sorted((p for p in parts if p["sk"]["S"].startswith("CHUNK#")), key=lambda p: p["sk"]["S"])
        data = b"".join(bytes(p["data"]["B"]) for p in chunks)
        if len(chunks) != int(meta["chunks"]["N"]) or checksum(data) != meta["sha256"]["S"]:
            # Never write a damaged object; left deferred for an operator (docs/storage.md).
            result.still_deferred += 1
            continue
        written = _write(meta["bucket"]["S"], meta["key"]["S"], data, meta["content_type"]["S"])
        if written is None:
            result.still_deferred += len(batch) - index
            return result
        _record_location(
            meta["org_id"]["S"], meta["bucket"]["S"], meta["key"]["S"], written.name, meta["sha256"]["S"], len(data)
        )
        _ddb(
            "update_item",
            Key=_receipt_key(receipt_id),
            UpdateExpression="SET #s = :w, #b = :b, written_at = :t REMOVE chunks",
            ExpressionAttributeNames={"#s": "status", "#b": "backend"},
            ExpressionAttributeValues={
                ":w": {"S": "written"},
                ":b": {"S": written.name},
                ":t": {"S": _now().isoformat()},
            },
        )
        for chunk in chunks:
            _ddb("delete_item", Key={"pk": chunk["pk"], "sk": chunk["sk"]})
        _ddb("delete_item", Key={"pk": marker["pk"], "sk": marker["sk"]})
        result.written += 1
        result.bytes += len(data)
    return result
