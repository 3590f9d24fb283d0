"""Ga4Client against the Measurement Protocol's documented requests and limits (httpx.MockTransport),
and against its sandbox (served in-process, as the local cloud serves it at /ga4), whose
validation server judges the adapter's payloads."""

from __future__ import annotations

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
    ConfigurationError,
    InvalidRequestError,
    OutcomeUnknownError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.providers import descriptor, ports
from hub.providers.ga4.client import Ga4Client, Ga4Credentials, timestamp_micros
from hub.retry import RetryPolicy
from localcloud import demo
from localcloud.sandboxes import SandboxServer, all_sandboxes
from localcloud.sandboxes.base import Fault
from localcloud.sandboxes.ga4 import DEMO_API_SECRET, DEMO_MEASUREMENT_ID, Ga4Sandbox
from tests.helpers import AdapterFactory, recording

SECRET = "ga4-api-secret-7Hq2LmZp"
CREDS = Ga4Credentials(measurement_id="G-ABC123XYZ9", api_secret=SecretStr(SECRET))
NOW = datetime.now(UTC).replace(microsecond=123456)
client_with = AdapterFactory(Ga4Client, CREDS)


def event(n: int = 1, **fields: Any) -> AnalyticsEvent:
    values: dict[str, Any] = {
        "event_id": f"evt-{n}",
        "name": "charge_paid",
        "distinct_id": "org-acme.contact-7",
        "occurred_at": NOW - timedelta(minutes=n),
        "properties": {"value": Decimal("1990.50"), "currency": "BRL", "installments": 3, "first": True},
    }
    values.update(fields)
    return AnalyticsEvent(**values)


def no_content() -> httpx.Response:
    return httpx.Response(204)


# ----- the registry --------------------------------------------------------------------------------


def test_ga4_is_an_analytics_sink_found_by_its_key() -> None:
    found = descriptor("ga4")
    assert found is not None and found.capabilities == {"AnalyticsSink"}
    assert ports.adapter_class(ports.AnalyticsSink, "ga4") is Ga4Client
    assert (Ga4Client.max_batch_events, Ga4Client.max_batch_bytes) == (25, 130_000)
    assert ports.missing_members(ports.AnalyticsSink, Ga4Client) == frozenset()


def test_the_secret_is_strict_and_names_bad_fields_without_values() -> None:
    with pytest.raises(ConfigurationError) as info:
        Ga4Client.parse_credentials({"measurement_id": "UA-123-1", "api_secret": SECRET, "apiSecret": "x"})
    assert "measurement_id" in info.value.message and "apiSecret" in info.value.message
    assert SECRET not in info.value.message
    eu = Ga4Client(Ga4Client.parse_credentials({"measurement_id": "G-ABC123", "api_secret": SECRET, "region": "eu"}))
    assert eu.base_url == "https://region1.google-analytics.com"


# ----- sending -------------------------------------------------------------------------------------


def test_events_are_posted_in_the_measurement_protocol_shape_with_exact_numbers() -> None:
    seen, handler = recording(no_content())
    outcomes = client_with(handler).send_events([event(1), event(2, properties={"plan": "pro"})])

    (request,) = seen  # one distinct_id: one request
    assert (request.method, request.url.path) == ("POST", "/mp/collect")
    assert request.url.host == "www.google-analytics.com"
    assert dict(request.url.params) == {"measurement_id": "G-ABC123XYZ9", "api_secret": SECRET}
    # The Decimal is written digit for digit (1990.50, not 1990.5 or 1990.4999…).
    assert b'"value":1990.50' in request.content
    body = json.loads(request.content)
    assert body == {
        "client_id": "org-acme.contact-7",
        "events": [
            {
                "name": "charge_paid",
                "params": {"value": 1990.5, "currency": "BRL", "installments": 3, "first": "true"},
                "timestamp_micros": timestamp_micros(NOW - timedelta(minutes=1)),
            },
            {
                "name": "charge_paid",
                "params": {"plan": "pro"},
                "timestamp_micros": timestamp_micros(NOW - timedelta(minutes=2)),
            },
        ],
    }
    assert [(o.event_id, o.status) for o in outcomes] == [("evt-1", "sent"), ("evt-2", "sent")]


