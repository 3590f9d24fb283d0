"""Backups of the hub's buckets and tables to a backup backend, and their restore.

``StorageBackupRun`` copies new and changed objects of the chosen buckets to the backup
backend under ``{bucket}/{key}`` (bucket = the seed's logical name, e.g. ``media-uploads``),
streamed in parts with a SHA-256 computed on the way and verified by reading the copy back
(size + checksum; ETags differ across multipart uploads and backends, so they are never
compared across backends). A DynamoDB manifest records every verified copy (and each version:
a changed object's previous copy is kept under ``_versions/``), the listing's continuation
point of a pass that ran out of time, and copies that failed, so a run is incremental and the
next one resumes where the last stopped. Tables are exported as gzipped DynamoDB-JSON lines
under ``_tables/``. :func:`restore` brings objects back, checked against the manifest's
checksum before anything is overwritten. docs/storage.md "Backups and restore".

Clients: :func:`backup_client` is the only place the backup backend's client is built;
:func:`source_client` builds the primary storage's (STORAGE_ENDPOINT_URL).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field

from hub.aws import aws_client
from hub.config import get_settings
from hub.errors import ConfigurationError, InvalidRequestError, ProviderUnavailableError
from hub.observability import logger
from hub.requests import OrgId
from hub.runtime import remaining_seconds

BucketName = Literal["media-uploads", "generated-content", "contracts", "invoices", "exports", "public-assets"]
TableName = Literal["orgs", "payments", "integrations", "audit"]
DEFAULT_BUCKETS: tuple[BucketName, ...] = ("media-uploads", "generated-content", "contracts", "invoices")
DEFAULT_TABLES: tuple[TableName, ...] = ("orgs", "payments", "integrations", "audit")
VERSIONS_PREFIX = "_versions"
TABLES_PREFIX = "_tables"
_MAX_REPORTED_FAILURES = 20

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


# ----------------------------------------------------------------- clients


def _s3(endpoint_url: str | None, region: str | None, *, r2: bool, keys: dict[str, str] | None = None) -> Any:
    options: dict[str, Any] = {
        "signature_version": "s3v4",
        "s3": {"addressing_style": "path" if endpoint_url else "auto"},
        "retries": {"mode": "standard", "max_attempts": 3},
        "connect_timeout": 3,
        "read_timeout": 30,
    }
    if r2:
        # R2's region is "auto" (https://developers.cloudflare.com/r2/api/s3/api/); current SDKs'
        # default checksums are sent only when an operation requires them, as Cloudflare's SDK
        # examples configure (https://developers.cloudflare.com/r2/examples/aws/aws-sdk-js-v3/).
        options["request_checksum_calculation"] = "when_required"
        options["response_checksum_validation"] = "when_required"
        region = region or "auto"
    credentials = {}
    if keys:
        credentials = {"aws_access_key_id": keys["access_key_id"], "aws_secret_access_key": keys["secret_access_key"]}
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=region, config=Config(**options), **credentials)


_clients: dict[str, Any] = {}


def backup_client() -> Any:
    """The backup backend (BACKUP_ENDPOINT_URL unset = AWS S3). The one place it is built."""
    if "backup" not in _clients:
        settings = get_settings()
        keys = None
        if settings.backup_credentials_secret:
            try:
                raw = aws_client("secretsmanager").get_secret_value(SecretId=settings.backup_credentials_secret)
                keys = json.loads(raw["SecretString"])
            except (ClientError, BotoCoreError, ValueError, KeyError) as exc:
                raise ConfigurationError("the backup backend's credentials secret cannot be read") from exc
            if not isinstance(keys, dict) or not {"access_key_id", "secret_access_key"} <= keys.keys():
                raise ConfigurationError("the backup credentials secret needs access_key_id and secret_access_key")
        _clients["backup"] = _s3(
            settings.backup_endpoint_url, settings.backup_region, r2=settings.backup_r2_mode, keys=keys
        )
    return _clients["backup"]


def source_client() -> Any:
    """The primary storage the buckets live in (STORAGE_ENDPOINT_URL unset = AWS S3)."""
    if "source" not in _clients:
        settings = get_settings()
        _clients["source"] = _s3(settings.storage_endpoint_url, settings.storage_region, r2=False)
    return _clients["source"]


def forget_clients() -> None:
    """Tests and a changed configuration: the next call builds the clients again."""
    _clients.clear()


def _backup_bucket() -> str:
    return get_settings().require("backup_bucket")


def _json_setting(field: str) -> dict[str, str]:
    raw = get_settings().require(field)
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{field.upper()} is not JSON") from exc
    if not isinstance(value, dict):
        raise ConfigurationError(f"{field.upper()} must be a JSON object")
    return {str(k): str(v) for k, v in value.items()}


def source_buckets() -> dict[str, str]:
    """Logical bucket name (``media-uploads``) -> the deployed bucket."""
    return _json_setting("backup_sources")


def source_tables() -> dict[str, str]:
    return _json_setting("backup_tables")


# ----------------------------------------------------------------- requests and reports


class BackupRunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    buckets: list[BucketName] | None = Field(
        None, description="default: media-uploads, generated-content, contracts, invoices"
    )
    tables: list[TableName] | None = Field(None, description="default: orgs, payments, integrations, audit; [] = none")
    org_id: OrgId | None = Field(None, description="only this org's objects (keys under {org_id}/) and items")
    dry_run: bool = Field(False, description="count what would be copied; write nothing")


class ObjectFailure(BaseModel):
    bucket: str
    key: str
    reason: str


class BucketReport(BaseModel):
    bucket: str
    copied: int = 0
    skipped: int = 0
    failed: int = 0
    bytes: int = 0
    truncated: bool = False


class TableReport(BaseModel):
    table: str
    status: Literal["exported", "skipped", "failed", "truncated", "dry_run"]
    items: int = 0
    bytes: int = 0
    key: str | None = None
    error: str | None = None


class BackupRunReport(BaseModel):
    run_id: str
    dry_run: bool = False
    copied: int = 0
    skipped: int = 0
    failed: int = 0
    bytes: int = 0
    truncated: bool = Field(
        False, description="stopped for lack of time or after too many failures: the next run resumes"
    )
    buckets: list[BucketReport] = Field(default_factory=list)
    tables: list[TableReport] = Field(default_factory=list)
    failures: list[ObjectFailure] = Field(default_factory=list, description="at most 20")


class RestoreReport(BaseModel):
    bucket: str
    to_bucket: str
    prefix: str
    at: str | None = None
    restored: int = 0
    failed: int = 0
    bytes: int = 0
    dry_run: bool = False
    failures: list[ObjectFailure] = Field(default_factory=list)


class CopyError(Exception):
    """One object could not be copied or verified (the run goes on; the next retries it)."""


# ----------------------------------------------------------------- manifest


@dataclass
class CopyRecord:
    bucket: str
    key: str
    run_id: str
    backup_key: str
    size: int
    sha256: str
    etag: str = ""
    last_modified: str = ""

    def item(self, pk: str, sk: str) -> dict[str, Any]:
        fields = {"pk": pk, "sk": sk, **self.__dict__}
        return {k: _serializer.serialize(v) for k, v in fields.items()}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> CopyRecord:
        data = {k: _deserializer.deserialize(v) for k, v in item.items()}
        return cls(
            bucket=data["bucket"],
            key=data["key"],
            run_id=data["run_id"],
            backup_key=data["backup_key"],
            size=int(data["size"]),
            sha256=data["sha256"],
            etag=data.get("etag", ""),
            last_modified=data.get("last_modified", ""),
        )


def _version_sk(key: str, run_id: str) -> str:
    # "\x00" sorts before every character a key may continue with: a key's versions stay together.
    return f"{key}\x00{run_id}"


class Manifest:
    """The backup manifest in DynamoDB (pk, sk):

    * ``obj#{bucket}`` / key: the latest verified copy (source ETag, size, LastModified, SHA-256);
    * ``ver#{bucket}`` / key NUL run_id: every verified copy (restore ``--at``);
    * ``cursor`` / ``{bucket}#{prefix}``: where an unfinished pass continues (StartAfter);
    * ``failed#{bucket}`` / key: copies that failed, retried first by the next run;
    * ``run`` / run_id: each run's report; ``table#{name}`` / run_id: each table export."""

    def __init__(self, table: str | None = None) -> None:
        self.table = table or get_settings().require("backup_manifest_table")
        self.client = aws_client("dynamodb")

    def _query(self, pk: str, **condition: Any) -> Iterator[dict[str, Any]]:
        names = {"#pk": "pk"}
        values: dict[str, Any] = {":pk": {"S": pk}}
        expression = "#pk = :pk"
        if condition.get("begins_with"):
            names["#sk"] = "sk"
            values[":prefix"] = {"S": condition["begins_with"]}
            expression += " AND begins_with(#sk, :prefix)"
        elif "between" in condition:
            names["#sk"] = "sk"
            low, high = condition["between"]
            values[":low"], values[":high"] = {"S": low}, {"S": high}
            expression += " AND #sk BETWEEN :low AND :high"
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": not condition.get("descending", False),
        }
        if condition.get("limit"):
            kwargs["Limit"] = condition["limit"]
        while True:
            page = self.client.query(**kwargs)
            yield from page.get("Items", [])
            if condition.get("limit") or "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def current(self, bucket: str, first: str, last: str) -> dict[str, CopyRecord]:
        return {
            r.key: r for r in (CopyRecord.from_item(i) for i in self._query(f"obj#{bucket}", between=(first, last)))
        }

    def current_under(self, bucket: str, prefix: str) -> Iterator[CopyRecord]:
        for item in self._query(f"obj#{bucket}", begins_with=prefix):
            yield CopyRecord.from_item(item)

    def versions_at(self, bucket: str, prefix: str, run_id: str) -> Iterator[CopyRecord]:
        """Per key, its latest verified copy made by run ``run_id`` or before."""
        chosen: CopyRecord | None = None
        for item in self._query(f"ver#{bucket}", begins_with=prefix):
            record = CopyRecord.from_item(item)
            if record.run_id > run_id:
                continue
            if chosen is not None and chosen.key != record.key:
                yield chosen
            chosen = record  # ascending: a later version of the same key replaces it
        if chosen is not None:
            yield chosen

    def record_copy(self, record: CopyRecord) -> None:
        self.client.put_item(
            TableName=self.table, Item=record.item(f"ver#{record.bucket}", _version_sk(record.key, record.run_id))
        )
        self.client.put_item(TableName=self.table, Item=record.item(f"obj#{record.bucket}", record.key))

    def record_moved(self, record: CopyRecord, backup_key: str) -> None:
        """``record``'s copy now lives at ``backup_key`` (kept under _versions/)."""
        moved = CopyRecord(**{**record.__dict__, "backup_key": backup_key})
        self.client.put_item(
            TableName=self.table, Item=moved.item(f"ver#{record.bucket}", _version_sk(record.key, record.run_id))
        )
        self.client.put_item(TableName=self.table, Item=moved.item(f"obj#{record.bucket}", record.key))

    def get_cursor(self, scope: str) -> str | None:
        item = self.client.get_item(TableName=self.table, Key={"pk": {"S": "cursor"}, "sk": {"S": scope}}).get("Item")
        return item["start_after"]["S"] if item else None

    def set_cursor(self, scope: str, start_after: str | None) -> None:
        key = {"pk": {"S": "cursor"}, "sk": {"S": scope}}
        if start_after is None:
            self.client.delete_item(TableName=self.table, Key=key)
        else:
            self.client.put_item(TableName=self.table, Item={**key, "start_after": {"S": start_after}})

    def failures(self, bucket: str, prefix: str) -> list[str]:
        return [i["sk"]["S"] for i in self._query(f"failed#{bucket}", begins_with=prefix)]

    def record_failure(self, bucket: str, key: str, reason: str, run_id: str) -> None:
        item = {"pk": {"S": f"failed#{bucket}"}, "sk": {"S": key}, "reason": {"S": reason}, "run_id": {"S": run_id}}
        self.client.put_item(TableName=self.table, Item=item)

    def clear_failure(self, bucket: str, key: str) -> None:
        self.client.delete_item(TableName=self.table, Key={"pk": {"S": f"failed#{bucket}"}, "sk": {"S": key}})

    def record_run(self, report: BackupRunReport, started_at: datetime) -> None:
        body = json.dumps(report.model_dump(mode="json"))
        item = {
            "pk": {"S": "run"},
            "sk": {"S": report.run_id},
            "started_at": {"S": started_at.isoformat()},
            "report": {"S": body},
        }
        self.client.put_item(TableName=self.table, Item=item)

    def runs(self, limit: int) -> list[dict[str, Any]]:
        return [json.loads(i["report"]["S"]) for i in self._query("run", descending=True, limit=limit)]

    def last_table_export(self, name: str) -> dict[str, Any] | None:
        for item in self._query(f"table#{name}", descending=True, limit=1):
            return {k: _deserializer.deserialize(v) for k, v in item.items()}
        return None

    def record_table_export(self, name: str, run_id: str, **fields: Any) -> None:
        item = {"pk": f"table#{name}", "sk": run_id, **fields}
        self.client.put_item(TableName=self.table, Item={k: _serializer.serialize(v) for k, v in item.items()})


