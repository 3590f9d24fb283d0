"""Storage through the functions against moto playing both backends (docs/storage.md): presigned
URLs scoped to the org, ObjectPut's fallback primary → secondary → deferred, and the deferred
object written byte-equal once a backend is back."""

from __future__ import annotations

import base64
import os
from typing import Any

import httpx
import pytest

from hub.config import get_settings
from hub.errors import IdempotencyConflictError, InvalidRequestError
from localcloud.aws import LOCAL_STORAGE_BUCKETS
from localcloud.servers import free_port
from tests.aws.conftest import HubAws
from tests.helpers import FakeLambdaContext, load_function

SECONDARY = LOCAL_STORAGE_BUCKETS["secondary"]


@pytest.fixture
def storage(hub_aws: HubAws, monkeypatch: pytest.MonkeyPatch) -> HubAws:
    """The template's buckets are the primary; the local cloud's secondary bucket (same moto) the
    secondary, as `make dev` sets them up."""
    monkeypatch.setenv("STORAGE_SECONDARY_BUCKET", SECONDARY)
    monkeypatch.setenv("STORAGE_SECONDARY_ENDPOINT_URL", hub_aws.endpoint)
    monkeypatch.setenv("STORAGE_SECONDARY_MODE", "s3-compatible")
    monkeypatch.setenv("STORAGE_BACKEND_MAX_ATTEMPTS", "1")
    get_settings.cache_clear()
    return hub_aws


