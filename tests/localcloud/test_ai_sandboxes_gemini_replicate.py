"""The Gemini and Replicate adapters against their sandboxes, served alone (no moto, no API).

Credentials come from the demo secrets, so this also checks the secret <-> sandbox wiring.
"""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

import httpx
import pytest

from hub.ai.models import ChatMessage, GeneratedImage, LlmRequest
from hub.config import get_settings
from hub.errors import AuthenticationError, InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.providers.gemini.client import GeminiClient
from hub.providers.replicate.client import Prediction, ReplicateClient
from hub.retry import RetryPolicy
from localcloud import demo
from localcloud.sandboxes import Fault, SandboxServer
from tests.conftest import ServedSandboxes

MODEL = "gemini-3.8-flash"


@pytest.fixture
def sandbox(sandboxes: ServedSandboxes) -> tuple[SandboxServer, str]:
    """The session's server with a clean request log, no faults and no predictions."""
    return sandboxes.app, sandboxes.url


def no_sleep_policy() -> RetryPolicy:
    return RetryPolicy(sleep=lambda _: None)


def gemini(url: str, **overrides: Any) -> GeminiClient:
    secret = {**demo.demo_secret_values(url)["gemini"], **overrides}
    client = GeminiClient(GeminiClient.parse_credentials(secret), retry_policy=no_sleep_policy())
    assert isinstance(client, GeminiClient)
    return client


def replicate(url: str, **overrides: Any) -> ReplicateClient:
    secret = {**demo.demo_secret_values(url)["replicate"], **overrides}
    return ReplicateClient(ReplicateClient.parse_credentials(secret), retry_policy=no_sleep_policy())


def ask(text: str, **fields: Any) -> LlmRequest:
    return LlmRequest(org_id="demo", messages=[ChatMessage(role="user", content=text)], **fields)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    assert (zlib.crc32(data[12:29]) & 0xFFFFFFFF) == struct.unpack(">I", data[29:33])[0]
    return width, height


# ----- Gemini -----------------------------------------------------------------------------


def test_demo_secrets_point_at_the_sandboxes(sandbox: tuple[SandboxServer, str]) -> None:
    _, url = sandbox
    values = demo.demo_secret_values(url)
    assert values["gemini"] == {"base_url": f"{url}/gemini", "api_key": "demo-gemini-key"}
    assert values["replicate"] == {"base_url": f"{url}/replicate/v1", "api_token": "demo-replicate-token"}


def test_gemini_generate_against_the_sandbox(sandbox: tuple[SandboxServer, str]) -> None:
    app, url = sandbox
    client = gemini(url)
    completion = client.generate(ask("Quero um orçamento de site", system="Seja breve.", temperature=0.2), MODEL)
    assert completion.finish_reason == "stop"
    assert completion.text.startswith("Resposta do sandbox Gemini")
    assert completion.usage.input_tokens > 0 and completion.usage.output_tokens > 0
    assert completion.provider_request_id

    as_json = client.generate(ask("Classifique", json_output=True), MODEL)
    assert json.loads(as_json.text)["reply"] == "sandbox"

    truncated = client.generate(ask("Oi", max_tokens=3), MODEL)
    assert truncated.finish_reason == "length"
    assert truncated.usage.output_tokens <= 3

    client.health_check()
    [first, *_] = app.requests_for("gemini")
    assert first["path"] == f"/v1beta/models/{MODEL}:streamGenerateContent"  # streamed (issue 15)
    assert first["headers"]["X-Goog-Api-Key"] == "demo-gemini-key"
    assert first["query"] == {"alt": "sse"}  # never ?key=
    assert first["json"]["generationConfig"] == {"maxOutputTokens": 1024, "temperature": 0.2}


def test_gemini_quirks_against_the_sandbox(sandbox: tuple[SandboxServer, str]) -> None:
    _, url = sandbox
    with pytest.raises(AuthenticationError) as auth:
        gemini(url, api_key="wrong-key").generate(ask("Oi"), MODEL)
    assert auth.value.http_status == 400 and auth.value.code == "API_KEY_INVALID"

    with pytest.raises(InvalidRequestError) as blocked:
        gemini(url).generate(ask("please BLOCKME now"), MODEL)
    assert blocked.value.code == "safety_blocked" and "SAFETY" in blocked.value.message

    with pytest.raises(InvalidRequestError) as withheld:
        gemini(url).generate(ask("UNSAFEREPLY"), MODEL)
    assert withheld.value.code == "safety_blocked"

    with pytest.raises(InvalidRequestError) as retired:
        gemini(url).generate(ask("Oi"), "gemini-1.5-pro")
    assert retired.value.http_status == 404