# ----------------------------------------------------------------- streaming


def _read_full(body: Any, size: int) -> bytes:
    """Up to ``size`` bytes (fewer only at the end of the stream)."""
    chunks: list[bytes] = []
    wanted = size
    while wanted > 0:
        chunk = body.read(wanted)
        if not chunk:
            break
        chunks.append(chunk)
        wanted -= len(chunk)
    return b"".join(chunks)


def _upload_stream(
    chunks: Iterator[bytes],
    client: Any,
    bucket: str,
    key: str,
    *,
    part_bytes: int,
    content_type: str,
    metadata: dict[str, str],
    expect_sha256: str | None = None,
) -> tuple[int, str]:
    """Write ``chunks`` (each ≤ part_bytes; all but the last exactly part_bytes) to bucket/key:
    one PUT when it fits a part, else a multipart upload. Only one part is in memory. With
    ``expect_sha256``, a mismatch is found before the object is written (the multipart upload
    is aborted): nothing good is overwritten by bad bytes. Answers (size, sha256)."""
    digest = hashlib.sha256()
    first = next(chunks, b"")
    second = next(chunks, None) if len(first) == part_bytes else None
    if second is None:
        digest.update(first)
        if expect_sha256 is not None and digest.hexdigest() != expect_sha256:
            raise CopyError("checksum mismatch (sha256) reading the backup")
        client.put_object(Bucket=bucket, Key=key, Body=first, ContentType=content_type, Metadata=metadata)
        return len(first), digest.hexdigest()
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key, ContentType=content_type, Metadata=metadata)[
        "UploadId"
    ]
    parts: list[dict[str, Any]] = []
    total = 0
    try:
        pending: bytes | None = first
        number = 1
        while pending:
            digest.update(pending)
            total += len(pending)
            answer = client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=pending)
            parts.append({"ETag": answer["ETag"], "PartNumber": number})
            number += 1
            if second is not None:
                pending, second = second, None
            else:
                pending = next(chunks, b"")
        if expect_sha256 is not None and digest.hexdigest() != expect_sha256:
            raise CopyError("checksum mismatch (sha256) reading the backup")
        client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})
    except BaseException:
        try:
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        except (ClientError, BotoCoreError):
            logger.warning("could not abort a multipart upload", extra={"bucket": bucket, "upload_id": upload_id})
        raise
    return total, digest.hexdigest()


