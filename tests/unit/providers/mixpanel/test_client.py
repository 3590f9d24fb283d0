"""MixpanelClient against Mixpanel's documented /import (httpx.MockTransport), and against its
sandbox (served in-process, as the local cloud serves it at /mixpanel)."""

from __future__ import annotations

import base64
import json
import logging
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
from hub.providers.mixpanel.client import MixpanelClient, MixpanelCredentials, epoch_millis, insert_id
from hub.retry import RetryPolicy
from localcloud import demo
from localcloud.sandboxes import SandboxServer, all_sandboxes
from localcloud.sandboxes.base import Fault
from localcloud.sandboxes.mixpanel import DEMO_PROJECT_ID, DEMO_SECRET, DEMO_USERNAME, MixpanelSandbox
from tests.helpers import AdapterFactory, recording

SECRET = "mp-sa-secret-Zk93LpQw"
USER = "hub.9c1d2e.mp-service-account"
CREDS = MixpanelCredentials(project_id=1234, service_account_username=USER, service_account_secret=SecretStr(SECRET))
NOW = datetime.now(UTC).replace(microsecond=987654)
client_with = AdapterFactory(MixpanelClient, CREDS)


def event(n: int = 1, **fields: Any) -> AnalyticsEvent:
    values: dict[str, Any] = {
        "event_id": f"evt-{n}",
        "name": "Charge Paid",
        "distinct_id": "org-acme.contact-7",
        "occurred_at": NOW - timedelta(minutes=n),
        "properties": {"value": Decimal("1990.50"), "currency": "BRL"},
    }
    values.update(fields)
    return AnalyticsEvent(**values)


def imported(n: int) -> httpx.Response:
    return httpx.Response(200, json={"code": 200, "num_records_imported": n, "status": "OK"})


def test_mixpanel_is_an_analytics_sink_with_its_request_limits() -> None:
    found = descriptor("mixpanel")
    assert found is not None and found.capabilities == {"AnalyticsSink"}
    assert ports.adapter_class(ports.AnalyticsSink, "mixpanel") is MixpanelClient
    assert (MixpanelClient.max_batch_events, MixpanelClient.max_batch_bytes) == (2000, 2 * 1024 * 1024)
    assert not MixpanelClient.writes_have_effects  # deduped by $insert_id: a resend is safe


def test_the_secret_is_strict_and_picks_the_residency_host() -> None:
    with pytest.raises(ConfigurationError) as info:
        MixpanelClient.parse_credentials({"project_id": "x", "service_account_secret": SECRET, "token": "t"})
    assert "project_id" in info.value.message and "token" in info.value.message
    assert SECRET not in info.value.message
    eu = MixpanelClient(CREDS.model_copy(update={"region": "eu"}))
    assert (eu.base_url, eu.app_url) == ("https://api-eu.mixpanel.com", "https://eu.mixpanel.com")


def test_events_are_imported_strictly_with_basic_auth_and_exact_values() -> None:
    seen, handler = recording(imported(2))
    outcomes = client_with(handler).send_events([event(1), event(2, properties={})])

    (request,) = seen
    assert (request.method, request.url.host, request.url.path) == ("POST", "api.mixpanel.com", "/import")
    assert dict(request.url.params) == {"strict": "1", "project_id": "1234"}
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(f"{USER}:{SECRET}".encode()).decode()
    assert b'"value":1990.50' in request.content  # the Decimal digit for digit
    assert json.loads(request.content) == [
        {
            "event": "Charge Paid",
            "properties": {
                "value": 1990.5,
                "currency": "BRL",
                "time": epoch_millis(NOW - timedelta(minutes=1)),
                "distinct_id": "org-acme.contact-7",
                "$insert_id": insert_id("evt-1"),
            },
        },
        {
            "event": "Charge Paid",
            "properties": {
                "time": epoch_millis(NOW - timedelta(minutes=2)),
                "distinct_id": "org-acme.contact-7",
                "$insert_id": insert_id("evt-2"),
            },
        },
    ]
    assert [o.status for o in outcomes] == ["sent", "sent"]


