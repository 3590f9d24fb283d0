"""ConsoleApi and ConsoleReplayJob against moto (docs/console.md "JSON API"): login, the security
headers, events with their raw archive, retry and replay jobs with their counts, DLQs, integration
actions in the audit trail, health rows, spend and issues. The event log is the real one
(hub.eventlog over moto), written by the receiver, the consumer and record_outbound."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest

from hub import eventlog
from hub.ai.spend import Budget, record_spend, set_budget
from hub.config import get_settings
from hub.console import auth, replay
from hub.errors import ProviderUnavailableError
from hub.eventlog import ProviderCall
from hub.events import HubEvent
from hub.health import HealthReport, QuotaView, ServiceHealth, record_report
from hub.integrations import lifecycle, records
from localcloud.sandboxes import evolution as evolution_sandbox
from tests.aws.conftest import HubAws
from tests.aws.inbound_queue import consume
from tests.aws.test_delivery import lose_after_the_dlq
from tests.aws.test_webhook_evolution import SECRET, payload, post
from tests.conftest import ServedSandboxes
from tests.helpers import FakeLambdaContext, api_event, load_function


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class Console:
    app: ModuleType
    aws: HubAws
    bearer: str | None = None

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: dict[str, str] | None = None,
        claims: dict[str, str] | None = None,
        bearer: str | None = None,
        host: str | None = None,
    ) -> Answer:
        headers = {"Content-Type": "application/json"}
        token = bearer or self.bearer
        if token:
            headers["Authorization"] = f"Bearer {token}"
        event = api_event(
            method,
            path,
            resource=path,
            body=None if body is None else json.dumps(body),
            headers=headers,
            query=query,
        )
        if claims is not None:
            event["requestContext"]["authorizer"] = {"claims": claims}
        if host is not None:
            event["requestContext"]["domainName"] = host
        result = self.app.handler(event, FakeLambdaContext("ConsoleApi"))
        out_headers = {k: v[-1] for k, v in (result.get("multiValueHeaders") or {}).items()}
        out_headers.update(result.get("headers") or {})
        text = result.get("body") or ""
        is_json = out_headers.get("Content-Type", "").startswith("application/json")
        return Answer(result["statusCode"], json.loads(text) if is_json and text else text, out_headers)

    def login(self, operator: str = "ana@agency.test") -> str:
        answer = self.call(
            "POST", "/console/api/session", body={"token": auth.create_login_token(), "operator": operator}
        )
        assert answer.status == 200, answer.body
        self.bearer = answer.body["session"]
        return operator

    def run_jobs(self) -> list[str]:
        """Run ConsoleReplayJob over what ConsoleJobsQueue holds until it is empty."""
        job_fn = load_function("console_replay_job")
        sqs = self.aws.client("sqs")
        url = self.aws.env["CONSOLE_JOBS_QUEUE_URL"]
        outcomes: list[str] = []
        while True:
            batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"]).get("Messages", [])
            if not batch:
                return outcomes
            result = job_fn.handler(self.aws.as_sqs_event(url, batch), FakeLambdaContext("ConsoleReplayJob"))
            assert result == {"batchItemFailures": []}
            sqs.delete_message(QueueUrl=url, ReceiptHandle=batch[0]["ReceiptHandle"])
            outcomes.append(batch[0]["Body"])


@pytest.fixture
def console(hub_aws: HubAws, monkeypatch: pytest.MonkeyPatch) -> Console:
    monkeypatch.setenv("CONSOLE_LOCAL_LOGIN", "1")
    get_settings.cache_clear()
    return Console(load_function("console_api"), hub_aws)


def audit_trail(hub_aws: HubAws, org_id: str) -> list[dict[str, Any]]:
    items = hub_aws.client("dynamodb").query(
        TableName=hub_aws.env["AUDIT_TABLE"],
        KeyConditionExpression="org_id = :o",
        ExpressionAttributeValues={":o": {"S": org_id}},
    )["Items"]
    return [
        {"action": i["action"]["S"], "actor": i["actor"]["S"], "details": json.loads(i["details"]["S"])} for i in items
    ]


# ----- access ----------------------------------------------------------------------------------


def test_a_login_token_opens_one_session_once_and_every_route_needs_it(console: Console) -> None:
    # Given the one-time token make dev printed
    token = auth.create_login_token()

    # When the operator logs in with it
    first = console.call("POST", "/console/api/session", body={"token": token, "operator": "ana@agency.test"})

    # Then a session names the operator; the token is spent
    assert first.status == 200 and first.body["operator"] == "ana@agency.test"
    assert first.headers["Cache-Control"] == "no-store"
    again = console.call("POST", "/console/api/session", body={"token": token})
    assert (again.status, again.body["error"]) == (401, "invalid_token")
    # And the API answers the session's bearer only
    assert console.call("GET", "/console/api/me").status == 401
    me = console.call("GET", "/console/api/me", bearer=first.body["session"])
    assert me.body == {"operator": "ana@agency.test"}
    assert console.call("GET", "/console/api/config").body == {"auth": "local", "cognito": None}
    # And logging out ends it
    assert console.call("DELETE", "/console/api/session", bearer=first.body["session"]).status == 200
    assert console.call("GET", "/console/api/me", bearer=first.body["session"]).status == 401


def test_the_login_refuses_an_operator_name_with_control_characters_before_spending_the_token(
    console: Console,
) -> None:
    token = auth.create_login_token()
    refused = console.call("POST", "/console/api/session", body={"token": token, "operator": "ana\nroot"})
    assert refused.status == 400 and "operator" in refused.body["message"]
    assert console.call("POST", "/console/api/session", body={"token": token}).body["operator"] == "local-operator"


def console_pool(console: Console, monkeypatch: pytest.MonkeyPatch) -> str:
    """A Cognito user pool with the console's one app client (moto), named by CONSOLE_USER_POOL_ID."""
    cognito = console.aws.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName="console")["UserPool"]["Id"]
    client = cognito.create_user_pool_client(UserPoolId=pool, ClientName="page")["UserPoolClient"]
    monkeypatch.setenv("CONSOLE_USER_POOL_ID", pool)
    get_settings.cache_clear()
    return str(client["ClientId"])