def _body_chunks(body: Any, part_bytes: int) -> Iterator[bytes]:
    while True:
        chunk = _read_full(body, part_bytes)
        if not chunk:
            return
        yield chunk
        if len(chunk) < part_bytes:
            return


def _stored_sha256(client: Any, bucket: str, key: str) -> tuple[int, str]:
    """Read an object back, streaming: (size, sha256)."""
    body = client.get_object(Bucket=bucket, Key=key)["Body"]
    digest = hashlib.sha256()
    size = 0
    for chunk in iter(lambda: body.read(1024 * 1024), b""):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return f"{exc.response.get('Error', {}).get('Code', 'error')} ({exc.operation_name})"
    return type(exc).__name__ if not isinstance(exc, CopyError) else str(exc)


# ----------------------------------------------------------------- backup run


def new_run_id(now: datetime) -> str:
    """Sortable: ``20261203T020000Z-1a2b3c``."""
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


class _Run:
    def __init__(self, request: BackupRunRequest, run_id: str, time_left: Callable[[], float | None]) -> None:
        self.request = request
        self.settings = get_settings()
        self.manifest = Manifest()
        self.source = source_client()
        self.backup = backup_client()
        self.backup_bucket = _backup_bucket()
        self.report = BackupRunReport(run_id=run_id, dry_run=request.dry_run)
        self.time_left = time_left
        self.attempted: set[tuple[str, str]] = set()

    @property
    def run_id(self) -> str:
        return self.report.run_id

    def must_stop(self) -> bool:
        left = self.time_left()
        if left is not None and left < self.settings.backup_reserve_seconds:
            return True
        return self.report.failed >= self.settings.backup_max_failures

    # -- objects
    def backup_bucket_objects(self, name: str, bucket: str) -> BucketReport:
        part = BucketReport(bucket=name)
        prefix = f"{self.request.org_id}/" if self.request.org_id else ""
        # Copies that failed last time first: "retried next run", wherever the cursor is.
        for key in self.manifest.failures(name, prefix):
            if self.must_stop():
                part.truncated = True
                return part
            try:
                head = self.source.head_object(Bucket=bucket, Key=key)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                    self.manifest.clear_failure(name, key)  # gone from the source: nothing to retry
                    continue
                raise ProviderUnavailableError(f"reading {name} failed: {_describe(exc)}", provider="storage") from exc
            obj = {
                "Key": key,
                "ETag": head["ETag"],
                "Size": head["ContentLength"],
                "LastModified": head["LastModified"],
            }
            self.consider(part, name, bucket, obj, self.manifest.current(name, key, key).get(key))
        scope = f"{name}#{prefix}"
        start_after = self.manifest.get_cursor(scope)
        kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        if start_after:
            kwargs["StartAfter"] = start_after
        last_done = start_after
        try:
            for page in self.source.get_paginator("list_objects_v2").paginate(**kwargs):
                contents = page.get("Contents", [])
                if not contents:
                    continue
                page_known = self.manifest.current(name, contents[0]["Key"], contents[-1]["Key"])
                for obj in contents:
                    if self.must_stop():
                        part.truncated = True
                        if not self.request.dry_run and last_done:
                            self.manifest.set_cursor(scope, last_done)
                        return part
                    self.consider(part, name, bucket, obj, page_known.get(obj["Key"]))
                    last_done = obj["Key"]
                if not self.request.dry_run and last_done:
                    self.manifest.set_cursor(scope, last_done)  # a hard stop loses at most a page
        except (ClientError, BotoCoreError) as exc:
            raise ProviderUnavailableError(f"listing {name} failed: {_describe(exc)}", provider="storage") from exc
        if not self.request.dry_run:
            self.manifest.set_cursor(scope, None)  # the pass is complete: the next run starts over
        return part

    def consider(
        self, part: BucketReport, name: str, bucket: str, obj: dict[str, Any], known: CopyRecord | None
    ) -> None:
        key, size, etag = obj["Key"], int(obj["Size"]), obj["ETag"]
        if (name, key) in self.attempted:
            return  # retried from the failures first in this run: once per run
        self.attempted.add((name, key))
        modified = (
            obj["LastModified"].isoformat() if hasattr(obj["LastModified"], "isoformat") else str(obj["LastModified"])
        )
        # Same source object as the verified copy: the source backend's own ETag, size and time.
        if known is not None and known.etag == etag and known.size == size and known.last_modified == modified:
            part.skipped += 1
            self.report.skipped += 1
            return
        if self.request.dry_run:
            part.copied += 1
            part.bytes += size
            self.report.copied += 1
            self.report.bytes += size
            return
        try:
            record = self.copy(name, bucket, key, etag, size, modified, known)
        except (CopyError, ClientError, BotoCoreError) as exc:
            reason = _describe(exc)
            logger.warning("backup copy failed", extra={"bucket": name, "key": key, "reason": reason})
            part.failed += 1
            self.report.failed += 1
            if len(self.report.failures) < _MAX_REPORTED_FAILURES:
                self.report.failures.append(ObjectFailure(bucket=name, key=key, reason=reason))
            self.manifest.record_failure(name, key, reason, self.run_id)
            return
        self.manifest.clear_failure(name, key)
        part.copied += 1
        part.bytes += record.size
        self.report.copied += 1
        self.report.bytes += record.size

    def copy(
        self, name: str, bucket: str, key: str, etag: str, size: int, modified: str, known: CopyRecord | None
    ) -> CopyRecord:
        backup_key = f"{name}/{key}"
        if known is not None and known.backup_key == backup_key:
            # Keep the verified previous version before its place is overwritten (restore --at).
            kept = f"{VERSIONS_PREFIX}/{name}/{key}/{known.run_id}"
            self.backup.copy(
                {"Bucket": self.backup_bucket, "Key": backup_key}, self.backup_bucket, kept
            )  # managed copy: multipart past 5 GB
            self.manifest.record_moved(known, kept)
        # IfMatch: the listed version, not one written since (that one is copied by the next run).
        got = self.source.get_object(Bucket=bucket, Key=key, IfMatch=etag)
        metadata = {"source-etag": etag.strip('"'), "source-bucket": name}
        written, sha = _upload_stream(
            _body_chunks(got["Body"], self.settings.backup_part_bytes),
            self.backup,
            self.backup_bucket,
            backup_key,
            part_bytes=self.settings.backup_part_bytes,
            content_type=got.get("ContentType") or "application/octet-stream",
            metadata=metadata,
        )
        if written != size:
            raise CopyError(f"size mismatch: listed {size}, read {written}")
        # Verify the copy as stored: its size and the SHA-256 of its bytes read back.
        stored_size, stored_sha = _stored_sha256(self.backup, self.backup_bucket, backup_key)
        if stored_size != size:
            raise CopyError(f"size mismatch: copy has {stored_size} bytes, source {size}")
        if stored_sha != sha:
            raise CopyError("checksum mismatch (sha256) reading the copy back")
        record = CopyRecord(
            bucket=name,
            key=key,
            run_id=self.run_id,
            backup_key=backup_key,
            size=size,
            sha256=sha,
            etag=etag,
            last_modified=modified,
        )
        self.manifest.record_copy(record)
        return record

    # -- tables
    def export_table(self, name: str, table: str, now: datetime) -> TableReport:
        org = self.request.org_id
        label = f"{name}/org={org}" if org else name
        last = self.manifest.last_table_export(label)
        interval = timedelta(hours=self.settings.backup_table_interval_hours)
        if last is not None and datetime.fromisoformat(last["exported_at"]) > now - interval:
            return TableReport(table=name, status="skipped", key=last.get("key"))
        if self.request.dry_run:
            return TableReport(table=name, status="dry_run")
        key = f"{TABLES_PREFIX}/{label}/{self.run_id}.jsonl.gz"
        counter = {"items": 0}

        def scan_pages() -> Iterator[dict[str, Any]]:
            kwargs: dict[str, Any] = {"TableName": table}
            if org:
                kwargs["KeyConditionExpression"] = "org_id = :org"
                kwargs["ExpressionAttributeValues"] = {":org": {"S": org}}
            client = aws_client("dynamodb")
            while True:
                if self.must_stop():
                    raise TimeoutError
                page = client.query(**kwargs) if org else client.scan(**kwargs)
                yield page
                if "LastEvaluatedKey" not in page:
                    return
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

        def gzipped_parts() -> Iterator[bytes]:
            # DynamoDB's own S3 export format (DYNAMODB_JSON): one {"Item": {...}} per line.
            buffer = io.BytesIO()
            part = self.settings.backup_part_bytes
            with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped:
                for page in scan_pages():
                    for item in page.get("Items", []):
                        zipped.write(json.dumps({"Item": item}, separators=(",", ":")).encode() + b"\n")
                        counter["items"] += 1
                    while buffer.tell() >= part:
                        data = buffer.getvalue()
                        yield data[:part]
                        buffer.seek(0)
                        buffer.truncate()
                        buffer.write(data[part:])
            data = buffer.getvalue()
            while data:
                yield data[:part]
                data = data[part:]

        try:
            size, sha = _upload_stream(
                gzipped_parts(),
                self.backup,
                self.backup_bucket,
                key,
                part_bytes=self.settings.backup_part_bytes,
                content_type="application/gzip",
                metadata={"table": name},
            )
            stored_size, stored_sha = _stored_sha256(self.backup, self.backup_bucket, key)
            if (stored_size, stored_sha) != (size, sha):
                raise CopyError("checksum mismatch (sha256) reading the export back")
        except TimeoutError:
            return TableReport(table=name, status="truncated")
        except (CopyError, ClientError, BotoCoreError) as exc:
            return TableReport(table=name, status="failed", error=_describe(exc))
        self.manifest.record_table_export(
            label, self.run_id, key=key, items=counter["items"], bytes=size, sha256=sha, exported_at=now.isoformat()
        )
        return TableReport(table=name, status="exported", items=counter["items"], bytes=size, key=key)


