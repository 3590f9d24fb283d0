"""A failing invocation reaches Sentry: the hub's Sentry secret read from Secrets Manager (moto),
the SDK's own HTTP transport, the local Sentry sandbox checking the DSN key and the envelope
(localcloud/sandboxes/sentry.py), as `make dev` runs it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from hub import errortracking
from hub.config import get_settings
from hub.errors import AuthenticationError, InvalidRequestError
from tests.aws.conftest import HubAws
from tests.conftest import ServedSandboxes
from tests.helpers import FakeLambdaContext, api_event, load_function, sample_event


@pytest.fixture
def reporting(
    hub_aws: HubAws, sandboxed: ServedSandboxes, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ServedSandboxes]:
    # Given the hub's Sentry secret (seeded like `make dev` does, its DSN at the sandbox)
    monkeypatch.setenv("SENTRY_DSN_SECRET", "hub/_apps/sentry")
    monkeypatch.setenv("HUB_RELEASE", "2026.12.04-test")
    monkeypatch.setenv("STAGE", "dev")
    get_settings.cache_clear()
    sandboxed["sentry"].reset()
    assert errortracking.init() is True
    yield sandboxed
    errortracking.reset_for_tests()


def test_a_failing_function_invocation_reaches_the_local_sentry(reporting: ServedSandboxes) -> None:
    # When WhatsAppSendText is invoked for an org with no WhatsApp credentials
    fn = load_function("whatsapp_send_text")
    payload: dict[str, Any] = {"org_id": "other", "to": "+55 11 91234-5678", "text": "Oi Ana, CPF 529.982.247-25"}
    with pytest.raises(AuthenticationError):
        fn.handler(payload, FakeLambdaContext("hub-WhatsAppSendText"))

    # Then the sandbox accepted one event (DSN key and envelope checked), tagged, for this
    # stage and build, with nothing of the payload in it
    # (sent before the invocation ended: no waiting here)
    [event] = reporting["sentry"].events
    assert event["environment"] == "dev"
    assert event["release"] == "2026.12.04-test"
    assert event["level"] == "error"
    assert event["tags"]["function"] == "hub-WhatsAppSendText"
    assert event["tags"]["org_id"] == "other"
    assert event["tags"]["error_class"] == "AuthenticationError"
    assert event["tags"]["error_code"] == "credentials_missing"
    sent = json.dumps(event)
    for value in ("91234-5678", "5511912345678", "529.982.247-25", "Oi Ana"):
        assert value not in sent


def test_a_caller_mistake_is_not_reported(reporting: ServedSandboxes) -> None:
    import sentry_sdk

    # When the payload lacks "to" (InvalidRequestError: level warning, under the threshold)
    fn = load_function("whatsapp_send_text")
    with pytest.raises(InvalidRequestError):
        fn.handler({"org_id": "demo", "text": "Oi"}, FakeLambdaContext("hub-WhatsAppSendText"))

    # Then nothing was queued: after a flush the sandbox still has no event
    sentry_sdk.flush(timeout=2)
    assert reporting["sentry"].events == []


def test_a_webhook_the_hub_answers_503_is_reported(
    reporting: ServedSandboxes, hub_aws: HubAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import reset_hub_caches

    # Given Secrets Manager unreachable after the container started (its Sentry secret read)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:9")
    reset_hub_caches()
    receiver = load_function("webhook_evolution")

    # When Evolution delivers a message for acme
    body = json.loads(sample_event("webhook_evolution")["body"])
    event = api_event(
        "POST",
        "/webhooks/evolution/acme",
        resource="/webhooks/evolution/{org_id}",
        path_parameters={"org_id": "acme"},
        body=json.dumps(body),
        headers={"Content-Type": "application/json", "Authorization": "Bearer whk-token-123"},
    )
    response = receiver.handler(event, FakeLambdaContext("hub-WebhookEvolution"))

    # Then Evolution gets its 503 (it retries) and the operators a report of why
    assert response["statusCode"] == 503
    [report] = reporting["sentry"].events  # flushed before the invocation ended
    assert report["tags"]["error_class"] == "ProviderUnavailableError"
    assert report["tags"]["provider"] == "secretsmanager"
    assert report["tags"]["org_id"] == "acme"
    assert report["exception"]["values"][-1]["mechanism"]["handled"] is True
    assert "whk-token-123" not in json.dumps(report)