def test_timestamps_are_exact_microseconds() -> None:
    moment = datetime(2026, 3, 1, 12, 0, 0, 654321, tzinfo=UTC)
    assert timestamp_micros(moment) == 1772366400654321


def test_each_distinct_id_is_its_own_request_and_user_id_is_sent_when_the_org_says_so() -> None:
    seen, handler = recording(no_content())
    creds = CREDS.model_copy(update={"distinct_id_is_user_id": True})
    client_with(handler, creds=creds).send_events([event(1), event(2, distinct_id="other"), event(3)])
    bodies = [json.loads(r.content) for r in seen]
    assert [(b["client_id"], b["user_id"], len(b["events"])) for b in bodies] == [
        ("org-acme.contact-7", "org-acme.contact-7", 2),
        ("other", "other", 1),
    ]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"name": "1st_charge"}, "starting with a letter"),
        ({"name": "charge-paid"}, "starting with a letter"),
        ({"name": "c" * 41}, "longer than 40"),
        ({"name": "session_start"}, "reserved"),
        ({"name": "google_charge"}, "reserved"),
        ({"properties": {f"p{i}": i for i in range(26)}}, "at most 25"),
        ({"properties": {"ga_source": "x"}}, "reserved"),
        ({"properties": {"p" * 41: "x"}}, "longer than 40"),
        ({"properties": {"note": "x" * 101}}, "longer than 100"),
        ({"properties": {"value": Decimal("12345678901234.567")}}, "significant digits"),
        ({"properties": {"big": 2**53 + 1}}, "2**53"),
        ({"occurred_at": NOW - timedelta(hours=73)}, "72 hours"),
    ],
)
def test_an_event_ga4_would_drop_is_rejected_with_its_reason_and_never_sent(
    fields: dict[str, Any], reason: str
) -> None:
    # Given a batch where one event breaks a GA4 rule (production would answer 2xx and drop it)
    seen, handler = recording(no_content())
    client = client_with(handler, org_id=None)
    client._now = lambda: NOW

    outcomes = client.send_events([event(1), event(2, **fields)])

    # Then it alone is rejected, with the rule, and only the valid one travels
    assert outcomes[0].status == "sent"
    assert outcomes[1].status == "rejected" and outcomes[1].reason and reason in outcomes[1].reason
    assert [e["name"] for r in seen for e in json.loads(r.content)["events"]] == ["charge_paid"]


def test_a_batch_of_rejected_events_sends_nothing() -> None:
    seen, handler = recording(no_content())
    outcomes = client_with(handler).send_events([event(1, name="page_view")])
    assert [o.status for o in outcomes] == ["rejected"] and seen == []


def test_more_events_than_one_request_takes_is_the_callers_error_before_sending() -> None:
    seen, handler = recording(no_content())
    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).send_events([event(n) for n in range(26)])
    assert info.value.code == "batch_too_large" and seen == []
    with pytest.raises(InvalidRequestError):
        client_with(handler).send_events([event(1), event(1)])  # the same id twice
    assert seen == []


@pytest.mark.parametrize("status", [500, 503])
def test_an_outage_raises_unavailable_and_is_not_resent(status: int) -> None:
    seen, handler = recording(httpx.Response(status, json={"error": {"code": status, "message": "backend"}}))
    with pytest.raises(ProviderUnavailableError) as info:
        client_with(handler).send_events([event(1)])
    assert info.value.retryable and len(seen) == 1


def test_a_rate_limited_answer_says_how_long_to_wait() -> None:
    _, handler = recording(httpx.Response(429, headers={"Retry-After": "30"}, json={"error": {"code": 429}}))
    with pytest.raises(RateLimitedError) as info:
        client_with(handler).send_events([event(1)])
    assert info.value.retry_after == 30


def test_a_lost_answer_is_an_unknown_outcome_sent_once_listing_what_went_before() -> None:
    # Given two clients' events, the second request's answer lost
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 2:
            raise httpx.ReadTimeout("lost", request=request)
        return no_content()

    with pytest.raises(OutcomeUnknownError) as info:
        client_with(handler, attempts=3).send_events([event(1), event(2, distinct_id="other")])

    # Then it is never resent (GA4 cannot dedupe), and the first request's events are named as sent
    assert len(seen) == 2 and not info.value.retryable
    assert info.value.details["sent_event_ids"] == ["evt-1"]