def run_backup(
    request: BackupRunRequest,
    *,
    now: datetime | None = None,
    time_left: Callable[[], float | None] = remaining_seconds,
) -> BackupRunReport:
    """One StorageBackupRun: the chosen buckets, then the chosen tables; truncated when the
    time left (hub.runtime) falls under BACKUP_RESERVE_SECONDS or too many copies failed."""
    if request.org_id is not None:
        from hub.orgs import require_org

        require_org(request.org_id)
    started = now or datetime.now(UTC)
    buckets = list(DEFAULT_BUCKETS if request.buckets is None else dict.fromkeys(request.buckets))
    tables = list(DEFAULT_TABLES if request.tables is None else dict.fromkeys(request.tables))
    # Configuration checked before anything is written.
    sources = source_buckets() if buckets else {}
    table_names = source_tables() if tables else {}
    missing = [b for b in buckets if b not in sources] + [t for t in tables if t not in table_names]
    if missing:
        raise ConfigurationError(f"not configured for backups (BACKUP_SOURCES/BACKUP_TABLES): {', '.join(missing)}")
    run = _Run(request, new_run_id(started), time_left)
    for name in buckets:
        part = run.backup_bucket_objects(name, sources[name])
        run.report.buckets.append(part)
        if part.truncated:
            run.report.truncated = True
            break
    for table in tables:
        if run.report.truncated or run.must_stop():
            run.report.truncated = True
            break
        exported = run.export_table(table, table_names[table], started)
        run.report.tables.append(exported)
        if exported.status == "truncated":
            run.report.truncated = True
        elif exported.status == "failed":
            run.report.failed += 1
    if not request.dry_run:
        run.manifest.record_run(run.report, started)
    logger.info(
        "backup run",
        extra={k: getattr(run.report, k) for k in ("run_id", "copied", "skipped", "failed", "bytes", "truncated")},
    )
    return run.report


