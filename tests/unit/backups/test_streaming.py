"""hub.backups without AWS: streamed copies in parts (never the whole object in memory), a
checksum mismatch found before anything is written, the request model, the R2 client."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest

from hub import backups
from hub.backups import BackupRunRequest, CopyError, _body_chunks, _upload_stream
from hub.config import get_settings
from hub.errors import InvalidRequestError
from hub.invocation import parse_request


class FakeS3:
    """Records the calls of a multipart upload; keeps the completed objects."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.parts: dict[int, bytes] = {}
        self.objects: dict[str, bytes] = {}
        self.largest_body = 0

    def put_object(self, *, Key: str, Body: bytes, **_: Any) -> dict[str, Any]:
        self.calls.append("put_object")
        self.largest_body = max(self.largest_body, len(Body))
        self.objects[Key] = Body
        return {}

    def create_multipart_upload(self, **_: Any) -> dict[str, Any]:
        self.calls.append("create")
        return {"UploadId": "u1"}

    def upload_part(self, *, PartNumber: int, Body: bytes, **_: Any) -> dict[str, Any]:
        self.calls.append(f"part{PartNumber}")
        self.largest_body = max(self.largest_body, len(Body))
        self.parts[PartNumber] = Body
        return {"ETag": f'"e{PartNumber}"'}

    def complete_multipart_upload(self, *, Key: str, MultipartUpload: dict[str, Any], **_: Any) -> None:
        self.calls.append("complete")
        self.objects[Key] = b"".join(self.parts[p["PartNumber"]] for p in MultipartUpload["Parts"])

    def abort_multipart_upload(self, **_: Any) -> None:
        self.calls.append("abort")


class Trickle(io.RawIOBase):
    """A body that answers at most 3 bytes per read, like a slow socket."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._data.read(min(size, 3) if size >= 0 else 3)


def upload(data: bytes, part: int, s3: FakeS3, expect: str | None = None) -> tuple[int, str]:
    return _upload_stream(
        _body_chunks(Trickle(data), part),
        s3,
        "backups",
        "media-uploads/k",
        part_bytes=part,
        content_type="image/png",
        metadata={},
        expect_sha256=expect,
    )


def test_a_large_object_is_streamed_in_parts_with_its_sha256() -> None:
    data = bytes(range(256)) * 4 + b"tail"  # 1028 bytes in parts of 100: 11 parts
    s3 = FakeS3()
    size, sha = upload(data, 100, s3)
    assert (size, sha) == (len(data), hashlib.sha256(data).hexdigest())
    assert s3.calls == ["create", *(f"part{n}" for n in range(1, 12)), "complete"]
    assert s3.objects["media-uploads/k"] == data
    assert s3.largest_body == 100  # one part in memory at a time


def test_an_object_of_one_part_or_exactly_one_part_is_one_put() -> None:
    for data in (b"small", b"x" * 100, b""):
        s3 = FakeS3()
        upload(data, 100, s3)
        assert s3.calls == ["put_object"] and s3.objects["media-uploads/k"] == data


def test_a_checksum_mismatch_is_found_before_anything_is_written() -> None:
    wrong = hashlib.sha256(b"other").hexdigest()
    small, large = FakeS3(), FakeS3()
    with pytest.raises(CopyError, match="checksum"):
        upload(b"small", 100, small, expect=wrong)
    with pytest.raises(CopyError, match="checksum"):
        upload(b"y" * 250, 100, large, expect=wrong)
    assert small.objects == {} and large.objects == {}
    assert large.calls[-1] == "abort"


def test_the_request_names_a_wrong_field() -> None:
    assert parse_request(BackupRunRequest, {}).buckets is None
    with pytest.raises(InvalidRequestError, match="buckets"):
        parse_request(BackupRunRequest, {"buckets": ["webhook-archive"]})
    with pytest.raises(InvalidRequestError, match="tables"):
        parse_request(BackupRunRequest, {"tables": ["secrets"]})
    with pytest.raises(InvalidRequestError, match="dry_run"):
        parse_request(BackupRunRequest, {"dry_run": "maybe"})
    with pytest.raises(InvalidRequestError, match="bucket_list"):
        parse_request(BackupRunRequest, {"bucket_list": []})


def test_the_r2_backup_client_uses_region_auto_and_checksums_only_when_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BACKUP_ENDPOINT_URL", "https://acct.r2.cloudflarestorage.com")
    monkeypatch.setenv("BACKUP_R2_MODE", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    get_settings.cache_clear()
    backups.forget_clients()
    try:
        client = backups.backup_client()
        assert client.meta.region_name == "auto"
        assert client.meta.endpoint_url == "https://acct.r2.cloudflarestorage.com"
        assert client.meta.config.request_checksum_calculation == "when_required"
        assert client.meta.config.response_checksum_validation == "when_required"
        assert backups.backup_client() is client  # built once
    finally:
        backups.forget_clients()
        get_settings.cache_clear()
