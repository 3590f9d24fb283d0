"""StorageBackupRun and ``ops storage restore`` against moto (hub.backups, docs/storage.md
"Backups and restore"): copies verified, incremental, resumed after an interruption, a bad
copy failed and retried, restores byte-equal and checked against the manifest's SHA-256.
Few tests on purpose: each moto setup costs seconds (the multipart path: tests/unit/backups)."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub import backups
from hub.backups import BackupRunRequest, restore, run_backup
from hub.errors import InvalidRequestError
from tests.aws.conftest import HubAws
from tests.helpers import FakeLambdaContext, load_function, sample_event

NOW = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)  # a Sunday's run; later runs a minute apart each


VIDEO = b"\x00\x00\x00 ftypisom" * 500


def at(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


@pytest.fixture
def aws(hub_aws: HubAws) -> Iterator[HubAws]:
    backups.forget_clients()
    yield hub_aws
    backups.forget_clients()


def bucket(aws: HubAws, name: str) -> str:
    return str(json.loads(aws.env["BACKUP_SOURCES"])[name])


def put(aws: HubAws, name: str, key: str, data: bytes) -> None:
    aws.client("s3").put_object(Bucket=bucket(aws, name), Key=key, Body=data)


def read(aws: HubAws, name: str, key: str) -> bytes:
    body: bytes = aws.client("s3").get_object(Bucket=bucket(aws, name), Key=key)["Body"].read()
    return body


def backed_up(aws: HubAws, key: str) -> bytes:
    body: bytes = aws.client("s3").get_object(Bucket=aws.env["BACKUP_BUCKET"], Key=key)["Body"].read()
    return body


def media_run(**fields: Any) -> BackupRunRequest:
    return BackupRunRequest.model_validate({"buckets": ["media-uploads"], "tables": [], **fields})


def test_copies_are_verified_incremental_versioned_and_restored(aws: HubAws) -> None:
    # Given media and an invoice
    put(aws, "media-uploads", "demo/video.mp4", VIDEO)
    put(aws, "media-uploads", "demo/logo.png", b"\x89PNG logo")
    put(aws, "invoices", "demo/nf-1.pdf", b"%PDF-1.7 nota")

    # When the weekly run copies them (through the handler, with the schedule's input)
    handler = load_function("storage_backup_run").handler
    event = {"buckets": ["media-uploads", "invoices"], "tables": []}
    first = handler(event, FakeLambdaContext("StorageBackupRun", timeout_ms=900_000))

    # Then each is in the backup under {bucket}/{key}, byte-equal, with its SHA-256 recorded
    assert (first["copied"], first["skipped"], first["failed"], first["truncated"]) == (3, 0, 0, False)
    assert first["bytes"] == len(VIDEO) + len(b"\x89PNG logo") + len(b"%PDF-1.7 nota")
    assert backed_up(aws, "media-uploads/demo/video.mp4") == VIDEO
    assert backed_up(aws, "invoices/demo/nf-1.pdf") == b"%PDF-1.7 nota"
    listed = backups.list_backups("media-uploads", "demo/")["objects"]
    assert {o["key"]: o["sha256"] for o in listed} == {
        "demo/logo.png": hashlib.sha256(b"\x89PNG logo").hexdigest(),
        "demo/video.mp4": hashlib.sha256(VIDEO).hexdigest(),
    }

    # When nothing changed, the next run copies nothing
    second = run_backup(media_run(), now=at(1))
    assert (second.copied, second.skipped, second.bytes) == (0, 2, 0)

    # When one object changes, only it is copied again, and its previous copy is kept
    put(aws, "media-uploads", "demo/logo.png", b"\x89PNG logo v2")
    third = run_backup(media_run(), now=at(2))
    assert (third.copied, third.skipped) == (1, 1)
    assert backed_up(aws, "media-uploads/demo/logo.png") == b"\x89PNG logo v2"

    # And a restore as of the first run brings the old version back, the latest the new one
    old = restore("media-uploads", "demo/logo", to_bucket="generated-content", at=first["run_id"])
    assert (old.restored, old.failed) == (1, 0)
    assert read(aws, "generated-content", "demo/logo.png") == b"\x89PNG logo"
    latest = restore("media-uploads", "demo/", to_bucket="generated-content")
    assert (latest.restored, latest.bytes) == (2, len(VIDEO) + len(b"\x89PNG logo v2"))
    assert read(aws, "generated-content", "demo/logo.png") == b"\x89PNG logo v2"

    # And the runs are listed, newest first
    runs = backups.list_backups()["runs"]
    assert [r["run_id"] for r in runs] == [third.run_id, second.run_id, first["run_id"]]

    # When a copy is altered in the backup afterwards, its restore is refused: the object in
    # place stays as it was
    aws.client("s3").put_object(Bucket=aws.env["BACKUP_BUCKET"], Key="invoices/demo/nf-1.pdf", Body=b"%PDF forged")
    refused = restore("invoices", "demo/")
    assert (refused.restored, refused.failed) == (0, 1)
    assert "checksum" in refused.failures[0].reason
    assert read(aws, "invoices", "demo/nf-1.pdf") == b"%PDF-1.7 nota"

    # And an unknown org is refused before anything is copied
    with pytest.raises(InvalidRequestError, match="unknown org"):
        run_backup(media_run(org_id="nobody"))


class Corrupting:
    """The backup backend, flipping a byte of what is written for one key (a bad copy)."""

    def __init__(self, client: Any, key: str) -> None:
        self._client, self._key = client, key

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_object(self, **kwargs: Any) -> Any:
        if kwargs["Key"] == self._key:
            kwargs["Body"] = b"X" + kwargs["Body"][1:]
        return self._client.put_object(**kwargs)


def test_interrupted_runs_resume_without_copying_again(aws: HubAws, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given six objects, a Lambda whose time runs out after three copies, and a backend that
    # stores one of them corrupted
    for n in range(6):
        put(aws, "media-uploads", f"demo/{n}.jpg", f"photo {n}".encode())
    checks = iter([900.0] * 3)
    real = backups.backup_client()
    monkeypatch.setattr(backups, "backup_client", lambda: Corrupting(real, "media-uploads/demo/1.jpg"))

    # When the run is stopped by its remaining time
    first = run_backup(media_run(), now=NOW, time_left=lambda: next(checks, 1.0))

    # Then it reports what it did: the bad copy failed (its checksum read back differs)
    assert (first.copied, first.failed, first.truncated) == (2, 1, True)
    assert first.failures[0].key == "demo/1.jpg" and "checksum" in first.failures[0].reason

    # When the next run has time and a healthy backend, it retries the failed copy and continues
    # after the last object done: none of the verified copies is made twice
    monkeypatch.setattr(backups, "backup_client", lambda: real)
    second = run_backup(media_run(), now=at(1), time_left=lambda: 900.0)
    assert (second.copied, second.skipped, second.failed, second.truncated) == (4, 0, 0, False)
    runs_by_key = {o["key"]: o["run_id"] for o in backups.list_backups("media-uploads", "demo/")["objects"]}
    assert runs_by_key == {
        **{f"demo/{n}.jpg": first.run_id for n in (0, 2)},
        **{f"demo/{n}.jpg": second.run_id for n in (1, 3, 4, 5)},
    }
    assert backed_up(aws, "media-uploads/demo/1.jpg") == b"photo 1"

    # And a completed pass starts over: everything is skipped
    third = run_backup(media_run(), now=at(2))
    assert (third.copied, third.skipped) == (0, 6)


def test_tables_exported_and_ops_restores_a_deleted_prefix(aws: HubAws) -> None:
    # When the daily run exports the org registry (the scheduled event's input)
    daily = sample_event("storage_backup_run")
    first = run_backup(BackupRunRequest.model_validate(daily), now=NOW)

    # Then the export holds every registered org as DynamoDB JSON lines, and a second run the
    # same day (a resumed one) does not export it again
    (orgs,) = first.tables
    assert orgs.status == "exported" and orgs.key
    lines = gzip.decompress(backed_up(aws, orgs.key)).splitlines()
    assert {"demo", "acme"} <= {json.loads(line)["Item"]["org_id"]["S"] for line in lines}
    assert len(lines) == orgs.items
    assert run_backup(BackupRunRequest.model_validate(daily), now=at(60)).tables[0].status == "skipped"

    # Given an org's media backed up and then deleted by mistake
    files = {"acme/one.jpg": b"\xff\xd8 one", "acme/deep/two.jpg": b"\xff\xd8 two" * 1000}
    for key, data in files.items():
        put(aws, "media-uploads", key, data)
    put(aws, "media-uploads", "beta/other.jpg", b"another org")
    run_backup(media_run(), now=at(61))
    held = aws.ops("storage", "backups", "--bucket", "media-uploads", "--prefix", "acme/")
    assert held.returncode == 0, held.stderr
    assert sorted(o["key"] for o in json.loads(held.stdout)["objects"]) == sorted(files)
    for key in files:
        aws.client("s3").delete_object(Bucket=bucket(aws, "media-uploads"), Key=key)

    # When the operator restores the prefix
    done = aws.ops("storage", "restore", "--bucket", "media-uploads", "--prefix", "acme/")

    # Then every object is back, byte-equal, and only that prefix
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["restored"], report["failed"], report["bytes"]) == (2, 0, sum(map(len, files.values())))
    for key, data in files.items():
        assert read(aws, "media-uploads", key) == data