def test_gemini_faults(sandbox: tuple[SandboxServer, str], monkeypatch: pytest.MonkeyPatch) -> None:
    app, url = sandbox
    client = gemini(url)

    app.set_fault("gemini", Fault(mode="rate_limited", retry_after=7, times=1))
    with pytest.raises(RateLimitedError) as limited:
        client.generate(ask("Oi"), MODEL)
    assert limited.value.retry_after == 7  # read from RetryInfo in the body: the sandbox sends no header
    raw = httpx.post(f"{url}/gemini/v1beta/models/{MODEL}:generateContent", json={})
    assert raw.status_code == 403  # the fault was used up: no key -> PERMISSION_DENIED
    assert raw.json()["error"]["status"] == "PERMISSION_DENIED"

    app.set_fault("gemini", Fault(mode="error", status=503, times=1))
    assert client.generate(ask("Oi"), MODEL).finish_reason == "stop"  # retried once, then fine
    assert [e["status"] for e in app.requests_for("gemini")[-2:]] == [503, 200]

    app.set_fault("gemini", Fault(mode="down"))
    with pytest.raises(ProviderUnavailableError, match="unreachable"):
        client.generate(ask("Oi"), MODEL)
    app.clear_faults("gemini")

    monkeypatch.setenv("HEALTH_CHECK_TIMEOUT", "0.3")
    get_settings.cache_clear()
    app.set_fault("gemini", Fault(mode="slow", delay_seconds=1.0))
    with pytest.raises(ProviderUnavailableError, match="timed out"):
        client.health_check()
    app.clear_faults("gemini")


def test_gemini_rate_limited_body_matches_google(sandbox: tuple[SandboxServer, str]) -> None:
    app, url = sandbox
    app.set_fault("gemini", Fault(mode="rate_limited", retry_after=9, times=1))
    resp = httpx.get(f"{url}/gemini/v1beta/models", headers={"x-goog-api-key": "demo-gemini-key"})
    assert resp.status_code == 429
    assert "retry-after" not in resp.headers
    error = resp.json()["error"]
    assert error["status"] == "RESOURCE_EXHAUSTED" and error["code"] == 429
    assert {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "9s"} in error["details"]


# ----- Replicate --------------------------------------------------------------------------


def test_replicate_generate_image_against_the_sandbox(sandbox: tuple[SandboxServer, str]) -> None:
    app, url = sandbox
    client = replicate(url)
    client.health_check()
    image = client.generate_image("a red bicycle", aspect_ratio="16:9")
    assert isinstance(image, GeneratedImage)
    assert image.mime_type == "image/png"
    assert png_size(image.data) == (8, 8)
    log = app.requests_for("replicate")
    create = next(e for e in log if e["method"] == "POST")
    assert create["path"] == "/v1/models/black-forest-labs/flux-schnell/predictions"
    assert create["headers"]["Prefer"] == "wait=60"
    assert create["headers"]["Authorization"] == "Bearer demo-replicate-token"
    assert create["json"] == {"input": {"prompt": "a red bicycle", "aspect_ratio": "16:9", "output_format": "png"}}
    assert log[-1]["path"].startswith("/delivery/")


def test_replicate_slow_job_is_returned_pending_and_polled_later(sandbox: tuple[SandboxServer, str]) -> None:
    app, url = sandbox
    client = replicate(url)
    pending = client.generate_image("SLOWJOB a long render")
    assert isinstance(pending, Prediction)
    assert pending.status == "starting"
    assert len(app.requests_for("replicate")) == 1  # no polling inside the call

    # What the Step Functions Wait -> poll loop does, one invocation per poll.
    statuses = []
    result: GeneratedImage | Prediction = pending
    while isinstance(result, Prediction):
        polled = client.get_prediction(pending.id)
        statuses.append(polled.status)
        result = client.image_from_prediction(polled)
    assert statuses == ["processing", "processing", "succeeded"]
    assert png_size(result.data) == (8, 8)


def test_replicate_errors_against_the_sandbox(sandbox: tuple[SandboxServer, str]) -> None:
    _, url = sandbox
    client = replicate(url)
    with pytest.raises(InvalidRequestError) as failed:
        client.generate_image("FAILJOB")
    assert failed.value.code == "prediction_failed"

    with pytest.raises(InvalidRequestError) as invalid:
        client.generate_image("x", aspect_ratio="7:3")
    assert invalid.value.http_status == 422 and invalid.value.code == "input_validation_failed"

    with pytest.raises(InvalidRequestError) as unknown:
        client.generate_image("x", model="someone/not-a-model")
    assert unknown.value.http_status == 404

    with pytest.raises(AuthenticationError):
        replicate(url, api_token="r8_wrong").health_check()


def test_replicate_faults(sandbox: tuple[SandboxServer, str]) -> None:
    app, url = sandbox
    client = replicate(url)

    app.set_fault("replicate", Fault(mode="rate_limited", retry_after=4, times=1))
    with pytest.raises(RateLimitedError) as limited:
        client.generate_image("x")
    assert limited.value.retry_after == 4

    app.set_fault("replicate", Fault(mode="down"))
    with pytest.raises(ProviderUnavailableError):
        client.generate_image("x")
    app.clear_faults("replicate")
    # A prediction POST is sent once: a retry could create a second, billed prediction.
    assert [e["fault"] for e in app.requests_for("replicate")] == ["rate_limited", "down"]

    created = client.create_prediction("black-forest-labs/flux-schnell", {"prompt": "y"}, wait_seconds=None)
    assert created.status == "starting"  # no Prefer header: asynchronous
    app.set_fault("replicate", Fault(mode="error", status=503, times=1))
    polled = client.get_prediction(created.id)
    assert polled.status == "succeeded"  # the GET hit the 503 once and was retried
    assert [e["status"] for e in app.requests_for("replicate")[-2:]] == [503, 200]