# ----------------------------------------------------------------- restore


def restore(
    bucket: str,
    prefix: str = "",
    *,
    to_bucket: str | None = None,
    at: str | None = None,
    dry_run: bool = False,
) -> RestoreReport:
    """Objects of ``bucket`` (logical name) under ``prefix`` from the backup backend into
    ``to_bucket`` (a logical name or a bucket; default: the bucket itself), as last backed up
    or as of run ``at``. Each object's bytes are checked against the manifest's SHA-256 while
    streaming, before the object is written (a bad copy is reported, never restored)."""
    sources = source_buckets()
    if bucket not in sources:
        raise InvalidRequestError(
            f"bucket: {bucket!r} is not backed up (one of {', '.join(sorted(sources))})", code="validation_error"
        )
    target = sources.get(to_bucket, to_bucket) if to_bucket else sources[bucket]
    manifest = Manifest()
    records = manifest.versions_at(bucket, prefix, at) if at else manifest.current_under(bucket, prefix)
    report = RestoreReport(bucket=bucket, to_bucket=target, prefix=prefix, at=at, dry_run=dry_run)
    backup, source = backup_client(), source_client()
    part_bytes = get_settings().backup_part_bytes
    for record in records:
        if dry_run:
            report.restored += 1
            report.bytes += record.size
            continue
        try:
            got = backup.get_object(Bucket=_backup_bucket(), Key=record.backup_key)
            size, _ = _upload_stream(
                _body_chunks(got["Body"], part_bytes),
                source,
                target,
                record.key,
                part_bytes=part_bytes,
                content_type=got.get("ContentType") or "application/octet-stream",
                metadata={},
                expect_sha256=record.sha256,
            )
        except (CopyError, ClientError, BotoCoreError) as exc:
            report.failed += 1
            report.failures.append(ObjectFailure(bucket=bucket, key=record.key, reason=_describe(exc)))
            continue
        report.restored += 1
        report.bytes += size
    return report


def list_backups(bucket: str | None = None, prefix: str = "", *, limit: int = 20) -> dict[str, Any]:
    """``ops storage backups``: the latest runs, or what the backup holds of a bucket/prefix."""
    manifest = Manifest()
    if bucket is None:
        return {"runs": manifest.runs(limit)}
    objects = []
    for record in manifest.current_under(bucket, prefix):
        objects.append({"key": record.key, "size": record.size, "sha256": record.sha256, "run_id": record.run_id})
        if len(objects) >= limit:
            break
    return {"bucket": bucket, "prefix": prefix, "objects": objects}