def test_insert_ids_are_stable_and_within_mixpanels_format() -> None:
    first = insert_id("evt-1")
    assert first == insert_id("evt-1") and first != insert_id("evt-2")
    assert len(first) == 36 and all(c.isalnum() or c == "-" for c in first)
    assert epoch_millis(datetime(2026, 3, 1, 12, 0, 0, 654999, tzinfo=UTC)) == 1772366400654


def test_failed_records_become_rejected_outcomes_and_the_others_are_sent() -> None:
    # Given strict mode refusing the second event (a partial success: the others were imported)
    answer = {
        "code": 400,
        "error": "some data points in the request failed validation",
        "status": "Bad Request",
        "num_records_imported": 2,
        "failed_records": [
            {
                "index": 1,
                "insert_id": insert_id("evt-2"),
                "field": "properties.plan",
                "message": "'properties.plan' is invalid",
            }
        ],
    }
    _, handler = recording(httpx.Response(400, json=answer))

    outcomes = client_with(handler).send_events([event(1), event(2), event(3)])

    assert [(o.event_id, o.status) for o in outcomes] == [("evt-1", "sent"), ("evt-2", "rejected"), ("evt-3", "sent")]
    assert outcomes[1].reason == "mixpanel refused properties.plan: 'properties.plan' is invalid"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"properties": {"time": 5}}, "set by the hub"),
        ({"distinct_id": "null"}, "placeholder"),
        ({"occurred_at": datetime(1970, 6, 1, tzinfo=UTC)}, "1971"),
        ({"occurred_at": NOW + timedelta(hours=2)}, "future"),
        ({"properties": {"blob": "z" * (1024 * 1024)}}, "1 MB"),
    ],
)
def test_an_event_mixpanel_would_refuse_is_rejected_before_sending(fields: dict[str, Any], reason: str) -> None:
    seen, handler = recording(imported(1))
    client = client_with(handler)
    client._now = lambda: NOW

    outcomes = client.send_events([event(1), event(2, **fields)])

    assert outcomes[0].status == "sent"
    assert outcomes[1].status == "rejected" and outcomes[1].reason and reason in outcomes[1].reason
    assert [e["properties"]["$insert_id"] for e in json.loads(seen[0].content)] == [insert_id("evt-1")]


def test_a_batch_over_mixpanels_limits_is_refused_before_sending() -> None:
    seen, handler = recording(imported(1))
    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).send_events([event(n) for n in range(2001)])
    assert info.value.code == "batch_too_large"
    big = [event(n, properties={"blob": "x" * 700_000}) for n in range(4)]  # 2.8 MB in all
    with pytest.raises(InvalidRequestError):
        client_with(handler).send_events(big)
    with pytest.raises(InvalidRequestError) as twice:
        client_with(handler).send_events([event(1), event(1)])
    assert twice.value.code == "duplicate_id"
    assert seen == []


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (401, AuthenticationError),
        (403, AuthenticationError),
        (413, InvalidRequestError),
        (400, InvalidRequestError),  # no failed_records: the whole request
        (429, RateLimitedError),
        (500, ProviderUnavailableError),
        (503, ProviderUnavailableError),
    ],
)
def test_mixpanels_errors_map_to_the_taxonomy(status: int, error_class: type) -> None:
    body = {"code": status, "error": f"mixpanel says {status}", "status": "x"}
    _, handler = recording(httpx.Response(status, json=body))
    with pytest.raises(error_class) as info:
        client_with(handler, attempts=1).send_events([event(1)])
    assert info.value.http_status == status and f"mixpanel says {status}" in info.value.message


def test_an_outage_is_retried_and_the_resend_is_the_same_event() -> None:
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        if len(bodies) == 1:
            return httpx.Response(503, json={"code": 503, "error": "unavailable"})
        return imported(1)

    outcomes = client_with(handler, attempts=2).send_events([event(1)])
    assert [o.status for o in outcomes] == ["sent"] and bodies[0] == bodies[1]


def test_the_secret_never_reaches_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _, handler = recording(httpx.Response(401, json={"error": f"bad credentials {USER}:{SECRET}"}))
    with pytest.raises(AuthenticationError) as info:
        client_with(handler, attempts=1).send_events([event(1)])
    assert SECRET not in str(info.value) and SECRET not in repr(info.value.to_dict())
    assert all(SECRET not in f"{r.getMessage()} {vars(r)}" for r in caplog.records)