def test_the_api_secret_never_reaches_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _, handler = recording(httpx.Response(400, json={"error": {"message": f"bad api_secret={SECRET}"}}))
    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).send_events([event(1)])
    assert SECRET not in str(info.value) and SECRET not in repr(info.value.to_dict())
    assert all(SECRET not in f"{r.getMessage()} {vars(r)}" for r in caplog.records)


# ----- validation server, health ----------------------------------------------------------------


def test_validate_events_reads_googles_validation_messages() -> None:
    answer = {
        "validationMessages": [
            {
                "fieldPath": "events",
                "description": "Event at index: [0] has invalid name [_x]. "
                "Names must start with an alphabetic character.",
                "validationCode": "NAME_INVALID",
            }
        ]
    }
    seen, handler = recording(httpx.Response(200, json=answer))
    (message,) = client_with(handler).validate_events([event(1, name="x_bad")])
    assert seen[0].url.path == "/debug/mp/collect"
    assert (message.field_path, message.validation_code) == ("events", "NAME_INVALID")


def test_health_check_fails_on_validation_messages() -> None:
    answer = {
        "validationMessages": [{"fieldPath": "client_id", "description": "no", "validationCode": "VALUE_REQUIRED"}]
    }
    _, handler = recording(httpx.Response(200, json=answer))
    with pytest.raises(InvalidRequestError) as info:  # IntegrationConnect: invalid_credentials
        client_with(handler).health_check()
    assert (info.value.code, info.value.http_status) == ("VALUE_REQUIRED", 200)
    _, healthy = recording(httpx.Response(200, json={"validationMessages": []}))
    client_with(healthy).health_check()


# ----- the sandbox keeps Google's contract, and the adapter's payloads pass its validation -------


def sandbox_client(sandbox: Ga4Sandbox | None = None) -> tuple[SandboxServer, Ga4Sandbox, Ga4Client]:
    sandbox = sandbox or Ga4Sandbox()
    server = SandboxServer([sandbox])
    http = httpx.Client(transport=httpx.WSGITransport(app=server))
    creds = Ga4Client.parse_credentials(demo.demo_secret_values("http://sandbox")["ga4"])
    client = Ga4Client(creds, http=http, retry_policy=RetryPolicy(max_attempts=1, sleep=lambda _: None))
    return server, sandbox, client


def test_the_sandbox_registers_itself_with_its_demo_secret() -> None:
    assert any(isinstance(s, Ga4Sandbox) for s in all_sandboxes())
    assert demo.demo_secret_values("http://127.0.0.1:4010")["ga4"] == {
        "base_url": "http://127.0.0.1:4010/ga4",
        "measurement_id": DEMO_MEASUREMENT_ID,
        "api_secret": DEMO_API_SECRET,
    }


def test_the_adapters_payloads_are_valid_for_the_validation_server_and_recorded() -> None:
    _, sandbox, client = sandbox_client()
    events = [event(1), event(2, distinct_id="org-acme.contact-9", properties={"plan": "pro", "seats": 12})]

    assert client.validate_events(events) == []
    outcomes = client.send_events(events)

    assert [o.status for o in outcomes] == ["sent", "sent"]
    assert str(sandbox.received[0]["params"]["value"]) == "1990.50"  # exact on the wire
    assert [(r["client_id"], r["name"], r["params"]) for r in sandbox.received] == [
        (
            "org-acme.contact-7",
            "charge_paid",
            {"value": Decimal("1990.50"), "currency": "BRL", "installments": 3, "first": "true"},
        ),
        ("org-acme.contact-9", "charge_paid", {"plan": "pro", "seats": 12}),
    ]
    client.health_check()
    assert sandbox.received[-1]["name"] == "charge_paid"  # the health check records nothing


