"""AnalyticsForward on moto: hub bus → the template's rule → AnalyticsQueue → each org's sinks.

The sinks are fakes found the way domain code finds any capability (``ports.for_org``); the
queues, the rule, the ledger and the mappings are the template's own resources."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest

from hub import bus
from hub.analytics import forward
from hub.analytics.models import AnalyticsEvent, SinkOutcome
from hub.errors import InvalidRequestError, OutcomeUnknownError, ProviderUnavailableError, RateLimitedError
from hub.providers import ports
from tests.aws.conftest import HubAws
from tests.helpers import FakeLambdaContext, load_function

ACME_MAPPING = {
    "sinks": ["posthog", "mixpanel", "ga4"],
    "events": [
        {
            "type": "payment.received",
            "name": "payment_received",
            "names": {"ga4": "purchase"},
            "properties": {"value_cents": "data.amount_cents", "method": "data.method", "payer": "data.customer_email"},
        },
        {
            "type": "message.status",
            "where": {"data.status": ["delivered"]},
            "name": "message_delivered",
            "sinks": ["posthog", "mixpanel"],
            "properties": {"channel": "data.channel", "to": "data.recipient"},
        },
    ],
}


@dataclass
class SinkState:
    requests: list[list[AnalyticsEvent]] = field(default_factory=list)
    failure: Exception | None = None
    refuse: set[str] = field(default_factory=set)

    @property
    def sent_ids(self) -> list[str]:
        return [e.event_id for r in self.requests for e in r]


class FakeSink:
    """An AnalyticsSink: records each request, or fails as told."""

    max_batch_events: ClassVar[int] = 5
    max_batch_bytes: ClassVar[int] = 100_000
    writes_have_effects: ClassVar[bool] = False  # a resend is deduped by the vendor

    def __init__(self, state: SinkState) -> None:
        self.state = state

    def send_events(self, events: list[AnalyticsEvent]) -> list[SinkOutcome]:
        assert len(events) <= self.max_batch_events
        if self.state.failure is not None:
            raise self.state.failure
        self.state.requests.append(list(events))
        return [
            SinkOutcome(event_id=e.event_id, status="rejected", reason="bad event")
            if e.event_id in self.state.refuse
            else SinkOutcome(event_id=e.event_id, status="sent")
            for e in events
        ]


class FakeGa4(FakeSink):
    max_batch_events: ClassVar[int] = 25
    writes_have_effects: ClassVar[bool] = True  # no dedupe key: at most once


@pytest.fixture
def sinks(monkeypatch: pytest.MonkeyPatch) -> dict[str, SinkState]:
    states = {"posthog": SinkState(), "mixpanel": SinkState(), "ga4": SinkState()}
    classes: dict[str, type[FakeSink]] = {"posthog": FakeSink, "mixpanel": FakeSink, "ga4": FakeGa4}
    asked: list[tuple[Any, str, str]] = []

    def for_org(port: Any, org_id: str, provider: str, **kwargs: Any) -> Any:
        assert port is ports.AnalyticsSink
        asked.append((port, org_id, provider))
        return classes[provider](states[provider])

    def adapter_class(port: Any, provider: str, *, field: str = "provider") -> Any:
        if provider not in classes:
            raise InvalidRequestError(f"{field}: {provider} is not a AnalyticsSink", code="capability_unsupported")
        return classes[provider]

    monkeypatch.setattr(ports, "for_org", for_org)
    monkeypatch.setattr(ports, "adapter_class", adapter_class)
    return states


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The delay each retry message would wait (recorded), made 0 so the test reads it at once."""
    seen: list[int] = []
    original = forward.retry_delay

    def no_wait(exc: Any) -> int:
        seen.append(original(exc))
        return 0

    monkeypatch.setattr(forward, "retry_delay", no_wait)
    yield seen