def down(monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    """Point ``backend`` at a closed port: connection refused, as a backend that is down."""
    monkeypatch.setenv(f"STORAGE_{backend.upper()}_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()


def back(monkeypatch: pytest.MonkeyPatch, aws: HubAws, backend: str) -> None:
    if backend == "primary":
        monkeypatch.delenv("STORAGE_PRIMARY_ENDPOINT_URL", raising=False)
    else:
        monkeypatch.setenv(f"STORAGE_{backend.upper()}_ENDPOINT_URL", aws.endpoint)
    get_settings.cache_clear()


def invoke(function: str, payload: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = load_function(function).handler(payload, FakeLambdaContext())
    return result


def put(key: str, data: bytes, idempotency_key: str, **extra: Any) -> dict[str, Any]:
    return invoke(
        "object_put",
        {
            "org_id": "acme",
            "bucket": "media-uploads",
            "key": key,
            "content_base64": base64.b64encode(data).decode(),
            "content_type": "image/png",
            "idempotency_key": idempotency_key,
        }
        | extra,
    )


def download(key: str, bucket: str = "media-uploads") -> tuple[dict[str, Any], bytes]:
    answer = invoke("download_url_create", {"org_id": "acme", "bucket": bucket, "key": key})
    response = httpx.get(answer["url"])
    assert response.status_code == 200
    return answer, response.content


def test_presigned_upload_then_download_round_trip_under_the_org_prefix(storage: HubAws) -> None:
    # Given an upload URL for 11 bytes of PDF in contracts
    up = invoke(
        "upload_url_create",
        {
            "org_id": "acme",
            "bucket": "contracts",
            "key": "acme/contracts/c1.pdf",
            "content_type": "application/pdf",
            "content_length": 11,
            "expires_in": 60,
        },
    )
    # When the client PUTs exactly the signed headers
    response = httpx.put(up["url"], content=b"%PDF-1.7 ok", headers=up["headers"])
    # Then the object is stored and a download URL reads it back
    assert response.status_code == 200
    answer, body = download("acme/contracts/c1.pdf", bucket="contracts")
    assert body == b"%PDF-1.7 ok"
    assert answer["backend"] == "primary" and answer["expires_in"] == 900
    assert "X-Amz-Expires=900" in answer["url"]


REFUSED = [
    ({"bucket": "media-uploads", "key": "beta/photo.png"}, "key"),
    ({"bucket": "media-uploads", "key": "acme/../beta/photo.png"}, "key"),
    ({"bucket": "backups", "key": "acme/db.dump"}, "bucket"),
    ({"bucket": "media-uploads", "key": "acme/photo.png", "expires_in": 604801}, "expires_in"),
]


def test_urls_for_another_org_the_backups_bucket_or_too_long_are_refused_naming_the_field(storage: HubAws) -> None:
    for payload, field in REFUSED:
        for function, extra in (
            ("download_url_create", {}),
            ("upload_url_create", {"content_type": "image/png", "content_length": 10}),
        ):
            with pytest.raises(InvalidRequestError) as caught:
                invoke(function, {"org_id": "acme"} | payload | extra)
            assert field in caught.value.message, (function, field)


def test_object_put_writes_to_the_primary_and_the_same_key_answers_the_same_receipt(storage: HubAws) -> None:
    # Bad input is refused before any side effect, naming the field
    with pytest.raises(InvalidRequestError, match="content_base64"):
        put("acme/p/bad.png", b"", "kb", content_base64="not base64!")
    with pytest.raises(InvalidRequestError, match="content_type"):
        put("acme/p/bad.exe", b"MZ", "kc", content_type="application/x-msdownload")
    with pytest.raises(InvalidRequestError, match="key"):
        put("beta/p/x.png", b"x", "kd")
    assert "Contents" not in storage.client("s3").list_objects_v2(Bucket=storage.env["MEDIA_UPLOADS_BUCKET"])
    # A good put lands on the primary; the same key again answers the same receipt
    first = put("acme/p/1.png", b"png-bytes", "k1")
    again = put("acme/p/1.png", b"png-bytes", "k1")
    assert first["status"] == "written" and first["backend"] == "primary"
    assert again == first
    assert download("acme/p/1.png")[1] == b"png-bytes"
    with pytest.raises(IdempotencyConflictError):
        put("acme/p/1.png", b"other-bytes", "k1")


def test_primary_down_writes_to_the_secondary_and_downloads_find_it(
    storage: HubAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the primary is down
    down(monkeypatch, "primary")
    # When an object is put
    receipt = put("acme/p/2.png", b"second-home", "k2")
    # Then it lives on the secondary, under its logical bucket, and the download URL is signed there
    assert receipt["status"] == "written" and receipt["backend"] == "secondary"
    body = storage.client("s3").get_object(Bucket=SECONDARY, Key="media-uploads/acme/p/2.png")["Body"].read()
    assert body == b"second-home"
    answer, downloaded = download("acme/p/2.png")
    assert answer["backend"] == "secondary" and downloaded == b"second-home"


def test_both_down_defers_then_the_drain_writes_it_byte_equal_when_a_backend_returns(
    storage: HubAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    drain = load_function("storage_deferred_drain")
    data = os.urandom(700 * 1024)  # three 300 KiB chunks
    # Given both backends are down
    down(monkeypatch, "primary")
    down(monkeypatch, "secondary")
    # When an object is put, it is deferred with a receipt the caller polls
    receipt = put("acme/p/3.png", data, "k3")
    assert receipt["status"] == "deferred" and "backend" not in receipt
    assert put("acme/p/3.png", data, "k3")["status"] == "deferred"
    # A drain while both are still down keeps it
    assert drain.handler({}, FakeLambdaContext()) == {"written": 0, "still_deferred": 1, "bytes": 0}
    # When the primary is back, the drain writes it
    back(monkeypatch, storage, "primary")
    assert drain.handler({}, FakeLambdaContext()) == {"written": 1, "still_deferred": 0, "bytes": len(data)}
    # Then the object is on the primary, byte-equal, and the receipt says written
    stored = storage.client("s3").get_object(Bucket=storage.env["MEDIA_UPLOADS_BUCKET"], Key="acme/p/3.png")
    assert stored["Body"].read() == data
    polled = put("acme/p/3.png", data, "k3")
    assert polled["status"] == "written" and polled["backend"] == "primary"
    assert polled["receipt_id"] == receipt["receipt_id"]
    # And nothing is left pending or chunked
    assert drain.handler({}, FakeLambdaContext()) == {"written": 0, "still_deferred": 0, "bytes": 0}
    items = storage.client("dynamodb").scan(TableName=storage.env["STORAGE_TABLE"])["Items"]
    assert not [i for i in items if i["pk"]["S"] == "PENDING" or i["sk"]["S"].startswith("CHUNK#")]