def test_on_aws_the_operator_is_the_cognito_email_and_there_is_no_token_login(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONSOLE_LOCAL_LOGIN")
    get_settings.cache_clear()
    assert console.call("POST", "/console/api/session", body={"token": "x"}).status == 404
    assert console.call("GET", "/console/api/me").status == 401
    assert console.call("GET", "/console/api/me", claims={"email": "rui@agency.test"}).body == {
        "operator": "rui@agency.test"
    }
    # And the page signs in with the pool's app client, sent back to the console of this API
    client_id = console_pool(console, monkeypatch)
    monkeypatch.delenv("PUBLIC_API_URL", raising=False)
    get_settings.cache_clear()
    config = console.call("GET", "/console/api/config", host="abc123.execute-api.us-east-1.amazonaws.com").body
    assert config["auth"] == "cognito"
    assert config["cognito"]["client_id"] == client_id
    assert config["cognito"]["redirect_uri"] == "https://abc123.execute-api.us-east-1.amazonaws.com/dev/console"
    # And behind the stack's public URL, the console there (the app client's callback URL)
    monkeypatch.setenv("PUBLIC_API_URL", "https://hub.agency.test")
    get_settings.cache_clear()
    again = console.call("GET", "/console/api/config").body
    assert again["cognito"]["redirect_uri"] == "https://hub.agency.test/console"


def test_in_cognito_mode_the_page_may_reach_the_hosted_ui_token_endpoint_and_nothing_else(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the console on AWS, its hosted UI domain as template.yaml gives it (a full URL)
    monkeypatch.delenv("CONSOLE_LOCAL_LOGIN")
    monkeypatch.setenv("CONSOLE_COGNITO_DOMAIN", "https://hub-console-1234-prod.auth.us-east-1.amazoncognito.com")
    console_pool(console, monkeypatch)
    get_settings.cache_clear()

    # When the browser loads the page and asks how to sign in
    page = console.call("GET", "/console")
    config = console.call("GET", "/console/api/config", host="abc123.execute-api.us-east-1.amazonaws.com")

    # Then the page may fetch its own origin and the hosted UI (the code exchange), nothing else
    csp = "default-src 'self'; connect-src 'self' https://hub-console-1234-prod.auth.us-east-1.amazoncognito.com"
    assert page.headers["Content-Security-Policy"] == csp
    assert config.headers["Content-Security-Policy"] == csp
    # And the domain is the host the page puts after https:// (never https://https://…)
    assert config.body["cognito"]["domain"] == "hub-console-1234-prod.auth.us-east-1.amazoncognito.com"


def test_the_page_and_its_files_are_served_with_a_strict_content_security_policy(console: Console) -> None:
    page = console.call("GET", "/console")
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "console/static/console.js" in page.body
    assert page.headers["Content-Security-Policy"] == "default-src 'self'"
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["X-Content-Type-Options"] == "nosniff"
    script = console.call("GET", "/console/static/console.js")
    assert script.status == 200 and script.headers["Content-Type"].startswith("text/javascript")
    assert console.call("GET", "/console/static/app.py").status == 404
    assert console.call("GET", "/console/api/nothing-here").status == 401  # unknown or not: log in first
    console.login()
    nothing = console.call("GET", "/console/api/nothing-here")
    assert (nothing.status, nothing.body["error"]) == (404, "not_found")
    assert nothing.headers["Cache-Control"] == "no-store"


# ----- events, retry, replay (the real hub.eventlog, written by the receiver/consumer path) ------------


def hub_event(
    event_id: str,
    at: datetime,
    *,
    org: str = "acme",
    provider: str = "evolution",
    type_: str = "message.received",
    raw_ref: str | None = None,
) -> HubEvent:
    return HubEvent(
        event_id=event_id,
        org_id=org,
        provider=provider,
        type=type_,
        dedupe_key=event_id,
        occurred_at=at,
        received_at=at,
        data={"text": "oi"},
        raw_ref=raw_ref or f"raw/{provider}/{org}/{event_id}.json",
    )


@pytest.fixture
def logged(console: Console, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Two Evolution deliveries through the receiver and the consumer, recorded by the event log
    as the hub records them: LOST-1 failed on the bus and its message was purged after the DLQ
    (never delivered), OK-1 is on the bus. Returns dedupe key -> event id (= the record id)."""
    hub_aws = console.aws
    hub_aws.put_secret("acme", "evolution", SECRET)
    receiver = load_function("webhook_evolution")
    lost = lose_after_the_dlq(receiver, hub_aws, monkeypatch, json.dumps(payload("LOST-1")))
    ok = post(receiver, json.dumps(payload("OK-1")))
    assert ok["statusCode"] == 200, ok["body"]
    assert consume(hub_aws) == {"batchItemFailures": []}
    return {"LOST-1": lost, "OK-1": json.loads(ok["body"])["event_ids"][0]}


def test_an_event_detail_shows_the_archived_request_without_the_secret(
    console: Console, logged: dict[str, str]
) -> None:
    console.login()

    detail = console.call("GET", f"/console/api/events/{logged['OK-1']}")

    assert detail.status == 200 and detail.body["record_id"] == logged["OK-1"]
    assert (detail.body["direction"], detail.body["status"]) == ("inbound", "delivered")
    assert detail.body["event"]["dedupe_key"] == "OK-1" and detail.body["raw_ref"].startswith("raw/evolution/acme/")
    assert "OK-1" in detail.body["raw"]["body"]
    assert SECRET["webhook_token"] not in json.dumps(detail.body)
    assert payload()["apikey"] not in json.dumps(detail.body)
    failed = console.call("GET", f"/console/api/events/{logged['LOST-1']}").body
    assert failed["status"] == "failed" and [a["outcome"] for a in failed["attempts"]] == ["failed"]
    assert failed["error_class"] and "LOST-1" in failed["raw"]["body"]
    missing = console.call("GET", "/console/api/events/nope")
    assert (missing.status, missing.body["error"]) == (404, "not_found")


def test_the_events_list_filters_pages_newest_first_and_q_finds_one_record(console: Console) -> None:
    # Given three Evolution events, a Resend one, an outbound send and another org's event
    base = datetime(2026, 12, 1, 12, tzinfo=UTC)
    for n in range(3):
        eventlog.record_inbound(hub_event(f"evt-{n}", base + timedelta(minutes=n)), "delivered")
    eventlog.record_inbound(
        hub_event("evt-mail", base + timedelta(minutes=4), provider="resend", type_="email.bounced"),
        "failed",
        error=ProviderUnavailableError("bus unavailable", provider="eventbridge"),
    )
    out_id = eventlog.record_outbound(
        "whatsapp.send_text",
        "acme",
        status="succeeded",
        provider="evolution",
        request={"to": "5511987654321", "text": "oi"},
        response={"message_id": "wamid.1"},
        error=None,
        calls=[
            ProviderCall(provider="evolution", method="POST", path="/message/sendText/x", status=201, latency_ms=40)
        ],
        at=base + timedelta(minutes=5),
    )
    eventlog.record_inbound(hub_event("evt-beta", base + timedelta(minutes=6), org="beta"), "delivered")
    console.login()
    window = {"org_id": "acme", "from": base.isoformat(), "to": (base + timedelta(hours=1)).isoformat()}

    def listed(**query: str) -> Answer:
        return console.call("GET", "/console/api/events", query={**window, **query})

    # When the operator pages through everything, then filters
    first = listed(limit="2")
    second = listed(limit="2", cursor=first.body["cursor"])
    third = listed(limit="2", cursor=second.body["cursor"])

    # Then newest first over the pages, only this org's
    ids = [i["record_id"] for page in (first, second, third) for i in page.body["items"]]
    assert ids == [out_id, "evt-mail", "evt-2", "evt-1", "evt-0"] and third.body["cursor"] is None
    assert [i["record_id"] for i in listed(provider="resend").body["items"]] == ["evt-mail"]
    assert [i["record_id"] for i in listed(status="failed").body["items"]] == ["evt-mail"]
    assert [i["record_id"] for i in listed(direction="outbound").body["items"]] == [out_id]
    assert [i["record_id"] for i in listed(type="message.received", provider="evolution").body["items"]] == [
        "evt-2",
        "evt-1",
        "evt-0",
    ]
    assert listed(to=(base + timedelta(minutes=1, seconds=30)).isoformat()).body["items"][0]["record_id"] == "evt-1"
    # And q= finds one record by id, of this org only
    assert [i["record_id"] for i in listed(q="evt-1").body["items"]] == ["evt-1"]
    assert listed(q="evt-beta").body["items"] == []
    # And an outbound record's detail has its masked request, summary and calls
    sent = console.call("GET", f"/console/api/events/{out_id}").body
    assert sent["raw"] is None and sent["response"] == {"message_id": "wamid.1"}
    assert "5511987654321" not in json.dumps(sent) and sent["calls"][0]["status"] == 201
    # And bad input names its field; another query's cursor is refused
    bad = listed(**{"from": "yesterday"})
    assert bad.status == 400 and bad.body["message"].startswith("from:")
    foreign = listed(provider="resend", cursor=first.body["cursor"])
    assert foreign.status == 400 and "cursor" in foreign.body["message"]


def test_retrying_one_event_replays_the_failed_one_and_skips_the_delivered_one(
    console: Console, logged: dict[str, str]
) -> None:
    operator = console.login()

    lost = console.call("POST", f"/console/api/events/{logged['LOST-1']}/retry", body={})
    delivered = console.call("POST", f"/console/api/events/{logged['OK-1']}/retry", body={})

    assert (lost.body["record_id"], lost.body["result"]) == (logged["LOST-1"], "replayed")
    assert delivered.body["result"] == "skipped"
    bodies = [json.loads(m["Body"]) for m in console.aws.queue_messages("INBOUND_EVENTS_QUEUE_URL")]
    assert [b["dedupe_key"] for b in bodies] == ["LOST-1"]
    retried = [r for r in audit_trail(console.aws, "acme") if r["action"] == "console_event_retried"]
    assert {(r["actor"], r["details"]["result"]) for r in retried} == {(operator, "replayed"), (operator, "skipped")}
    # And once the replayed copy is consumed, the one record says delivered (no second row)
    assert consume(console.aws) == {"batchItemFailures": []}
    again = console.call("GET", f"/console/api/events/{logged['LOST-1']}").body
    assert again["status"] == "delivered" and [a["outcome"] for a in again["attempts"]] == ["failed", "delivered"]


def test_a_filtered_replay_job_reports_replayed_skipped_and_failed_once_each(
    console: Console, logged: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given three matching records over two pages: one failed, one delivered, one whose archive is gone
    monkeypatch.setattr(replay, "PAGE_SIZE", 2)
    gone = "raw/evolution/acme/2026/11/01/000000000000-expired.json"
    eventlog.record_rejected("evolution", "acme", gone, "body: not JSON")
    console.login()
    [gone_id] = [
        i["record_id"]
        for i in console.call("GET", "/console/api/events", query={"org_id": "acme", "status": "rejected"}).body[
            "items"
        ]
    ]

    # When the operator replays everything matching the filter, and the job runs
    created = console.call("POST", "/console/api/replays", body={"filter": {"org_id": "acme", "provider": "evolution"}})
    assert (created.status, created.body["state"]) == (202, "queued")
    job_id = created.body["job_id"]
    # (a page message SQS delivers twice is not counted twice)
    jobs_url = console.aws.env["CONSOLE_JOBS_QUEUE_URL"]
    console.aws.client("sqs").send_message(
        QueueUrl=jobs_url, MessageBody=json.dumps({"job_id": job_id, "page": 0, "cursor": None})
    )
    console.run_jobs()

    # Then the job is done with one of each, every match counted (not only a page's)
    job = console.call("GET", f"/console/api/replays/{job_id}").body
    assert job["state"] == "done" and job["finished_at"]
    assert (job["matched"], job["replayed"], job["skipped"], job["failed"]) == (3, 1, 1, 1)
    assert job["errors"] == [{"record_id": gone_id, "message": "the archived request is no longer stored"}]
    assert job["filter"]["org_id"] == "acme"
    assert [j["job_id"] for j in console.call("GET", "/console/api/replays").body["jobs"]] == [job_id]
    bodies = [json.loads(m["Body"]) for m in console.aws.queue_messages("INBOUND_EVENTS_QUEUE_URL")]
    assert [b["dedupe_key"] for b in bodies] == ["LOST-1"]
    # And a status filter replays only the failed records
    only_failed = console.call(
        "POST", "/console/api/replays", body={"filter": {"org_id": "acme", "status": "failed"}}
    ).body
    console.run_jobs()
    job = console.call("GET", f"/console/api/replays/{only_failed['job_id']}").body
    assert (job["matched"], job["replayed"], job["skipped"], job["failed"]) == (1, 1, 0, 0)


def test_an_archive_replay_job_replays_requests_that_never_reached_the_bus(
    console: Console, logged: dict[str, str]
) -> None:
    console.login()
    now = datetime.now(UTC)
    window = {
        "org_id": "acme",
        "provider": "evolution",
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(minutes=1)).isoformat(),
    }

    created = console.call("POST", "/console/api/replays", body={"archive": window})
    console.run_jobs()

    job = console.call("GET", f"/console/api/replays/{created.body['job_id']}").body
    assert (job["state"], job["matched"], job["replayed"], job["skipped"], job["failed"]) == ("done", 2, 1, 1, 0)


def test_a_replay_matching_more_than_the_limit_is_refused_before_anything_is_queued(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replay, "MAX_MATCHES", 2)
    now = datetime.now(UTC)
    for n in range(3):
        eventlog.record_inbound(hub_event(f"evt-{n}", now - timedelta(minutes=n)), "delivered")
    console.login()

    refused = console.call("POST", "/console/api/replays", body={"filter": {"org_id": "acme"}})

    assert refused.status == 400 and "more than 2" in refused.body["message"]
    assert console.call("GET", "/console/api/replays").body["jobs"] == []
    assert console.aws.queue_messages("CONSOLE_JOBS_QUEUE_URL") == []
    unknown = console.call("POST", "/console/api/replays", body={"filter": {"org_id": "acme", "colour": "red"}})
    assert unknown.status == 400 and unknown.body["message"].startswith("filter.colour")


# ----- DLQs --------------------------------------------------------------------------------------


def test_dlqs_show_depth_browse_masked_and_redrive_one_then_all(console: Console) -> None:
    # Given two inbound events in the inbound DLQ, one carrying a phone number
    sqs = console.aws.client("sqs")
    dlqs = json.loads(console.aws.env["CONSOLE_DLQS"])
    url = dlqs["InboundEventsDLQ"]
    first = sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": 1, "phone": "5511999998888"}))["MessageId"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": 2}))
    operator = console.login()

    # When the operator looks at the queues and browses the inbound one
    queues = {q["name"]: q for q in console.call("GET", "/console/api/dlqs").body["queues"]}
    browsed = console.call("GET", "/console/api/dlqs/InboundEventsDLQ/messages").body["messages"]

    # Then the depth, its source, masked bodies; browsing left both visible
    inbound_q = queues["InboundEventsDLQ"]
    assert (inbound_q["depth"], inbound_q["source"]) == (
        2,
        console.aws.env["INBOUND_EVENTS_QUEUE_URL"].rsplit("/", 1)[-1],
    )
    assert inbound_q["oldest_age_seconds"] is not None and set(dlqs) == set(queues)
    assert "5511999998888" not in json.dumps(browsed) and len(browsed) == 2
    assert console.call("GET", "/console/api/dlqs").body["queues"][0]["name"] == "AnalyticsDLQ"

    # And a redrive of one message moves that one, then all moves the rest
    assert console.call("POST", "/console/api/dlqs/InboundEventsDLQ/redrive", body={"message_id": first}).body == {
        "moved": 1
    }
    assert console.call("POST", "/console/api/dlqs/InboundEventsDLQ/redrive", body={}).body == {"moved": 1}
    moved = sorted(json.loads(m["Body"])["n"] for m in console.aws.queue_messages("INBOUND_EVENTS_QUEUE_URL"))
    assert moved == [1, 2]
    redrives = [r for r in audit_trail(console.aws, "platform") if r["action"] == "console_dlq_redriven"]
    assert len(redrives) == 2 and {r["actor"] for r in redrives} == {operator}


def test_failed_invocations_are_browsed_but_not_redriven_since_they_name_no_function(console: Console) -> None:
    sqs = console.aws.client("sqs")
    url = json.loads(console.aws.env["CONSOLE_DLQS"])["FailedInvocationsDLQ"]
    sqs.send_message(
        QueueUrl=url,
        MessageBody=json.dumps({"source": "aws.events"}),
        MessageAttributes={
            "RequestID": {"DataType": "String", "StringValue": "4f6a"},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        },
    )
    console.login()

    [message] = console.call("GET", "/console/api/dlqs/FailedInvocationsDLQ/messages").body["messages"]
    refused = console.call("POST", "/console/api/dlqs/FailedInvocationsDLQ/redrive", body={})

    assert message["attributes"] == {"RequestID": "4f6a", "ErrorCode": "200"}
    assert (refused.status, refused.body["error"]) == (400, "not_redrivable")
    assert console.call("GET", "/console/api/dlqs/NoSuchDLQ/messages").status == 404
    # A FIFO source needs the message group back, which a receive does not give: refused too
    fifo = console.call("POST", "/console/api/dlqs/CalendarSyncDLQ/redrive", body={})
    assert (fifo.status, fifo.body["error"]) == (400, "not_redrivable") and "FIFO" in fifo.body["message"]


# ----- integrations, health, spend, audit, issues --------------------------------------------------


def test_disable_and_enable_from_the_console_are_audited_with_the_operator(console: Console) -> None:
    console.aws.put_secret("acme", "evolution", SECRET)
    operator = console.login()

    disabled = console.call(
        "POST", "/console/api/integrations/acme/evolution/disable", body={"reason": "rotating keys"}
    )
    listed = console.call("GET", "/console/api/integrations", query={"org_id": "acme"}).body["integrations"]
    enabled = console.call("POST", "/console/api/integrations/acme/evolution/enable", body={})
    no_reason = console.call("POST", "/console/api/integrations/acme/evolution/disable", body={})

    assert disabled.body["status"] == "disabled" and enabled.body["status"] == "connected"
    assert [(i["provider"], i["status"]) for i in listed] == [("evolution", "disabled")]
    assert no_reason.status == 400 and "reason" in no_reason.body["message"]
    audit = console.call("GET", "/console/api/audit", query={"org_id": "acme"}).body["records"]
    actions = [(r["action"], r["actor"]) for r in audit]
    assert ("integration_disabled", operator) in actions and ("integration_enabled", operator) in actions
    assert next(r for r in audit if r["action"] == "integration_disabled")["sensitive"] is True
    assert console.call("POST", "/console/api/integrations/acme/evolution/explode", body={}).status == 404


def test_health_rows_put_the_unhealthy_first_and_history_is_oldest_first(console: Console) -> None:
    checked = datetime.now(UTC) - timedelta(minutes=10)
    for minutes, status in ((10, "healthy"), (5, "unhealthy")):
        record_report(
            HealthReport(
                status="degraded" if status == "unhealthy" else "healthy",
                org_id="acme",
                checked_at=checked + timedelta(minutes=10 - minutes),
                services={
                    "storage": ServiceHealth(status="healthy", latency_ms=3.0),
                    "evolution": ServiceHealth(
                        status=status,
                        latency_ms=40.0,
                        error=None if status == "healthy" else "ProviderUnavailableError: down",
                    ),
                },
            )
        )
    console.login()

    rows = console.call("GET", "/console/api/health").body["rows"]
    history = console.call("GET", "/console/api/health/history", query={"org_id": "acme", "provider": "evolution"})

    assert (rows[0]["org_id"], rows[0]["provider"], rows[0]["status"]) == ("acme", "evolution", "unhealthy")
    assert [r["status"] for r in rows if r["org_id"] == "acme"] == ["unhealthy", "healthy"]
    assert [p["status"] for p in history.body["points"]] == ["healthy", "unhealthy"]


def test_degraded_rows_come_right_after_the_unhealthy_ones_with_quota_breaker_and_token_problems(
    console: Console,
) -> None:
    # Given a report where every check passed but for asaas, with a half-open breaker on evolution
    # and stripe's quota used up; google's token refresh failed, resend's last *test* failed
    checked = datetime.now(UTC) - timedelta(minutes=1)  # the index keeps the latest reports only
    resets = checked + timedelta(seconds=1)
    record_report(
        HealthReport(
            status="degraded",
            org_id="acme",
            checked_at=checked,
            services={
                "storage": ServiceHealth(status="healthy", latency_ms=3.0, breaker="closed"),
                "evolution": ServiceHealth(status="healthy", latency_ms=40.0, breaker="half_open"),
                "stripe": ServiceHealth(
                    status="healthy",
                    latency_ms=80.0,
                    quotas=[QuotaView(rule="requests", limit=25, remaining=0, resets_at=resets)],
                ),
                "asaas": ServiceHealth(status="unhealthy", error="ProviderUnavailableError: down"),
            },
        )
    )
    refreshed = datetime(2026, 11, 30, tzinfo=UTC)
    for provider in ("google", "resend"):
        records.put_record(
            records.IntegrationRecord(
                org_id="acme",
                provider=provider,
                status="connected",
                token_expires_at=refreshed + timedelta(hours=1),
                token_refreshed_at=refreshed,
            )
        )
    lifecycle.refresh_failed("acme", "google", ProviderUnavailableError("token endpoint down", provider="google"))
    records.update_record("acme", "resend", last_error="Test failed: the sandbox answered 500")
    console.login()

    rows = [r for r in console.call("GET", "/console/api/health").body["rows"] if r["org_id"] == "acme"]

    # Then unhealthy, then the degraded (by provider), then unknown, then healthy
    assert [(r["provider"], r["status"], r["degraded"]) for r in rows] == [
        ("asaas", "unhealthy", True),
        ("evolution", "healthy", True),
        ("google", "unknown", True),
        ("stripe", "healthy", True),
        ("resend", "unknown", False),
        ("storage", "healthy", False),
    ]
    by = {r["provider"]: r for r in rows}
    [quota] = by["stripe"]["quotas"]
    assert (quota["rule"], quota["limit"], quota["remaining"]) == ("requests", 25, 0)
    assert datetime.fromisoformat(quota["resets_at"]) == resets
    assert by["google"]["token"]["last_refresh_result"].startswith("failed: token refresh failed")
    # a failed test is not a failed refresh
    assert by["resend"]["token"]["last_refresh_result"] == "ok"
    assert by["resend"]["token"]["expires_at"] == (refreshed + timedelta(hours=1)).isoformat()


def test_spend_is_money_as_strings_with_day_lines_and_the_budget(console: Console) -> None:
    day = datetime(2026, 11, 10, 15, tzinfo=UTC)
    record_spend("acme", "anthropic", "claude-x", input_tokens=10, output_tokens=5, cost_usd=Decimal("0.25"), now=day)
    record_spend(
        "acme",
        "anthropic",
        "claude-x",
        input_tokens=10,
        output_tokens=5,
        cost_usd=Decimal("0.50"),
        now=day + timedelta(days=1),
    )
    console.login()

    spend = console.call("GET", "/console/api/spend", query={"org_id": "acme", "month": "2026-11"}).body

    assert spend["month"] == "2026-11" and spend["budget_usd"] is None
    # money is Decimal text, never a float
    assert isinstance(spend["total_usd"], str) and Decimal(spend["total_usd"]) == Decimal("0.75")
    [line] = spend["lines"]
    assert (line["provider"], line["model"], line["calls"]) == ("anthropic", "claude-x", 2)
    assert (Decimal(line["cost_usd"]), Decimal(line["cost_brl"])) == (Decimal("0.75"), Decimal("4.05"))
    assert [(d["day"], Decimal(d["cost_usd"])) for d in spend["days"]] == [
        ("2026-11-10", Decimal("0.25")),
        ("2026-11-11", Decimal("0.50")),
    ]
    assert console.call("GET", "/console/api/spend", query={"org_id": "acme", "month": "11/2026"}).status == 400


FIXED_POINT = re.compile(r"^-?\d+(\.\d+)?$")


def money_strings(value: Any, key: str = "") -> list[str]:
    """Every money text of a spend answer (cost_*, total_*, budget_*, usd_brl_rate)."""
    if isinstance(value, dict):
        return [m for k, v in value.items() for m in money_strings(v, k)]
    if isinstance(value, list):
        return [m for v in value for m in money_strings(v, key)]
    money_keys = ("cost_", "total_", "budget_", "usd_brl_rate")
    return [value] if isinstance(value, str) and key.startswith(money_keys) else []


def test_spend_money_is_fixed_point_text_even_for_zero_and_the_budget_is_in_both_currencies(
    console: Console,
) -> None:
    # Given an org with a budget, nothing spent in October and 0.25 USD in November
    set_budget("acme", Budget(monthly_usd=Decimal("100")))
    record_spend(
        "acme",
        "anthropic",
        "claude-x",
        input_tokens=10,
        output_tokens=5,
        cost_usd=Decimal("0.25"),
        now=datetime(2026, 11, 10, 15, tzinfo=UTC),
    )
    console.login()

    # When the operator opens both months
    empty = console.call("GET", "/console/api/spend", query={"org_id": "acme", "month": "2026-10"}).body
    spent = console.call("GET", "/console/api/spend", query={"org_id": "acme", "month": "2026-11"}).body

    # Then zero is "0.000000000"-like text, never "0E-9", and every money string is fixed-point
    assert Decimal(empty["total_usd"]) == 0 and "E" not in empty["total_usd"]
    for answer in (empty, spent):
        texts = money_strings(answer)
        assert texts and all(FIXED_POINT.fullmatch(t) for t in texts), texts
    # And the budget is shown in USD and in BRL at the report's rate
    rate = Decimal(spent["usd_brl_rate"])
    assert Decimal(spent["budget_usd"]) == 100
    assert Decimal(spent["budget_brl"]) == (100 * rate).quantize(Decimal("0.01"))
    [day] = spent["days"]
    assert (day["cost_usd"], Decimal(day["cost_brl"])) == (
        "0.250000000",
        (Decimal("0.25") * rate).quantize(Decimal("0.01")),
    )


def test_issues_group_real_failures_and_their_status_change_is_audited(
    console: Console, logged: dict[str, str]
) -> None:
    # Given LOST-1's failure on the bus (logged) and a second failure of the same class
    [issue] = eventlog.list_issues(org_id="acme")
    eventlog.record_inbound(
        hub_event("evt-again", datetime.now(UTC)), "failed", error=type_of(issue.error_class)("bus down")
    )
    operator = console.login()

    # When the operator lists the open issues and acknowledges the one
    listed = console.call("GET", "/console/api/issues", query={"status": "open"}).body["issues"]
    path = f"/console/api/issues/acme/evolution/{issue.error_class}"
    changed = console.call("POST", path, body={"status": "acknowledged"})

    # Then it counts both failures with first/last seen, and its new status is audited
    [row] = listed
    assert (row["org_id"], row["provider"], row["count"], row["status"]) == ("acme", "evolution", 2, "open")
    assert row["first_seen"] <= row["last_seen"] and row["last_record_id"] == "evt-again"
    assert changed.status == 200 and changed.body["status"] == "acknowledged"
    assert console.call("GET", "/console/api/issues", query={"status": "open"}).body["issues"] == []
    audited = [r for r in audit_trail(console.aws, "acme") if r["action"] == "issue.acknowledged"]
    assert [(r["actor"], r["details"]["error_class"]) for r in audited] == [(operator, issue.error_class)]
    unknown = console.call("POST", "/console/api/issues/acme/evolution/NoSuchError", body={"status": "resolved"})
    assert unknown.status == 404
    odd = console.call("POST", "/console/api/issues/acme/evolution/Provider%20Error", body={"status": "resolved"})
    assert odd.status == 400 and odd.body["message"].startswith("error_class:")
    bad = console.call("POST", path, body={"status": "gone"})
    assert bad.status == 400 and bad.body["message"].startswith("status:")


def type_of(name: str) -> type[Exception]:
    """An exception class named ``name`` (the issue groups by class name)."""
    return type(name, (Exception,), {})


def test_integrations_show_the_last_test_and_the_webhook_state(console: Console, sandboxed: ServedSandboxes) -> None:
    # Given Evolution connected against its sandbox, its webhook registered there
    console.aws.put_secret(
        "acme",
        "evolution",
        {
            "base_url": f"{sandboxed.url}/evolution",
            "api_key": evolution_sandbox.DEMO_API_KEY,
            "instance": evolution_sandbox.DEMO_INSTANCE,
        },
    )
    registered = datetime(2026, 12, 1, 9, tzinfo=UTC)
    records.put_record(
        records.IntegrationRecord(
            org_id="acme",
            provider="evolution",
            status="connected",
            webhook=records.WebhookState(
                state="registered", url="https://hub.test/webhooks/evolution/acme", registered_at=registered
            ),
        )
    )
    operator = console.login()

    # When the operator tests it now, then lists the org's integrations
    tested = console.call("POST", "/console/api/integrations/acme/evolution/test", body={})
    [row] = console.call("GET", "/console/api/integrations", query={"org_id": "acme"}).body["integrations"]

    # Then the row has the test's time and result and the webhook's state
    assert tested.status == 200, tested.body
    assert row["test_result"]["ok"] is True and tested.body["test_result"]["ok"] is True
    assert row["last_tested_at"] == tested.body["last_tested_at"] is not None
    assert row["webhook"]["state"] == "registered"
    assert datetime.fromisoformat(row["webhook"]["registered_at"]) == registered
    tests = [r for r in audit_trail(console.aws, "acme") if r["action"] == "integration_tested"]
    assert [r["actor"] for r in tests] == [operator]


def test_reconnect_starts_the_oauth_flow_and_is_audited(
    console: Console, sandboxed: ServedSandboxes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBLIC_API_URL", "https://hub.test/Prod")
    get_settings.cache_clear()
    operator = console.login()

    answer = console.call("POST", "/console/api/integrations/acme/google/reconnect", body={})

    assert answer.status == 200, answer.body
    url = answer.body["authorize_url"]
    assert url.startswith(sandboxed.url) and "code_challenge=" in url and "state=" in url
    started = [r for r in audit_trail(console.aws, "acme") if r["action"] == "integration_reconnect_started"]
    assert [r["actor"] for r in started] == [operator]


def test_health_shows_an_integration_no_report_covers_yet_as_unknown_with_its_token(console: Console) -> None:
    expires = datetime(2027, 1, 1, tzinfo=UTC)
    refreshed = datetime(2026, 12, 1, tzinfo=UTC)
    records.put_record(
        records.IntegrationRecord(
            org_id="beta", provider="google", status="connected", token_expires_at=expires, token_refreshed_at=refreshed
        )
    )
    console.login()

    rows = console.call("GET", "/console/api/health").body["rows"]

    [row] = [r for r in rows if r["org_id"] == "beta"]
    assert (row["provider"], row["status"]) == ("google", "unknown")
    assert row["token"] == {
        "expires_at": expires.isoformat(),
        "last_refresh_at": refreshed.isoformat(),
        "last_refresh_result": "ok",
    }


def test_a_job_whose_page_cursor_is_refused_fails_instead_of_waiting_forever(console: Console) -> None:
    eventlog.record_inbound(hub_event("evt-1", datetime.now(UTC)), "delivered")
    console.login()
    job_id = console.call("POST", "/console/api/replays", body={"filter": {"org_id": "acme"}}).body["job_id"]
    sqs, url = console.aws.client("sqs"), console.aws.env["CONSOLE_JOBS_QUEUE_URL"]
    [first] = sqs.receive_message(QueueUrl=url).get("Messages", [])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"job_id": job_id, "page": 0, "cursor": "not-a-cursor"}))

    console.run_jobs()

    job = console.call("GET", f"/console/api/replays/{job_id}").body
    assert job["state"] == "failed" and job["finished_at"]
    assert "cursor: not a cursor of this query" in job["errors"][-1]["message"]