def set_mapping(org_id: str, mapping: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = load_function("analytics_mapping_set").handler(
        {"org_id": org_id, "mapping": mapping, "updated_by": "tests"}, FakeLambdaContext()
    )
    return answer


def payment(n: int, org_id: str = "acme") -> dict[str, Any]:
    return {
        "event_id": f"00000000-0000-5000-8000-{n:012d}",
        "org_id": org_id,
        "provider": "asaas",
        "type": "payment.received",
        "occurred_at": "2026-11-20T14:03:10+00:00",
        "data": {"amount_cents": 1000 + n, "method": "pix", "customer_email": "maria@example.com"},
    }


def queue_url(hub_aws: HubAws, logical_id: str) -> str:
    return str(hub_aws.template.ref_resource(logical_id))


def take(hub_aws: HubAws, logical_id: str, expected: int) -> dict[str, Any]:
    """The queue's messages (waiting until ``expected`` are there) as Lambda's SQS event."""
    sqs, url = hub_aws.client("sqs"), queue_url(hub_aws, logical_id)
    messages: dict[str, dict[str, Any]] = {}
    while len(messages) < expected:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=30, AttributeNames=["All"]
        )
        for m in batch.get("Messages", []):
            messages.setdefault(m["MessageId"], m)
    return hub_aws.as_sqs_event(url, list(messages.values()))


def publish(*details: dict[str, Any]) -> None:
    bus.put_events((d.get("type", "payment.received"), d) for d in details)


