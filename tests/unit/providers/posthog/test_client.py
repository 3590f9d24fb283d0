"""PostHogClient against PostHog's documented /batch/ capture API (httpx.MockTransport), and
against its sandbox (served in-process, as the local cloud serves it at /posthog)."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hub.analytics.models import AnalyticsEvent
from hub.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.providers import descriptor, ports
from hub.providers.posthog.client import PostHogClient, PostHogCredentials, event_uuid
from hub.retry import RetryPolicy
from localcloud import demo
from localcloud.sandboxes import SandboxServer, all_sandboxes
from localcloud.sandboxes.base import Fault
from localcloud.sandboxes.posthog import DEMO_API_KEY, PostHogSandbox
from tests.helpers import AdapterFactory, recording

KEY = "phc_testProjectKey3kLq9ZxW"
CREDS = PostHogCredentials(api_key=SecretStr(KEY))
NOW = datetime.now(UTC).replace(microsecond=250000)
client_with = AdapterFactory(PostHogClient, CREDS)


def event(n: int = 1, **fields: Any) -> AnalyticsEvent:
    values: dict[str, Any] = {
        "event_id": f"evt-{n}",
        "name": "charge paid",
        "distinct_id": "org-acme.contact-7",
        "occurred_at": NOW - timedelta(minutes=n),
        "properties": {"value": Decimal("1990.50"), "currency": "BRL", "first": True},
    }
    values.update(fields)
    return AnalyticsEvent(**values)


def ok() -> httpx.Response:
    return httpx.Response(200, json={"status": "Ok"})


def test_posthog_is_an_analytics_sink_with_its_request_limits() -> None:
    found = descriptor("posthog")
    assert found is not None and found.capabilities == {"AnalyticsSink"}
    assert ports.adapter_class(ports.AnalyticsSink, "posthog") is PostHogClient
    assert PostHogClient.max_batch_bytes == 20 * 1024 * 1024
    assert not PostHogClient.writes_have_effects  # deduped by uuid: a resend is safe


def test_the_secret_is_strict_and_picks_the_region() -> None:
    with pytest.raises(ConfigurationError) as info:
        PostHogClient.parse_credentials({"api_key": KEY, "host": "eu"})
    assert "host" in info.value.message and KEY not in info.value.message
    eu = PostHogClient(PostHogClient.parse_credentials({"api_key": KEY, "region": "eu"}))
    assert eu.base_url == "https://eu.i.posthog.com"
    assert client_with(recording(ok())[1]).base_url == "https://us.i.posthog.com"


def test_events_are_one_batch_request_with_stable_uuids_and_exact_numbers() -> None:
    seen, handler = recording(ok())
    outcomes = client_with(handler).send_events([event(1), event(2, distinct_id="other", properties={})])

    (request,) = seen
    assert (request.method, str(request.url)) == ("POST", "https://us.i.posthog.com/batch/")
    assert b'"value":1990.50' in request.content  # the Decimal digit for digit
    body = json.loads(request.content)
    assert body["api_key"] == KEY
    assert body["batch"] == [
        {
            "event": "charge paid",
            "distinct_id": "org-acme.contact-7",
            "properties": {"value": 1990.5, "currency": "BRL", "first": True},
            "timestamp": (NOW - timedelta(minutes=1)).isoformat(),
            "uuid": event_uuid("evt-1"),
        },
        {
            "event": "charge paid",
            "distinct_id": "other",
            "properties": {},
            "timestamp": (NOW - timedelta(minutes=2)).isoformat(),
            "uuid": event_uuid("evt-2"),
        },
    ]
    assert [(o.event_id, o.status) for o in outcomes] == [("evt-1", "sent"), ("evt-2", "sent")]


def test_the_uuid_is_a_valid_uuid_derived_only_from_the_event_id() -> None:
    first = event_uuid("evt-abc")
    assert first == event_uuid("evt-abc") and first != event_uuid("evt-abd")
    assert uuid.UUID(first).version == 5


def test_a_lost_answer_is_retryable_and_the_resend_is_the_same_event() -> None:
    # Given an answer lost once (the events may be recorded), then PostHog answering
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        if len(bodies) == 1:
            raise httpx.ReadTimeout("lost", request=request)
        return ok()

    client = client_with(handler)
    with pytest.raises(ProviderUnavailableError) as info:
        client.send_events([event(1), event(2)])
    # Then it is not an unknown outcome: the forwarder sends the batch again later...
    assert info.value.retryable
    outcomes = client.send_events([event(1), event(2)])

    # ...as the very same events (uuid, event, distinct_id, timestamp), which PostHog dedupes
    assert [o.status for o in outcomes] == ["sent", "sent"]
    assert len(bodies) == 2 and bodies[0] == bodies[1]


def test_the_same_event_twice_in_one_batch_is_the_callers_error_before_sending() -> None:
    seen, handler = recording(ok())
    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).send_events([event(1), event(1)])
    assert info.value.code == "duplicate_id" and seen == []


def test_an_event_over_one_megabyte_is_rejected_and_the_rest_sent() -> None:
    seen, handler = recording(ok())
    # (the model leaves text length to each sink: PostHog discards an event over 1 MB)
    heavy = event(2, properties={"blob": "z" * (1024 * 1024)})

    outcomes = client_with(handler).send_events([event(1), heavy])

    assert [o.status for o in outcomes] == ["sent", "rejected"]
    assert outcomes[1].reason and "1 MB" in outcomes[1].reason
    assert [item["uuid"] for item in json.loads(seen[0].content)["batch"]] == [event_uuid("evt-1")]


@pytest.mark.parametrize(
    ("status", "body", "error_class", "code"),
    [
        (
            401,
            {"type": "authentication_error", "code": "invalid_api_key", "detail": "Project API key invalid."},
            AuthenticationError,
            "invalid_api_key",
        ),
        (
            400,
            {"type": "validation_error", "code": "invalid_payload", "detail": "Invalid payload"},
            InvalidRequestError,
            "invalid_payload",
        ),
        (429, {"type": "throttled_error", "code": "throttled", "detail": "slow down"}, RateLimitedError, "throttled"),
        (
            503,
            {"type": "server_error", "code": "unavailable", "detail": "down"},
            ProviderUnavailableError,
            "unavailable",
        ),
    ],
)
def test_posthogs_errors_map_to_the_taxonomy(status: int, body: Any, error_class: type, code: str) -> None:
    _, handler = recording(httpx.Response(status, json=body, headers={"Retry-After": "12"}))
    with pytest.raises(error_class) as info:
        client_with(handler, attempts=1).send_events([event(1)])
    assert (info.value.http_status, info.value.code) == (status, code)
    assert body["detail"] in info.value.message
    if status == 429:
        assert info.value.retry_after == 12


def test_the_project_key_never_reaches_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _, handler = recording(httpx.Response(401, json={"detail": f"key {KEY} is invalid", "code": "invalid_api_key"}))
    with pytest.raises(AuthenticationError) as info:
        client_with(handler, attempts=1).send_events([event(1)])
    assert KEY not in str(info.value) and KEY not in repr(info.value.to_dict())
    assert all(KEY not in f"{r.getMessage()} {vars(r)}" for r in caplog.records)


def test_health_check_evaluates_flags_with_the_project_key() -> None:
    seen, handler = recording(httpx.Response(200, json={"flags": {}}))
    client_with(handler).health_check()
    assert (seen[0].url.path, dict(seen[0].url.params)) == ("/flags/", {"v": "2"})
    assert json.loads(seen[0].content) == {"api_key": KEY, "distinct_id": "hub-health-check"}


# ----- the sandbox keeps PostHog's contract, and the adapter works against it ---------------------


def sandbox_client() -> tuple[SandboxServer, PostHogSandbox, PostHogClient]:
    sandbox = PostHogSandbox()
    server = SandboxServer([sandbox])
    http = httpx.Client(transport=httpx.WSGITransport(app=server))
    creds = PostHogClient.parse_credentials(demo.demo_secret_values("http://sandbox")["posthog"])
    client = PostHogClient(creds, http=http, retry_policy=RetryPolicy(max_attempts=1, sleep=lambda _: None))
    return server, sandbox, client


def test_the_sandbox_registers_itself_with_its_demo_secret() -> None:
    assert any(isinstance(s, PostHogSandbox) for s in all_sandboxes())
    assert demo.demo_secret_values("http://127.0.0.1:4010")["posthog"] == {
        "base_url": "http://127.0.0.1:4010/posthog",
        "api_key": DEMO_API_KEY,
    }


def test_the_adapter_against_the_sandbox_records_once_whatever_the_resends() -> None:
    _, sandbox, client = sandbox_client()
    client.health_check()

    client.send_events([event(1), event(2)])
    client.send_events([event(1), event(3)])  # evt-1 again (a redelivery)

    assert [r["uuid"] for r in sandbox.received] == [event_uuid("evt-1"), event_uuid("evt-2"), event_uuid("evt-3")]
    assert str(sandbox.received[0]["properties"]["value"]) == "1990.50"


def test_the_sandbox_refuses_what_posthog_refuses() -> None:
    server, sandbox, _ = sandbox_client()
    http = httpx.Client(transport=httpx.WSGITransport(app=server), base_url="http://sandbox/posthog")
    item = {"event": "x", "distinct_id": "d"}
    wrong = http.post("/batch/", json={"api_key": "phc_nope", "batch": [item]})
    missing = http.post("/batch/", json={"batch": [item]})
    no_distinct = http.post("/batch/", json={"api_key": DEMO_API_KEY, "batch": [item, {"event": "y"}]})
    bad_uuid = http.post("/batch/", json={"api_key": DEMO_API_KEY, "batch": [{**item, "uuid": "not-a-uuid"}]})
    assert (wrong.status_code, wrong.json()["code"]) == (401, "invalid_api_key")
    assert (missing.status_code, missing.json()["code"]) == (401, "missing_api_key")
    assert (no_distinct.status_code, no_distinct.json()["type"]) == (400, "validation_error")
    assert bad_uuid.status_code == 200 and sandbox.received == []  # dropped, as PostHog does


def test_sandbox_faults_become_retryable_errors() -> None:
    server, sandbox, client = sandbox_client()
    server.set_fault("posthog", Fault(mode="error", status=503, times=1))
    with pytest.raises(ProviderUnavailableError):
        client.send_events([event(1)])
    server.set_fault("posthog", Fault(mode="rate_limited", retry_after=7, times=1))
    with pytest.raises(RateLimitedError) as info:
        client.send_events([event(1)])
    assert info.value.retry_after == 7 and sandbox.received == []
