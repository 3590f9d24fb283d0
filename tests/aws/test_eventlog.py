"""The event log as the operator console reads it: records by org and time, filtered, paged
across months with cursors bound to their query, one record by id, re-records updating the one
record, issues grouping failures, and a log that never fails what it records."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub import eventlog
from hub.errors import InvalidRequestError, NotFoundError, OutcomeUnknownError, ProviderUnavailableError
from hub.eventlog import EventQuery, ProviderCall
from hub.events import HubEvent
from tests.aws.conftest import HubAws
from tests.aws.test_webhook_evolution import SECRET, payload, post
from tests.helpers import load_function

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(hub_aws: HubAws, monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock(T0)
    monkeypatch.setattr(eventlog, "_now", frozen)
    return frozen


def inbound(
    event_id: str, at: datetime, *, org: str = "acme", provider: str = "evolution", type_: str = "message.received"
) -> HubEvent:
    return HubEvent(
        event_id=event_id,
        org_id=org,
        provider=provider,
        type=type_,
        dedupe_key=event_id,
        occurred_at=at,
        received_at=at,
        data={"from_address": "+5511987654321", "text": "oi"},
        raw_ref=f"raw/{provider}/{org}/{event_id}.json",
    )


def items(hub_aws: HubAws) -> list[dict[str, Any]]:
    scan = hub_aws.client("dynamodb").scan(TableName=hub_aws.env["EVENT_LOG_TABLE"])
    return [i for i in scan["Items"] if i["pk"]["S"] != "issues"]


def ids(page: eventlog.EventPage) -> list[str]:
    return [item.record_id for item in page.items]


def everything(query: EventQuery) -> list[str]:
    """Every page of ``query``, following cursors."""
    seen: list[str] = []
    page = eventlog.query_events(query)
    seen += ids(page)
    while page.cursor:
        page = eventlog.query_events(query.model_copy(update={"cursor": page.cursor}))
        seen += ids(page)
    return seen


def test_records_are_listed_newest_first_and_filtered(clock: Clock) -> None:
    # Given inbound and outbound records of two orgs and providers, in two months
    eventlog.record_inbound(inbound("in-1", T0 - timedelta(days=25)), "delivered")
    eventlog.record_inbound(
        inbound("in-2", T0 - timedelta(hours=2), provider="resend", type_="email.delivered"), "delivered"
    )
    eventlog.record_inbound(inbound("in-3", T0 - timedelta(hours=1)), "failed", error=ValueError("boom"))
    eventlog.record_inbound(inbound("in-other", T0 - timedelta(hours=1), org="other"), "delivered")
    out = eventlog.record_outbound(
        "whatsapp.send_text",
        "acme",
        status="succeeded",
        provider="evolution",
        request={"text": "oi"},
        response={"message_id": "M1"},
        error=None,
        calls=[],
        at=T0 - timedelta(minutes=30),
    )
    # When the console lists the org's last 30 days (the default range), and filters
    page = eventlog.query_events(EventQuery(org_id="acme"))
    # Then newest first, only this org
    assert ids(page) == [out, "in-3", "in-2", "in-1"]
    assert page.cursor is None
    assert page.items[1].status == "failed" and page.items[1].error_class == "ValueError"
    assert ids(eventlog.query_events(EventQuery(org_id="acme", provider="evolution"))) == [out, "in-3", "in-1"]
    assert ids(eventlog.query_events(EventQuery(org_id="acme", status="failed"))) == ["in-3"]
    assert ids(eventlog.query_events(EventQuery(org_id="acme", status="delivered", provider="resend"))) == ["in-2"]
    assert ids(eventlog.query_events(EventQuery(org_id="acme", type="email.delivered"))) == ["in-2"]
    assert ids(eventlog.query_events(EventQuery(org_id="acme", direction="outbound"))) == [out]
    window = EventQuery(org_id="acme", start=T0 - timedelta(hours=3), end=T0 - timedelta(minutes=45))
    assert ids(eventlog.query_events(window)) == ["in-3", "in-2"]
    # and a range that ends before the oldest record finds nothing
    assert ids(eventlog.query_events(EventQuery(org_id="acme", end=T0 - timedelta(days=26)))) == []


def test_pages_follow_cursors_across_months_without_gaps_or_repeats(clock: Clock) -> None:
    # Given 130 records over three months (Oct, Nov, Dec), a failed one every fifth
    start = datetime(2026, 10, 20, tzinfo=UTC)
    expected = []
    for i in range(130):
        at = start + timedelta(hours=12 * i)
        status = "failed" if i % 5 == 0 else "delivered"
        eventlog.record_inbound(
            inbound(f"ev-{i:03d}", at), status, error=RuntimeError("x") if status == "failed" else None
        )
        expected.append((at, f"ev-{i:03d}", status))
    expected.sort(reverse=True)
    query = EventQuery(org_id="acme", start=start, end=start + timedelta(days=70), limit=50)
    # When the console pages through them
    first = eventlog.query_events(query)
    # Then 50 a page, newest first, and the pages together are every record once
    assert len(first.items) == 50 and first.cursor
    assert everything(query) == [record_id for _, record_id, _ in expected]
    # also through an index (status) and through a filter (type) with small pages
    failed = [record_id for _, record_id, status in expected if status == "failed"]
    assert everything(query.model_copy(update={"status": "failed", "limit": 7})) == failed
    assert everything(query.model_copy(update={"type": "message.received", "limit": 40})) == [r for _, r, _ in expected]
    assert everything(query.model_copy(update={"type": "nothing.like.this"})) == []


def test_a_cursor_belongs_to_its_query(clock: Clock) -> None:
    for i in range(3):
        eventlog.record_inbound(inbound(f"c-{i}", T0 - timedelta(hours=i)), "delivered")
    query = EventQuery(org_id="acme", limit=1)
    cursor = eventlog.query_events(query).cursor
    assert cursor
    # Another query (another provider, another org) cannot use it, nor an edited one
    for other in (
        EventQuery(org_id="acme", provider="resend", limit=1, cursor=cursor),
        EventQuery(org_id="other", limit=1, cursor=cursor),
        EventQuery(org_id="acme", limit=1, cursor=cursor[:-2] + "xx"),
    ):
        with pytest.raises(InvalidRequestError, match="cursor"):
            eventlog.query_events(other)
    # while the same query with another page size continues
    assert ids(eventlog.query_events(EventQuery(org_id="acme", limit=5, cursor=cursor))) == ["c-1", "c-2"]


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"limit": "5"}, "limit"),
        ({"status": "lost"}, "status"),
        ({"direction": "sideways"}, "direction"),
        ({"start": "2026-11-01T00:00:00"}, "start"),
        ({"start": T0, "end": T0 - timedelta(days=1)}, "start"),
        ({"org_id": "acme\n"}, "org_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_query_names_its_field(fields: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        EventQuery.model_validate({"org_id": "acme", **fields})
    assert named in info.value.message


def test_one_record_by_id_with_its_attempts_and_re_records_update_it(clock: Clock, hub_aws: HubAws) -> None:
    event = inbound("re-1", T0 - timedelta(minutes=5))
    # Given an event that failed once, was then delivered, and a copy came again
    eventlog.record_inbound(event, "failed", error=ProviderUnavailableError("EventBridge refused", provider="events"))
    clock.now = T0 + timedelta(minutes=1)
    eventlog.record_inbound(event, "delivered")
    clock.now = T0 + timedelta(minutes=2)
    eventlog.record_inbound(event, "duplicate")
    # When the console opens it
    detail = eventlog.get_event("re-1")
    # Then one record, delivered (a copy does not undo it), with every attempt
    assert len(items(hub_aws)) == 1
    assert detail is not None
    assert detail.status == "delivered" and detail.error_class is None and detail.error_message is None
    assert [a.outcome for a in detail.attempts] == ["failed", "delivered", "duplicate"]
    assert detail.attempts[0].error_class == "ProviderUnavailableError"
    assert detail.raw_ref == "raw/evolution/acme/re-1.json"
    # the normalised event, with its personal data masked
    assert detail.event is not None and detail.event["type"] == "message.received"
    assert "+5511987654321" not in json.dumps(detail.event) and detail.event["data"]["text"] == "[masked]"
    # listed once, under its final status
    assert ids(eventlog.query_events(EventQuery(org_id="acme", status="delivered"))) == ["re-1"]
    assert ids(eventlog.query_events(EventQuery(org_id="acme", status="failed"))) == []
    assert eventlog.get_event("nope") is None
    with pytest.raises(InvalidRequestError, match="record_id"):
        eventlog.get_event("")


def test_outbound_records_are_masked_and_an_unknown_outcome_is_unknown(clock: Clock) -> None:
    calls = [
        ProviderCall(
            provider="evolution",
            method="POST",
            path="/message/sendText/x",
            status=None,
            latency_ms=30000,
            error_class="ReadTimeout",
        )
    ]
    record_id = eventlog.record_outbound(
        "whatsapp.send_text",
        "acme",
        status=eventlog.outbound_status(OutcomeUnknownError("no answer", provider="evolution")),
        provider="evolution",
        request={"to": "+5511912345678", "api_key": "sk-live-123456789", "text": "Oi"},
        response=None,
        error=OutcomeUnknownError("no answer after Bearer abcdef123456", provider="evolution"),
        calls=calls,
    )
    detail = eventlog.get_event(record_id)
    assert detail is not None
    assert (detail.direction, detail.status, detail.type) == ("outbound", "unknown", "whatsapp.send_text")
    assert detail.request == {"to": "[masked]", "api_key": "[masked]", "text": "[masked]"}
    assert detail.error_message is not None and "abcdef123456" not in detail.error_message
    assert detail.calls == calls
    [issue] = eventlog.list_issues(org_id="acme")
    assert (issue.provider, issue.error_class, issue.status) == ("evolution", "OutcomeUnknownError", "open")


def test_failures_group_into_issues_that_reopen_when_resolved(clock: Clock, hub_aws: HubAws) -> None:
    boom = ProviderUnavailableError("502 from Evolution", provider="evolution")
    # Given two failures of one class, one of another org
    eventlog.record_inbound(inbound("i-3", T0, org="other"), "failed", error=ValueError("bad"))
    eventlog.record_inbound(inbound("i-1", T0), "failed", error=boom)
    clock.now = T0 + timedelta(hours=1)
    eventlog.record_inbound(inbound("i-2", T0 + timedelta(hours=1)), "failed", error=boom)
    eventlog.record_inbound(inbound("i-4", T0), "delivered")  # not an issue
    # Then one issue per org, provider and error class, counted
    [acme] = eventlog.list_issues(org_id="acme")
    assert (acme.count, acme.status, acme.first_seen, acme.last_seen) == (2, "open", T0, T0 + timedelta(hours=1))
    assert acme.last_record_id == "i-2" and acme.last_message == "502 from Evolution"
    assert [i.org_id for i in eventlog.list_issues()] == ["acme", "other"]  # last seen first
    # When an operator resolves it, and it fails again
    resolved = eventlog.set_issue_status(
        "acme", "evolution", "ProviderUnavailableError", "resolved", actor="ana@example.com"
    )
    assert resolved.status == "resolved"
    assert [i.org_id for i in eventlog.list_issues(status="resolved")] == ["acme"]
    eventlog.record_inbound(inbound("i-5", T0 + timedelta(hours=2)), "failed", error=boom)
    # Then it is open again, counted on
    [again] = eventlog.list_issues(org_id="acme")
    assert (again.status, again.count) == ("open", 3)
    # an acknowledged issue stays acknowledged
    eventlog.set_issue_status("other", "evolution", "ValueError", "acknowledged", actor="ana@example.com")
    eventlog.record_inbound(inbound("i-6", T0, org="other"), "failed", error=ValueError("bad"))
    [other] = eventlog.list_issues(org_id="other")
    assert (other.status, other.count) == ("acknowledged", 2)
    # each change audited with the operator
    audit = hub_aws.client("dynamodb").scan(TableName=hub_aws.env["AUDIT_TABLE"])["Items"]
    assert sorted((a["action"]["S"], a["actor"]["S"]) for a in audit) == [
        ("issue.acknowledged", "ana@example.com"),
        ("issue.resolved", "ana@example.com"),
    ]
    with pytest.raises(NotFoundError):
        eventlog.set_issue_status("acme", "resend", "ValueError", "resolved", actor="ana@example.com")
    with pytest.raises(InvalidRequestError, match="status"):
        eventlog.set_issue_status("acme", "evolution", "ProviderUnavailableError", "closed", actor="ana@example.com")


def test_a_log_write_that_fails_never_fails_the_caller(hub_aws: HubAws, monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.config import get_settings

    # Given an event log table that does not exist
    monkeypatch.setenv("EVENT_LOG_TABLE", "no-such-table")
    get_settings.cache_clear()
    # When records are written, they are dropped without an exception
    eventlog.record_inbound(inbound("lost-1", T0), "failed", error=ValueError("x"))
    eventlog.record_inbound_many([(inbound("lost-2", T0), "delivered", None)])
    eventlog.record_rejected("evolution", "acme", "raw/evolution/acme/x.json", "bad json")
    assert eventlog.record_outbound(
        "x", "acme", status="failed", provider=None, request=None, response=None, error=ValueError("x"), calls=[]
    ).startswith("out_")
    monkeypatch.setenv("EVENT_LOG_TABLE", hub_aws.env["EVENT_LOG_TABLE"])
    get_settings.cache_clear()
    assert items(hub_aws) == []


def test_a_rejected_webhook_is_recorded_after_its_archive(hub_aws: HubAws) -> None:
    hub_aws.put_secret("acme", "evolution", SECRET)
    receiver = load_function("webhook_evolution")
    # Given an authenticated delivery whose body is not JSON, and a forged one
    assert post(receiver, "{not json")["statusCode"] == 400
    assert post(receiver, json.dumps(payload()), token="wrong")["statusCode"] == 401
    # Then the 400 is in the event log as rejected, pointing at its archive; the 401 is not
    [key] = hub_aws.archived_keys()
    [page_item] = eventlog.query_events(EventQuery(org_id="acme", status="rejected")).items
    detail = eventlog.get_event(page_item.record_id)
    assert detail is not None and detail.raw_ref == key
    assert (detail.direction, detail.provider, detail.error_class) == ("inbound", "evolution", "WebhookRejected")
    assert detail.error_message and "not valid JSON" in detail.error_message
    assert [i.error_class for i in eventlog.list_issues(org_id="acme")] == ["WebhookRejected"]


def test_one_event_processed_alone_is_recorded_delivered_then_its_copy_as_an_attempt(hub_aws: HubAws) -> None:
    from hub.inbound import process_inbound_event

    # Given an event processed on its own (as PaymentsPendingSync does), then a copy of it
    event = inbound("alone-1", T0).model_copy(update={"type": "contact.opted_in", "data": {"channel": "whatsapp"}})
    process_inbound_event(event)
    process_inbound_event(event)
    # Then one record, delivered, with both attempts
    detail = eventlog.get_event("alone-1")
    assert detail is not None and detail.status == "delivered"
    assert [a.outcome for a in detail.attempts] == ["delivered", "duplicate"]