def run(event: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = load_function("analytics_forward").handler(
        event, FakeLambdaContext("AnalyticsForward", timeout_ms=60_000)
    )
    return answer


def test_bus_events_reach_each_sink_once_across_redeliveries(hub_aws: HubAws, sinks: dict[str, SinkState]) -> None:
    # Given acme's mapping and seven payments on the hub bus (one for an org without a mapping)
    set_mapping("acme", ACME_MAPPING)
    publish(*(payment(n) for n in range(7)), payment(99, org_id="beta"))

    # When AnalyticsForward gets what the template's rule routed to AnalyticsQueue
    event = take(hub_aws, "AnalyticsQueue", 8)
    assert run(event) == {"batchItemFailures": []}

    # Then every sink got each acme payment once, within its request limit, under its own name
    wanted = [payment(n)["event_id"] for n in range(7)]
    for name in ("posthog", "mixpanel", "ga4"):
        assert sorted(sinks[name].sent_ids) == wanted
    assert [len(r) for r in sinks["posthog"].requests] == [5, 2]
    assert [len(r) for r in sinks["ga4"].requests] == [7]
    assert {e.name for r in sinks["ga4"].requests for e in r} == {"purchase"}
    sent = sinks["posthog"].requests[0][0]
    assert sent.name == "payment_received" and sent.distinct_id == "acme"
    # And the payer's email never left: the mapping does not allow it
    assert all("payer" not in e.properties for s in sinks.values() for r in s.requests for e in r)
    assert {e.properties["value_cents"] for r in sinks["mixpanel"].requests for e in r} == set(range(1000, 1007))

    # When the same records are delivered again (SQS at-least-once) and a second copy is published
    assert run(event) == {"batchItemFailures": []}
    publish(payment(3))
    assert run(take(hub_aws, "AnalyticsQueue", 1)) == {"batchItemFailures": []}

    # Then nothing was sent twice
    for name in ("posthog", "mixpanel", "ga4"):
        assert sorted(sinks[name].sent_ids) == wanted
    assert forward.ledger_status("acme", "ga4", wanted[3]) == "sent"


def analytics_metrics(out: str) -> dict[tuple[str, str], int]:
    """AnalyticsEvents EMF lines on stdout: (sink, outcome) -> count."""
    found: dict[tuple[str, str], int] = {}
    for line in out.splitlines():
        if line.startswith("{") and '"AnalyticsEvents"' in line:
            blob = json.loads(line)
            key = (blob["Provider"], blob["Outcome"])
            value = blob["AnalyticsEvents"]
            found[key] = found.get(key, 0) + int(sum(value) if isinstance(value, list) else value)
    return found


def test_a_sink_that_is_down_delays_only_its_own_events(
    hub_aws: HubAws, sinks: dict[str, SinkState], delays: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given PostHog down while Mixpanel and GA4 answer
    set_mapping("acme", ACME_MAPPING)
    sinks["posthog"].failure = ProviderUnavailableError("posthog: 503", provider="posthog")
    publish(*(payment(n) for n in range(3)))

    # When the batch is forwarded
    bus_event = take(hub_aws, "AnalyticsQueue", 3)
    assert run(bus_event) == {"batchItemFailures": []}

    # Then the others got every event, and PostHog's wait on the retry queue (30 s later)
    wanted = [payment(n)["event_id"] for n in range(3)]
    assert sorted(sinks["mixpanel"].sent_ids) == wanted and sorted(sinks["ga4"].sent_ids) == wanted
    assert sinks["posthog"].sent_ids == []
    assert delays == [30]
    # And the operators see it per sink and outcome (EMF, the dashboard's AnalyticsEvents)
    assert analytics_metrics(capsys.readouterr().out) == {
        ("posthog", "delayed"): 3,
        ("mixpanel", "sent"): 3,
        ("ga4", "sent"): 3,
    }
    retry_event = take(hub_aws, "AnalyticsRetryQueue", 1)
    retry = json.loads(retry_event["Records"][0]["body"])
    assert (retry["kind"], retry["org_id"], retry["sink"]) == ("analytics.retry", "acme", "posthog")
    assert sorted(e["event_id"] for e in retry["events"]) == wanted

    # When the retry comes while PostHog is still down
    failed = run(retry_event)

    # Then that record fails (hub.batch's backoff, then AnalyticsRetryDLQ), nothing else is touched
    assert failed == {"batchItemFailures": [{"itemIdentifier": retry_event["Records"][0]["messageId"]}]}
    assert sinks["posthog"].sent_ids == [] and sorted(sinks["mixpanel"].sent_ids) == wanted

    # When PostHog is back and the retry is delivered again
    sinks["posthog"].failure = None
    assert run(retry_event) == {"batchItemFailures": []}

    # Then PostHog got each event once, and no other sink got anything twice
    assert sorted(sinks["posthog"].sent_ids) == wanted
    assert sorted(sinks["mixpanel"].sent_ids) == wanted and sorted(sinks["ga4"].sent_ids) == wanted
    # Nor after the original records come back (a redelivery after all this)
    assert run(bus_event) == {"batchItemFailures": []}
    assert sorted(sinks["posthog"].sent_ids) == wanted and sorted(sinks["ga4"].sent_ids) == wanted


def test_a_rate_limited_sink_waits_for_its_retry_after(
    hub_aws: HubAws, sinks: dict[str, SinkState], delays: list[int]
) -> None:
    set_mapping("acme", {"sinks": ["mixpanel"], "events": [{"type": "payment.received", "name": "paid"}]})
    sinks["mixpanel"].failure = RateLimitedError("mixpanel: 429", retry_after=120, provider="mixpanel")
    publish(payment(1))

    assert run(take(hub_aws, "AnalyticsQueue", 1)) == {"batchItemFailures": []}

    assert delays == [120]
    retry = json.loads(take(hub_aws, "AnalyticsRetryQueue", 1)["Records"][0]["body"])
    assert [e["event_id"] for e in retry["events"]] == [payment(1)["event_id"]]


def test_a_lost_answer_is_resent_only_to_a_sink_that_dedupes(
    hub_aws: HubAws, sinks: dict[str, SinkState], delays: list[int]
) -> None:
    # Given both sinks' answers lost (a timeout after the request was sent)
    set_mapping("acme", ACME_MAPPING)
    for name in ("posthog", "ga4"):
        sinks[name].failure = OutcomeUnknownError(f"{name}: no answer", provider=name)
    publish(payment(1))
    bus_event = take(hub_aws, "AnalyticsQueue", 1)

    assert run(bus_event) == {"batchItemFailures": []}

    # Then PostHog's event (deduped by its id at PostHog) goes to the retry queue; GA4's is
    # recorded unknown and never resent (at most once), even when the record comes back
    event_id = payment(1)["event_id"]
    assert forward.ledger_status("acme", "ga4", event_id) == "unknown"
    assert forward.ledger_status("acme", "posthog", event_id) is None  # released for the retry
    retry = json.loads(take(hub_aws, "AnalyticsRetryQueue", 1)["Records"][0]["body"])
    assert retry["sink"] == "posthog"
    sinks["ga4"].failure = sinks["posthog"].failure = None
    assert run(bus_event) == {"batchItemFailures": []}
    assert sinks["ga4"].sent_ids == []
    assert sinks["posthog"].sent_ids == [event_id]


def test_a_crash_mid_send_brings_the_record_back_and_gives_back_what_may_be_resent(
    hub_aws: HubAws, sinks: dict[str, SinkState]
) -> None:
    # Given a bug in both sinks' adapters (not a hub error: nobody knows whether they sent)
    set_mapping("acme", ACME_MAPPING)
    for name in ("posthog", "ga4"):
        sinks[name].failure = KeyError("a bug")
    publish(payment(1))
    bus_event = take(hub_aws, "AnalyticsQueue", 1)

    # When the batch is forwarded, Then the record comes back; Mixpanel got its event
    record = bus_event["Records"][0]["messageId"]
    assert run(bus_event) == {"batchItemFailures": [{"itemIdentifier": record}]}
    event_id = payment(1)["event_id"]
    assert sinks["mixpanel"].sent_ids == [event_id]

    # When the bug is fixed and the record is redelivered
    sinks["posthog"].failure = sinks["ga4"].failure = None
    assert run(bus_event) == {"batchItemFailures": []}

    # Then PostHog (dedupes) gets it; GA4 (may already have it, no dedupe) does not; Mixpanel once
    assert sinks["posthog"].sent_ids == [event_id]
    assert sinks["ga4"].sent_ids == []
    assert forward.ledger_status("acme", "ga4", event_id) == "claimed"
    assert sinks["mixpanel"].sent_ids == [event_id]


def test_events_an_adapter_sent_before_its_failing_request_are_never_resent(
    hub_aws: HubAws, sinks: dict[str, SinkState], delays: list[int]
) -> None:
    # Given GA4 answering the first of its requests and then down (one request per distinct_id)
    set_mapping("acme", {"sinks": ["ga4"], "events": [{"type": "payment.received", "name": "paid"}]})
    ids = [payment(n)["event_id"] for n in range(3)]
    failure = ProviderUnavailableError("ga4: 503", provider="ga4")
    failure.details["sent_event_ids"] = ids[:1]
    sinks["ga4"].failure = failure
    publish(*(payment(n) for n in range(3)))

    assert run(take(hub_aws, "AnalyticsQueue", 3)) == {"batchItemFailures": []}

    # Then the one it sent is recorded sent; only the other two wait on the retry queue
    assert forward.ledger_status("acme", "ga4", ids[0]) == "sent"
    retry_event = take(hub_aws, "AnalyticsRetryQueue", 1)
    assert sorted(e["event_id"] for e in json.loads(retry_event["Records"][0]["body"])["events"]) == ids[1:]
    sinks["ga4"].failure = None
    assert run(retry_event) == {"batchItemFailures": []}
    assert sorted(sinks["ga4"].sent_ids) == ids[1:]


def test_partial_batch_failures_report_only_the_records_that_must_come_back(
    hub_aws: HubAws, sinks: dict[str, SinkState], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given acme mapped, beta's mapping unreadable right now, one garbage record and one
    # event a sink refuses for good
    set_mapping("acme", ACME_MAPPING)
    set_mapping("beta", ACME_MAPPING)
    original = forward.load_mapping

    def load_mapping(org_id: str) -> Any:
        if org_id == "beta":
            raise ProviderUnavailableError("the analytics mapping could not be read", provider="dynamodb")
        return original(org_id)

    monkeypatch.setattr(forward, "load_mapping", load_mapping)
    sinks["mixpanel"].refuse = {payment(2)["event_id"]}
    publish(payment(1), payment(2), payment(3, org_id="beta"))
    event = take(hub_aws, "AnalyticsQueue", 3)
    hub_aws.client("sqs").send_message(QueueUrl=queue_url(hub_aws, "AnalyticsQueue"), MessageBody="not json")
    garbage = take(hub_aws, "AnalyticsQueue", 1)["Records"]
    event["Records"] += garbage

    # When the batch is forwarded
    answer = run(event)

    # Then only beta's record comes back (its mapping may be readable later); the garbage is
    # consumed (retrying cannot fix it); the refused event is not retried
    beta = next(r for r in event["Records"] if '"org_id": "beta"' in r["body"])
    assert answer == {"batchItemFailures": [{"itemIdentifier": beta["messageId"]}]}
    assert sorted(sinks["posthog"].sent_ids) == [payment(1)["event_id"], payment(2)["event_id"]]
    assert forward.ledger_status("acme", "mixpanel", payment(2)["event_id"]) == "rejected"
    assert forward.ledger_status("acme", "mixpanel", payment(1)["event_id"]) == "sent"


def test_message_statuses_map_by_their_status_and_phones_stay_home(
    hub_aws: HubAws, sinks: dict[str, SinkState]
) -> None:
    set_mapping("acme", ACME_MAPPING)
    statuses = [
        {
            "event_id": f"11111111-0000-5000-8000-{n:012d}",
            "org_id": "acme",
            "type": "message.status",
            "occurred_at": "2026-11-20T14:03:10+00:00",
            "data": {
                "channel": "whatsapp",
                "message_id": f"wamid.{n}",
                "status": status,
                "recipient": "+5511987654321",
            },
        }
        for n, status in enumerate(["sent", "delivered", "read"])
    ]
    publish(*statuses)

    assert run(take(hub_aws, "AnalyticsQueue", 3)) == {"batchItemFailures": []}

    # Only "delivered" has a rule; GA4 is not among its sinks; the recipient's phone is stripped
    assert [(e.event_id, e.name, dict(e.properties)) for r in sinks["posthog"].requests for e in r] == [
        (statuses[1]["event_id"], "message_delivered", {"channel": "whatsapp"})
    ]
    assert sinks["ga4"].requests == []


def test_the_mapping_is_stored_and_read_back_and_an_unknown_sink_is_refused(
    hub_aws: HubAws, sinks: dict[str, SinkState]
) -> None:
    get = load_function("analytics_mapping_get")
    assert get.handler({"org_id": "acme"}, FakeLambdaContext())["mapping"]["events"] == []  # default: nothing

    stored = set_mapping("acme", ACME_MAPPING)

    answer = get.handler({"org_id": "acme"}, FakeLambdaContext())
    assert answer["mapping"] == stored["mapping"]
    assert answer["mapping"]["events"][0]["names"] == {"ga4": "purchase"}
    assert answer["updated_by"] == "tests" and answer["updated_at"]
    # And the change is on the org's audit trail: what may leave, by name
    [audited] = [
        r
        for r in load_function("audit_query").handler(
            {"org_id": "acme", "from": "2000-01-01T00:00:00+00:00", "to": "2100-01-01T00:00:00+00:00"},
            FakeLambdaContext(),
        )["records"]
        if r["action"] == "analytics_mapping_set"
    ]
    assert audited["actor"] == "tests"
    assert audited["details"] == {
        "sinks": ["posthog", "mixpanel", "ga4"],
        "event_types": ["message.status", "payment.received"],
        "allow_pii": [],
    }
    with pytest.raises(InvalidRequestError) as caught:
        set_mapping("acme", {**ACME_MAPPING, "sinks": ["posthog", "mixpanel", "ga4", "amplitude"]})
    assert "mapping.sinks.3" in caught.value.message
    assert get.handler({"org_id": "acme"}, FakeLambdaContext())["mapping"] == stored["mapping"]