def test_the_validation_server_answers_googles_messages_for_what_the_adapter_refuses() -> None:
    _, _, client = sandbox_client()
    messages = client.validate_events(
        [event(1, name="_bad"), event(2, name="session_start"), event(3, properties={"note": "x" * 101})]
    )
    assert [(m.field_path, m.validation_code) for m in messages] == [
        ("events", "NAME_INVALID"),
        ("events", "NAME_RESERVED"),
        ("events[2].params", "VALUE_OUT_OF_BOUNDS"),
    ]
    assert messages[0].description == (
        "Event at index: [0] has invalid name [_bad]. Names must start with an alphabetic character."
    )


def test_collection_answers_204_to_anything_and_records_only_what_is_valid_for_its_stream() -> None:
    server, sandbox, _ = sandbox_client()
    http = httpx.Client(transport=httpx.WSGITransport(app=server), base_url="http://sandbox/ga4")
    good = {"client_id": "c1", "events": [{"name": "signed_up", "params": {}}, {"name": "page_view"}]}
    wrong = http.post("/mp/collect", params={"measurement_id": DEMO_MEASUREMENT_ID, "api_secret": "nope"}, json=good)
    ours = http.post(
        "/mp/collect", params={"measurement_id": DEMO_MEASUREMENT_ID, "api_secret": DEMO_API_SECRET}, json=good
    )
    junk = http.post(
        "/mp/collect", params={"measurement_id": DEMO_MEASUREMENT_ID, "api_secret": DEMO_API_SECRET}, content=b"{"
    )
    assert [r.status_code for r in (wrong, ours, junk)] == [204, 204, 204]
    assert [r["name"] for r in sandbox.received] == ["signed_up"]  # page_view is reserved: dropped


def test_sandbox_faults_become_the_hubs_errors() -> None:
    server, sandbox, client = sandbox_client()
    server.set_fault("ga4", Fault(mode="error", status=503, times=1))
    with pytest.raises(ProviderUnavailableError):
        client.send_events([event(1)])
    server.set_fault("ga4", Fault(mode="rate_limited", retry_after=7, times=1))
    with pytest.raises(RateLimitedError) as info:
        client.send_events([event(1)])
    assert info.value.retry_after == 7 and sandbox.received == []


def test_the_validation_server_checks_the_request_as_google_does() -> None:
    server, _, _ = sandbox_client()
    http = httpx.Client(transport=httpx.WSGITransport(app=server), base_url="http://sandbox/ga4")
    ours = {"measurement_id": DEMO_MEASUREMENT_ID, "api_secret": "not checked by the validation server"}
    old = timestamp_micros(datetime.now(UTC) - timedelta(hours=73))

    def codes(body: Any, params: dict[str, str] = ours) -> list[tuple[str, str]]:
        answer = http.post("/debug/mp/collect", params=params, json=body)
        assert answer.status_code == 200
        return [(m["fieldPath"], m["validationCode"]) for m in answer.json()["validationMessages"]]

    assert codes({"client_id": "c", "events": [{"name": "ok"}]}) == []
    assert codes({"client_id": "c", "events": [{"name": "ok"}]}, {"api_secret": "x"}) == [
        ("measurement_id", "VALUE_REQUIRED")
    ]
    assert codes({"events": [{"name": "ok"}]}) == [("client_id", "VALUE_REQUIRED")]
    assert codes({"client_id": "c", "events": [{"name": "ok"}] * 26}) == [("events", "EXCEEDED_MAX_ENTITIES")]
    assert codes({"client_id": "c", "events": [{"name": "ok", "params": {f"p{i}": i for i in range(26)}}]}) == [
        ("events[0].params", "EXCEEDED_MAX_ENTITIES")
    ]
    assert codes({"client_id": "c", "events": [{"name": "ok", "params": {"flag": True}}]}) == [
        ("events[0].params", "VALUE_INVALID")
    ]
    assert codes({"client_id": "c", "events": [{"name": "ok", "timestamp_micros": old}]}) == [
        ("events[0].timestamp_micros", "VALUE_OUT_OF_BOUNDS")
    ]
    assert codes(
        {"client_id": "c", "events": [{"name": "ok", "params": {"t": "x" * 99}}] * 25} | {"pad": "y" * 130_000}
    ) == [("", "VALUE_OUT_OF_BOUNDS")]
