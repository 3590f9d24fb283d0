"""ReplicateClient against Replicate's documented HTTP API
(https://replicate.com/docs/reference/http, .../topics/predictions/rate-limits, .../reference/error-codes)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hub.ai.models import GeneratedImage
from hub.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.providers import ADAPTERS
from hub.providers.replicate.client import Prediction, ReplicateClient, ReplicateCredentials, prediction_failure
from hub.runtime import start_invocation
from tests.helpers import AdapterFactory, recording, timing_out

TOKEN = "r8_test_token"
CREDS = ReplicateCredentials(api_token=SecretStr(TOKEN))
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
DELIVERY = "https://replicate.delivery/xezq/abc123/out-0.png"

Handler = Callable[[httpx.Request], httpx.Response]


def prediction(status: str = "succeeded", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "gm3qorzdhgbfurvjtvhg6dckhu",
        "model": "black-forest-labs/flux-schnell",
        "version": "hidden",
        "input": {"prompt": "a cat", "aspect_ratio": "1:1", "output_format": "png"},
        "logs": "",
        "output": [DELIVERY] if status == "succeeded" else None,
        "data_removed": False,
        "error": None,
        "status": status,
        "created_at": "2026-11-23T00:00:00.000000Z",
        "urls": {
            "cancel": "https://api.replicate.com/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu/cancel",
            "get": "https://api.replicate.com/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu",
            "stream": "https://stream.replicate.com/v1/files/abc",
            "web": "https://replicate.com/p/gm3qorzdhgbfurvjtvhg6dckhu",
        },
    }
    body.update(overrides)
    return body


class FakeContext:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


client_with = AdapterFactory(ReplicateClient, CREDS, attempts=3)


def api_and_delivery(created: dict[str, Any], seen: list[httpx.Request] | None = None) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        if request.url.host == "replicate.delivery":
            return httpx.Response(200, content=PNG, headers={"Content-Type": "image/png"})
        return httpx.Response(201, json=created)

    return handler


# ----- create_prediction ------------------------------------------------------------------


def test_create_prediction_uses_the_official_model_endpoint_with_prefer_wait() -> None:
    seen, handler = recording(httpx.Response(201, json=prediction()))

    result = client_with(handler).create_prediction(
        "black-forest-labs/flux-schnell", {"prompt": "a cat", "aspect_ratio": "1:1"}, wait_seconds=30
    )

    [request] = seen
    assert request.method == "POST"
    assert str(request.url) == "https://api.replicate.com/v1/models/black-forest-labs/flux-schnell/predictions"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Prefer"] == "wait=30"
    assert "idempotency-key" not in request.headers  # Replicate has none
    assert json.loads(request.content) == {"input": {"prompt": "a cat", "aspect_ratio": "1:1"}}
    assert result.id == "gm3qorzdhgbfurvjtvhg6dckhu"
    assert result.status == "succeeded"
    assert result.urls.get == "https://api.replicate.com/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu"
    assert result.output_urls() == [DELIVERY]


@pytest.mark.parametrize(
    ("asked", "header"), [(None, None), (0, None), (5, "wait=5"), (60, "wait=60"), (300, "wait=60")]
)
def test_prefer_wait_is_capped_at_60_and_omitted_when_not_waiting(asked: int | None, header: str | None) -> None:
    seen, handler = recording(httpx.Response(201, json=prediction("starting")))

    client_with(handler).create_prediction("black-forest-labs/flux-schnell", {"prompt": "x"}, wait_seconds=asked)
    assert seen[0].headers.get("Prefer") == header


@pytest.mark.parametrize(("remaining_ms", "header"), [(20_500, "wait=14"), (120_000, "wait=60"), (6_500, None)])
def test_prefer_wait_never_outlives_the_lambda(remaining_ms: int, header: str | None) -> None:
    # remaining - 5 s (download + answer) - 1 s retry safety margin, rounded down; < 1 s = don't wait.
    start_invocation(FakeContext(remaining_ms))
    seen, handler = recording(httpx.Response(201, json=prediction("starting")))

    client_with(handler).create_prediction("black-forest-labs/flux-schnell", {"prompt": "x"}, wait_seconds=60)
    assert seen[0].headers.get("Prefer") == header


def test_create_prediction_is_never_retried_because_replicate_has_no_idempotency_key() -> None:
    seen, handler = timing_out()

    with pytest.raises(ProviderUnavailableError, match="timed out"):
        client_with(handler).create_prediction("black-forest-labs/flux-schnell", {"prompt": "x"}, wait_seconds=10)
    assert len(seen) == 1  # a second POST could create (and bill) a second prediction


def test_model_must_be_owner_slash_name() -> None:
    client = client_with(lambda r: httpx.Response(201, json=prediction()))
    for bad in ("flux-schnell", "a/b/c", "../x/y", "owner/na me", "black-forest-labs/flux-schnell:abc"):
        with pytest.raises(InvalidRequestError):
            client.create_prediction(bad, {"prompt": "x"}, wait_seconds=None)


# ----- get_prediction ----------------------------------------------------------------------


def test_get_prediction() -> None:
    seen, handler = recording(httpx.Response(200, json=prediction("processing")))

    result = client_with(handler).get_prediction("gm3qorzdhgbfurvjtvhg6dckhu")
    assert str(seen[0].url) == "https://api.replicate.com/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu"
    assert seen[0].method == "GET"
    assert result.status == "processing" and result.is_pending
    with pytest.raises(InvalidRequestError):
        client_with(handler).get_prediction("../account")


# ----- generate_image ----------------------------------------------------------------------


def test_generate_image_downloads_the_output_without_sending_the_token_to_the_cdn() -> None:
    seen: list[httpx.Request] = []
    image = client_with(api_and_delivery(prediction(), seen)).generate_image(
        "a cat on a skateboard", aspect_ratio="16:9"
    )

    assert isinstance(image, GeneratedImage)
    assert image.data == PNG
    assert image.mime_type == "image/png"
    assert image.provider == "replicate"
    assert image.model == "black-forest-labs/flux-schnell"
    create, download = seen
    assert create.headers["Prefer"] == "wait=60"
    assert json.loads(create.content) == {
        "input": {"prompt": "a cat on a skateboard", "aspect_ratio": "16:9", "output_format": "png"}
    }
    assert str(download.url) == DELIVERY
    assert "authorization" not in download.headers


def test_output_on_the_api_host_is_fetched_with_the_token_and_single_url_outputs_work() -> None:
    seen: list[httpx.Request] = []
    file_url = "https://api.replicate.com/v1/files/abc123/download"

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.startswith("/v1/files/"):
            return httpx.Response(200, content=PNG, headers={"Content-Type": "image/webp"})
        return httpx.Response(201, json=prediction(model="black-forest-labs/flux-1.1-pro", output=file_url))

    image = client_with(handler).generate_image("x", model="black-forest-labs/flux-1.1-pro")
    assert isinstance(image, GeneratedImage)
    assert image.mime_type == "image/webp"
    assert image.model == "black-forest-labs/flux-1.1-pro"
    assert seen[1].headers["Authorization"] == f"Bearer {TOKEN}"


def test_unfinished_prediction_is_returned_pending_and_never_slept_on(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    seen, handler = recording(httpx.Response(201, json=prediction("starting")))

    result = client_with(handler).generate_image("a slow one")
    assert isinstance(result, Prediction)
    assert result.status == "starting"
    assert result.urls.get is not None
    assert len(seen) == 1  # one POST, no polling GETs
    assert slept == []


def test_image_from_prediction_for_the_step_functions_poller() -> None:
    client = client_with(api_and_delivery(prediction()))
    processing = Prediction.model_validate(prediction("processing"))
    assert client.image_from_prediction(processing) is processing
    done = client.image_from_prediction(Prediction.model_validate(prediction()))
    assert isinstance(done, GeneratedImage) and done.data == PNG


def test_succeeded_without_output_is_unavailable() -> None:
    with pytest.raises(ProviderUnavailableError, match="without an output"):
        client_with(lambda r: httpx.Response(201, json=prediction(output=None))).generate_image("x")


def test_expired_output_file_is_an_invalid_request_and_cdn_outage_is_unavailable() -> None:
    def expired(request: httpx.Request) -> httpx.Response:
        if request.url.host == "replicate.delivery":
            return httpx.Response(404, text="Not Found")
        return httpx.Response(201, json=prediction())

    with pytest.raises(InvalidRequestError) as info:
        client_with(expired).generate_image("x")
    assert info.value.code == "output_unavailable"

    def down(request: httpx.Request) -> httpx.Response:
        if request.url.host == "replicate.delivery":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(201, json=prediction())

    with pytest.raises(ProviderUnavailableError):
        client_with(down).generate_image("x")


# ----- failed predictions ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "expected", "code"),
    [
        ("NSFW content detected. Try running it again, or try a different prompt.", InvalidRequestError, None),
        ("E1001: Model out of memory", InvalidRequestError, "E1001"),
        ("E1000: Unknown error", ProviderUnavailableError, "E1000"),
        ("Prediction failed to start (E6716)", ProviderUnavailableError, "E6716"),
        ("E9999 something new", ProviderUnavailableError, "E9999"),
    ],
)
def test_failed_prediction_maps_documented_error_codes(error: str, expected: type[Exception], code: str | None) -> None:
    failed = prediction("failed", error=error, output=None)
    with pytest.raises(expected) as info:
        client_with(lambda r: httpx.Response(201, json=failed)).generate_image("x")
    assert isinstance(info.value, InvalidRequestError | ProviderUnavailableError)
    assert info.value.code == (code or "prediction_failed")
    assert info.value.request_id == "gm3qorzdhgbfurvjtvhg6dckhu"
    assert error not in info.value.message  # the model's text is not echoed (may quote the prompt)


def test_canceled_prediction_is_unavailable() -> None:
    error = prediction_failure(Prediction.model_validate(prediction("canceled", output=None)))
    assert isinstance(error, ProviderUnavailableError)
    assert error.code == "prediction_canceled"


# ----- HTTP errors (problem details) ----------------------------------------------------------


def problem(status: int, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"title": title, "detail": detail, "status": status, **extra}


ERROR_CASES: list[tuple[int, dict[str, Any], type[Exception], str]] = [
    (
        401,
        problem(401, "Unauthenticated", "You did not pass a valid authentication token"),
        AuthenticationError,
        "unauthenticated",
    ),
    (403, problem(403, "Forbidden", "You do not have permission"), AuthenticationError, "forbidden"),
    (404, problem(404, "Not found", "The requested resource could not be found."), InvalidRequestError, "not_found"),
    (
        422,
        problem(
            422,
            "Input validation failed",
            "- input.aspect_ratio: aspect_ratio must be one of ...",
            invalid_fields=[{"type": "enum", "field": "input.aspect_ratio"}],
        ),
        InvalidRequestError,
        "input_validation_failed",
    ),
    (500, problem(500, "Internal Server Error", "Something broke"), ProviderUnavailableError, "internal_server_error"),
    (503, problem(503, "Service Unavailable", "Try again later"), ProviderUnavailableError, "service_unavailable"),
]


@pytest.mark.parametrize(("status", "body", "error", "code"), ERROR_CASES)
def test_status_codes_map_to_the_taxonomy(status: int, body: dict[str, Any], error: type[Exception], code: str) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(status, json=body, headers={"Content-Type": "application/problem+json"})

    with pytest.raises(error) as info:
        client_with(handler).get_prediction("abc123")
    assert isinstance(info.value, AuthenticationError | InvalidRequestError | ProviderUnavailableError)
    assert info.value.http_status == status
    assert info.value.code == code
    assert body["detail"] in info.value.message
    assert len(calls) == (2 if status >= 500 else 1)  # GETs are retried on 5xx only, once (hub.retry)


def test_422_on_create_is_an_invalid_request_and_not_retried() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(422, json=problem(422, "Input validation failed", "- input.prompt: prompt is required"))

    with pytest.raises(InvalidRequestError, match="prompt is required"):
        client_with(handler).create_prediction("black-forest-labs/flux-schnell", {}, wait_seconds=5)
    assert calls == [1]


def test_429_uses_retry_after_header_then_the_documented_detail_text() -> None:
    throttled = {"detail": "Request was throttled. Your rate limit resets in ~30s."}
    with pytest.raises(RateLimitedError) as info:
        client_with(lambda r: httpx.Response(429, json=throttled, headers={"Retry-After": "7"})).get_prediction("a1")
    assert info.value.retry_after == 7

    sleeps: list[float] = []
    with pytest.raises(RateLimitedError) as info:
        client_with(lambda r: httpx.Response(429, json=throttled), sleeps=sleeps).get_prediction("a1")
    assert info.value.retry_after == 30
    assert sleeps == []  # 30 s is past the in-Lambda sleep budget

    with pytest.raises(RateLimitedError) as info:
        client_with(lambda r: httpx.Response(429, json=throttled), sleeps=[]).create_prediction(
            "black-forest-labs/flux-schnell", {"prompt": "x"}, wait_seconds=5
        )
    assert info.value.retry_after == 30


def test_read_timeouts_are_unavailable_without_a_second_wait() -> None:
    seen, handler = timing_out()

    with pytest.raises(ProviderUnavailableError):
        client_with(handler).get_prediction("abc123")
    assert len(seen) == 1  # read timeouts are not retried in the function (see hub.retry)


# ----- health, credentials, registry ------------------------------------------------------


def test_health_check_gets_the_account() -> None:
    seen, handler = recording(httpx.Response(200, json={"type": "organization", "username": "acme", "name": "Acme"}))

    client_with(handler).health_check()
    assert str(seen[0].url) == "https://api.replicate.com/v1/account"
    assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
    unauth = problem(401, "Unauthenticated", "You did not pass a valid authentication token")
    with pytest.raises(AuthenticationError):
        client_with(lambda r: httpx.Response(401, json=unauth)).health_check()


def test_credentials_require_a_token_and_are_registered() -> None:
    with pytest.raises(ConfigurationError) as info:
        ReplicateClient.parse_credentials({"api_key": "r8_wrong_field_name"})
    assert "api_token" in info.value.message
    assert "r8_wrong_field_name" not in info.value.message
    assert ADAPTERS["replicate"] is ReplicateClient
