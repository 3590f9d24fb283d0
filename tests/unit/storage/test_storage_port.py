"""The storage port without a network: org-scoped keys, upload limits, URL expiry bounds, and R2
mode refusing what R2 lacks before any call (docs/storage.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from hub.errors import ConfigurationError, InvalidRequestError
from hub.storage import backend
from hub.storage.backends import BackendConfig, StorageBackend, _client_for, checksum
from hub.storage.keys import check_upload, org_key
from hub.storage.objects import UploadUrlRequest, create_upload_url


class NoCalls:
    """A client that fails the test if R2 mode lets a refused option reach the network."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"{name} called although R2 mode must refuse first")


def r2() -> StorageBackend:
    config = BackendConfig(name="secondary", mode="r2", endpoint_url="https://acct.r2.test", region=None, bucket="b")
    return StorageBackend(config, client=NoCalls())


@pytest.mark.parametrize(
    "key",
    [
        "beta/contract.pdf",  # another org's prefix
        "contract.pdf",  # not under the org prefix
        "acme",  # the prefix alone
        "/acme/contract.pdf",  # absolute
        "acme/../beta/contract.pdf",
        "acme/./contract.pdf",
        "acme//contract.pdf",
        "acme\\contract.pdf",
        "acme/con\ntract.pdf",
        "acme/con\x00tract.pdf",
        "acme/" + "x" * 1100,
    ],
)
def test_keys_outside_the_org_prefix_or_unsafe_are_refused_naming_the_field(key: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        org_key("acme", key)
    assert "key:" in caught.value.message
    assert "beta" not in caught.value.message  # the key is never echoed


def test_a_key_under_the_org_prefix_is_kept() -> None:
    assert org_key("acme", "acme/contracts/2026/a b.pdf") == "acme/contracts/2026/a b.pdf"


def test_upload_limits_per_bucket_name_the_field() -> None:
    with pytest.raises(InvalidRequestError, match="content_type:"):
        check_upload("contracts", "image/png", 10)
    with pytest.raises(InvalidRequestError, match="content_length:"):
        check_upload("invoices", "application/pdf", 10 * 1024 * 1024 + 1)
    check_upload("contracts", "application/pdf", 25 * 1024 * 1024)


@pytest.mark.parametrize(
    ("option", "kwargs"),
    [
        ("acl", {"acl": "public-read"}),
        ("tagging", {"tagging": {"org": "acme"}}),
        ("sse_kms_key_id", {"sse_kms_key_id": "alias/hub"}),
        ("object_lock", {"object_lock_mode": "COMPLIANCE"}),
        ("object_lock", {"object_lock_retain_until": datetime(2030, 1, 1, tzinfo=UTC)}),
    ],
)
def test_r2_mode_refuses_unsupported_put_options_before_any_call(option: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        r2().put("b", "k", b"x", **kwargs)
    assert caught.value.code == "r2_unsupported"
    assert caught.value.details == {"option": option}
    assert option in caught.value.message


def test_r2_mode_refuses_presigned_post_before_any_call() -> None:
    with pytest.raises(ConfigurationError) as caught:
        r2().presigned_post("b", "k", expires_in=60)
    assert caught.value.details == {"option": "presigned_post"}


def test_s3_mode_passes_the_same_options_through() -> None:
    calls: list[dict[str, Any]] = []

    class Recorder:
        def put_object(self, **params: Any) -> dict[str, Any]:
            calls.append(params)
            return {"ETag": '"e"'}

    config = BackendConfig(name="primary", mode="s3", endpoint_url=None, region="us-east-1", bucket=None)
    stored = StorageBackend(config, client=Recorder()).put("b", "k", b"data", acl="private", tagging={"a": "1"})
    assert calls[0]["ACL"] == "private" and calls[0]["Tagging"] == "a=1"
    assert calls[0]["Metadata"]["sha256"] == checksum(b"data") == stored.checksum


def test_r2_client_uses_region_auto_path_style_and_checksums_only_when_required() -> None:
    config = BackendConfig(
        name="secondary", mode="r2", endpoint_url="https://acct.r2.test", region="sa-east-1", bucket="b"
    )
    client = _client_for(config)
    assert client.meta.region_name == "auto"
    assert client.meta.config.request_checksum_calculation == "when_required"
    assert client.meta.config.response_checksum_validation == "when_required"
    url = client.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"}, ExpiresIn=60)
    assert url.startswith("https://acct.r2.test/b/k?")  # path-style


def test_unconfigured_secondary_is_a_configuration_error_naming_the_setting() -> None:
    with pytest.raises(ConfigurationError, match="STORAGE_SECONDARY_BUCKET"):
        backend("secondary")


def _upload(monkeypatch: pytest.MonkeyPatch, **fields: Any) -> Any:
    monkeypatch.setenv("MEDIA_UPLOADS_BUCKET", "media")
    request = UploadUrlRequest.model_validate(
        {"org_id": "acme", "bucket": "media-uploads", "key": "acme/a.png", "content_type": "image/png"} | fields
    )
    return create_upload_url(request)


def test_upload_url_signs_content_type_and_length_with_bounded_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _upload(monkeypatch, content_length=1234)
    query = parse_qs(urlsplit(result.url).query)
    assert query["X-Amz-SignedHeaders"][0].split(";") == ["content-length", "content-type", "host"]
    assert query["X-Amz-Expires"] == ["900"]  # the 15-minute default
    assert result.headers == {"Content-Type": "image/png", "Content-Length": "1234"}


@pytest.mark.parametrize("expires_in", [0, 604801])
def test_upload_url_expiry_outside_one_second_to_seven_days_is_refused(
    monkeypatch: pytest.MonkeyPatch, expires_in: int
) -> None:
    with pytest.raises(InvalidRequestError, match="expires_in:"):
        _upload(monkeypatch, content_length=10, expires_in=expires_in)


def test_configured_maximum_expiry_is_enforced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_URL_MAX_SECONDS", "3600")
    with pytest.raises(InvalidRequestError, match="expires_in: must be 1 to 3600"):
        _upload(monkeypatch, content_length=10, expires_in=3601)
    assert parse_qs(urlsplit(_upload(monkeypatch, content_length=10, expires_in=3600).url).query)["X-Amz-Expires"] == [
        "3600"
    ]


def test_the_documented_samples_are_valid_requests() -> None:
    from hub.storage.objects import DownloadUrlRequest, ObjectPutRequest
    from tests.helpers import sample_event

    for name, model in (
        ("upload_url_create", UploadUrlRequest),
        ("download_url_create", DownloadUrlRequest),
        ("object_put", ObjectPutRequest),
    ):
        request = model.model_validate(sample_event(name))
        assert org_key(request.org_id, request.key) == request.key


def _failing(error: Exception) -> StorageBackend:
    class Failing:
        def __getattr__(self, name: str) -> Any:
            def call(**params: Any) -> Any:
                raise error

            return call

    config = BackendConfig(name="primary", mode="s3", endpoint_url=None, region="us-east-1", bucket=None)
    return StorageBackend(config, client=Failing())


def _client_error(status: int, code: str) -> Exception:
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutObject")


@pytest.mark.parametrize(
    "error",
    [
        _client_error(503, "SlowDown"),
        _client_error(500, "InternalError"),
        pytest.param("timeout", id="read-timeout"),
        pytest.param("refused", id="connection-refused"),
    ],
)
def test_5xx_timeouts_and_refused_connections_mean_the_backend_is_down(error: Any) -> None:
    from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

    from hub.errors import ProviderUnavailableError

    if error == "timeout":
        error = ReadTimeoutError(endpoint_url="https://s3.test")
    elif error == "refused":
        error = EndpointConnectionError(endpoint_url="https://s3.test")
    with pytest.raises(ProviderUnavailableError) as caught:
        _failing(error).put("b", "k", b"x")
    assert caught.value.provider == "storage:primary"


def test_a_missing_object_heads_as_none_and_403_is_an_authentication_error() -> None:
    from hub.errors import AuthenticationError

    assert _failing(_client_error(404, "404")).head("b", "k") is None
    with pytest.raises(AuthenticationError):
        _failing(_client_error(403, "AccessDenied")).get("b", "k")