def test_health_check_reads_the_service_account_on_the_app_host() -> None:
    seen, handler = recording(httpx.Response(200, json={"status": "ok", "results": {}}))
    client_with(handler).health_check()
    assert (seen[0].method, str(seen[0].url)) == ("GET", "https://mixpanel.com/api/app/me")
    assert seen[0].headers["Authorization"].startswith("Basic ")


# ----- the sandbox keeps Mixpanel's contract, and the adapter works against it ---------------------


def sandbox_client() -> tuple[SandboxServer, MixpanelSandbox, MixpanelClient]:
    sandbox = MixpanelSandbox()
    server = SandboxServer([sandbox])
    http = httpx.Client(transport=httpx.WSGITransport(app=server))
    creds = MixpanelClient.parse_credentials(demo.demo_secret_values("http://sandbox")["mixpanel"])
    client = MixpanelClient(creds, http=http, retry_policy=RetryPolicy(max_attempts=1, sleep=lambda _: None))
    return server, sandbox, client


def test_the_sandbox_registers_itself_with_its_demo_secret() -> None:
    assert any(isinstance(s, MixpanelSandbox) for s in all_sandboxes())
    assert demo.demo_secret_values("http://127.0.0.1:4010")["mixpanel"] == {
        "base_url": "http://127.0.0.1:4010/mixpanel",
        "project_id": DEMO_PROJECT_ID,
        "service_account_username": DEMO_USERNAME,
        "service_account_secret": DEMO_SECRET,
    }


def test_the_adapter_against_the_sandbox_imports_once_whatever_the_resends() -> None:
    _, sandbox, client = sandbox_client()
    client.health_check()

    assert [o.status for o in client.send_events([event(1), event(2)])] == ["sent", "sent"]
    assert [o.status for o in client.send_events([event(1), event(3)])] == ["sent", "sent"]  # evt-1 again

    assert [r["properties"]["$insert_id"] for r in sandbox.received] == [insert_id(f"evt-{n}") for n in (1, 2, 3)]
    assert str(sandbox.received[0]["properties"]["value"]) == "1990.50"


def test_the_sandboxs_strict_mode_refuses_per_record_and_imports_the_rest() -> None:
    server, sandbox, _ = sandbox_client()
    http = httpx.Client(transport=httpx.WSGITransport(app=server), base_url="http://sandbox/mixpanel")
    auth = (DEMO_USERNAME, DEMO_SECRET)
    good = {"event": "Signed Up", "properties": {"time": 1_700_000_000_000, "distinct_id": "u1", "$insert_id": "a-1"}}
    bad = {"event": "Signed Up", "properties": {"time": 1_700_000_000_000, "distinct_id": "u2", "$insert_id": "no_"}}
    params = {"strict": "1", "project_id": str(DEMO_PROJECT_ID)}

    answer = http.post("/import", params=params, json=[good, bad], auth=auth)

    assert answer.status_code == 400
    assert answer.json()["num_records_imported"] == 1
    assert [(f["index"], f["field"]) for f in answer.json()["failed_records"]] == [(1, "properties.$insert_id")]
    assert [r["properties"]["distinct_id"] for r in sandbox.received] == ["u1"]
    assert http.post("/import", params=params, json=[good], auth=("x", "y")).status_code == 401
    assert http.post("/import", params={"strict": "1"}, json=[good], auth=auth).status_code == 400
    assert (
        http.post("/import", params=params, content=b"[" + b" " * (3 * 1024 * 1024) + b"]", auth=auth).status_code
        == 413
    )


def test_sandbox_faults_become_retryable_errors() -> None:
    server, sandbox, client = sandbox_client()
    server.set_fault("mixpanel", Fault(mode="error", status=503, times=1))
    with pytest.raises(ProviderUnavailableError):
        client.send_events([event(1)])
    server.set_fault("mixpanel", Fault(mode="rate_limited", retry_after=7, times=1))
    with pytest.raises(RateLimitedError) as info:
        client.send_events([event(1)])
    assert info.value.retry_after == 7 and sandbox.received == []
