"""The audit trail as operators and auditors see it: AuditQuery pages, actors and sources from
API calls, forged-webhook bursts recorded once per window, and alerts on SNS and the bus."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub import audit
from hub.errors import InvalidRequestError
from hub.webhooks import forgery
from tests.aws.conftest import HubAws
from tests.helpers import FakeLambdaContext, api_event, load_function, sample_event

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BRT = "-03:00"


class Clock:
    """The instant hub.audit stamps records with, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock(T0)
    monkeypatch.setattr(audit, "_now", frozen)
    return frozen


@pytest.fixture
def query_fn(hub_aws: HubAws) -> Any:
    return load_function("audit_query")


def run_query(fn: Any, **payload: Any) -> dict[str, Any]:
    result: dict[str, Any] = fn.handler({"org_id": "acme", **payload}, FakeLambdaContext("AuditQuery"))
    return result


def seed(clock: Clock, actions: list[str], *, org: str = "acme", step: timedelta = timedelta(minutes=1)) -> None:
    for i, action in enumerate(actions):
        clock.now = T0 + i * step
        audit.record(org, action, actor=f"ops{i}@agency", integration="asaas", details={"n": i})


def iso(instant: datetime) -> str:
    return instant.isoformat()


# ----------------------------------------------------------------------------- AuditQuery


def test_pages_go_newest_first_and_together_hold_every_record_once(
    hub_aws: HubAws, clock: Clock, query_fn: Any
) -> None:
    # Given seven records a minute apart (and one of another org)
    seed(clock, [f"integration_tested_{i}" for i in range(7)])
    seed(clock, ["integration_tested"], org="beta")
    window = {"from": iso(T0), "to": iso(T0 + timedelta(hours=1))}
    # When an auditor pages through them three at a time
    pages, cursor = [], None
    while True:
        page = run_query(query_fn, **window, limit=3, **({"cursor": cursor} if cursor else {}))
        pages.append(page["records"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    # Then 3 + 3 + 1, newest first, each once, only this org's
    assert [len(p) for p in pages] == [3, 3, 1]
    seen = [r["details"]["n"] for p in pages for r in p]
    assert seen == [6, 5, 4, 3, 2, 1, 0]
    first = pages[0][0]
    assert first["action"] == "integration_tested_6" and first["actor"] == "ops6@agency"
    assert first["integration"] == "asaas" and first["sensitive"] is False
    assert first["at"] == iso(T0 + timedelta(minutes=6))


def test_from_and_to_are_inclusive_instants_in_any_offset(hub_aws: HubAws, clock: Clock, query_fn: Any) -> None:
    # Given records at 12:00:00, 12:00:00.5, 12:01, 12:02 UTC (the first without microseconds)
    seed(clock, ["a", "b", "c", "d"], step=timedelta(milliseconds=500))
    clock.now = T0 + timedelta(minutes=1)
    audit.record("acme", "e", details={"n": 4})
    # When asked from exactly 12:00:00.5 to exactly 12:01:00, written in Brasília time
    page = run_query(query_fn, **{"from": "2026-11-20T09:00:00.500000" + BRT, "to": "2026-11-20T09:01:00" + BRT})
    # Then both bounds are included, nothing outside them
    assert [r["details"]["n"] for r in page["records"]] == [4, 3, 2, 1]
    assert "next_cursor" not in page
    # And a range with nothing in it is an empty page
    empty = run_query(query_fn, **{"from": iso(T0 - timedelta(days=2)), "to": iso(T0 - timedelta(days=1))})
    assert empty == {"records": []}


def test_an_action_filter_pages_through_matching_records_only(hub_aws: HubAws, clock: Clock, query_fn: Any) -> None:
    # Given rotations scattered among other actions
    actions = ["credentials_rotated" if i % 3 == 0 else "integration_tested" for i in range(12)]
    seed(clock, actions)
    window = {"from": iso(T0), "to": iso(T0 + timedelta(hours=1)), "action": "credentials_rotated"}
    # When filtered two at a time
    first = run_query(query_fn, **window, limit=2)
    second = run_query(query_fn, **window, limit=2, cursor=first["next_cursor"])
    # Then only rotations, newest first, and they are sensitive
    assert [r["details"]["n"] for r in first["records"] + second["records"]] == [9, 6, 3, 0]
    assert all(r["action"] == "credentials_rotated" and r["sensitive"] for r in first["records"])
    assert not second.get("next_cursor")


def test_the_limit_defaults_to_50_and_is_capped_at_200(hub_aws: HubAws, clock: Clock, query_fn: Any) -> None:
    seed(clock, ["integration_tested"] * 52, step=timedelta(seconds=1))
    window = {"from": iso(T0), "to": iso(T0 + timedelta(hours=1))}
    page = run_query(query_fn, **window)
    assert len(page["records"]) == 50 and page["next_cursor"]
    assert len(run_query(query_fn, **window, cursor=page["next_cursor"])["records"]) == 2
    with pytest.raises(InvalidRequestError) as info:
        run_query(query_fn, **window, limit=201)
    assert "limit" in info.value.message


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        "e30",  # {} in base64
        base64.urlsafe_b64encode(b"\xff\xfe garbage").decode(),
        base64.urlsafe_b64encode(json.dumps({"sk": "x", "q": "y"}).encode()).decode(),
        "A" * 512,
    ],
)
def test_a_garbled_cursor_is_an_invalid_request(hub_aws: HubAws, clock: Clock, query_fn: Any, cursor: str) -> None:
    window = {"from": iso(T0), "to": iso(T0 + timedelta(hours=1))}
    with pytest.raises(InvalidRequestError) as info:
        run_query(query_fn, **window, cursor=cursor)
    assert info.value.code == "invalid_cursor" and "cursor" in info.value.message


def test_a_cursor_of_another_query_or_edited_is_refused(hub_aws: HubAws, clock: Clock, query_fn: Any) -> None:
    # Given a real cursor of one query
    seed(clock, ["integration_tested"] * 3)
    window = {"from": iso(T0), "to": iso(T0 + timedelta(hours=1))}
    cursor = run_query(query_fn, **window, limit=1)["next_cursor"]
    # When it is used for another org, another action or another range, or its position edited
    data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    moved = {**data, "sk": "2020-01-01T00:00:00+00:00#000000000000"}
    edited = base64.urlsafe_b64encode(json.dumps(moved).encode()).decode()
    attempts = [
        {"org_id": "beta", **window, "cursor": cursor},
        {**window, "action": "credentials_rotated", "cursor": cursor},
        {**window, "to": iso(T0 + timedelta(hours=2)), "cursor": cursor},
        {**window, "cursor": edited},
    ]
    for attempt in attempts:
        with pytest.raises(InvalidRequestError) as info:
            query_fn.handler({"org_id": "acme", **attempt}, FakeLambdaContext("AuditQuery"))
        # Then each is refused, never a 5xx
        assert info.value.code == "invalid_cursor", attempt


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"from": "2026-11-20T12:00:00", "to": "2026-11-20T13:00:00Z"}, "from"),  # no offset
        ({"from": "2026-11-20T12:00:00Z", "to": "yesterday"}, "to"),
        ({"from": 1763640000, "to": "2026-11-20T13:00:00Z"}, "from"),  # epoch, not ISO 8601
        ({"to": "2026-11-20T13:00:00Z"}, "from"),  # unbounded
        ({"from": "2026-11-20T13:00:00Z", "to": "2026-11-20T12:00:00Z"}, "from must not be after to"),
        ({"from": "2026-11-20T12:00:00Z", "to": "2026-11-20T13:00:00Z", "limit": 0}, "limit"),
        ({"from": "2026-11-20T12:00:00Z", "to": "2026-11-20T13:00:00Z", "limit": "10"}, "limit"),
        ({"from": "2026-11-20T12:00:00Z", "to": "2026-11-20T13:00:00Z", "action": "Drop Table"}, "action"),
        ({"from": "2026-11-20T12:00:00Z", "to": "2026-11-20T13:00:00Z", "actor": "x"}, "actor"),
    ],
)
def test_bad_queries_name_the_field(hub_aws: HubAws, query_fn: Any, payload: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        run_query(query_fn, **payload)
    assert field in info.value.message


def test_an_unknown_org_is_refused_before_reading(hub_aws: HubAws, query_fn: Any) -> None:
    with pytest.raises(InvalidRequestError) as info:
        query_fn.handler({"org_id": "nobody", "from": iso(T0), "to": iso(T0)}, FakeLambdaContext("AuditQuery"))
    assert info.value.code == "unknown_org"


def test_the_sample_event_is_a_valid_query(hub_aws: HubAws, query_fn: Any) -> None:
    assert query_fn.handler(sample_event("audit_query"), FakeLambdaContext("AuditQuery")) == {"records": []}


# ----------------------------------------------------------------------------- actor and source


def test_an_api_call_is_attributed_to_its_iam_principal_ip_and_user_agent(hub_aws: HubAws, clock: Clock) -> None:
    # Given the proxy event of an IAM-signed call to an AWS_IAM route (events/health_integrations.json)
    event = sample_event("health_integrations")
    # When its actor and source are taken and an action is recorded with them
    actor, source = audit.from_api_event(event)
    audit.record("acme", "integration_tested", actor=actor, integration="asaas", source=source)
    # Then the trail names the principal, its IP and its user agent
    assert actor == "arn:aws:iam::123456789012:user/ops-console"
    [record] = audit.query(
        audit.AuditQueryRequest.model_validate({"org_id": "acme", "from": iso(T0), "to": iso(T0)})
    ).records
    assert (record.actor, record.source_ip, record.user_agent) == (actor, "203.0.113.10", "axios/1.7.7")


def test_the_actor_falls_back_to_the_caller_then_anonymous() -> None:
    event = sample_event("health_integrations")
    identity = event["requestContext"]["identity"]
    identity["userArn"] = None
    assert audit.from_api_event(event)[0] == "AIDAJQABLZS4A3QDU576Q"
    # A route without IAM auth: no principal, the user agent from the header
    plain = api_event("GET", "/x", resource="/x", headers={"user-agent": "curl/8.5"})
    actor, source = audit.from_api_event(plain)
    assert (actor, source.ip, source.user_agent) == ("anonymous", "203.0.113.10", "curl/8.5")
    # An HTTP API (payload 2.0) route with IAM auth
    v2 = {
        "version": "2.0",
        "headers": {"user-agent": "boto3/1.35"},
        "requestContext": {
            "http": {"method": "GET", "sourceIp": "198.51.100.7", "userAgent": "boto3/1.35"},
            "authorizer": {"iam": {"userArn": "arn:aws:sts::123456789012:assumed-role/ops/ana"}},
        },
    }
    actor, source = audit.from_api_event(v2)
    assert (actor, source.ip) == ("arn:aws:sts::123456789012:assumed-role/ops/ana", "198.51.100.7")


def test_an_automatic_action_is_attributed_to_the_function(
    hub_aws: HubAws, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "HealthCheckScheduled")
    entry = audit.record("acme", "integration_needs_reauth", integration="google")
    assert entry is not None and entry["actor"] == "service:HealthCheckScheduled"


# ----------------------------------------------------------------------------- alerts


@pytest.fixture
def alerts_queue(hub_aws: HubAws) -> str:
    """An SQS queue subscribed to the alerts topic, as an operator's email/Slack would be."""
    sqs = hub_aws.client("sqs")
    url: str = sqs.create_queue(QueueName="alerts-subscriber")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    hub_aws.client("sns").subscribe(TopicArn=hub_aws.env["ALERTS_TOPIC_ARN"], Protocol="sqs", Endpoint=arn)
    return url


def received(hub_aws: HubAws, url: str) -> list[dict[str, Any]]:
    messages = hub_aws.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def test_a_sensitive_action_alerts_on_sns_and_the_bus_without_its_secrets(
    hub_aws: HubAws, clock: Clock, alerts_queue: str
) -> None:
    bus = hub_aws.bus_tap("alerts-tap", {"detail-type": ["audit.alert"]})
    # When credentials are rotated and the caller (wrongly) passes the new key in the details
    audit.record(
        "acme",
        "credentials_rotated",
        actor="ops@agency",
        integration="asaas",
        details={"version": "v2", "api_key": "$aact_prod_SUPERSECRET", "nested": {"webhook_token": "whk-SECRET"}},
    )
    audit.record("acme", "integration_tested", actor="ops@agency", integration="asaas")  # not sensitive
    # Then subscribers of the topic get one message naming the action, org and actor
    [notification] = received(hub_aws, alerts_queue)
    message = json.loads(notification["Message"])
    assert notification["Subject"] == "[integrations-hub] credentials_rotated for acme"
    assert (message["action"], message["org_id"], message["actor"]) == ("credentials_rotated", "acme", "ops@agency")
    assert message["details"]["version"] == "v2"
    # And the bus carries the same alert
    [event] = received(hub_aws, bus)
    assert event["detail"]["action"] == "credentials_rotated" and event["detail"]["sensitive"] is True
    # And no secret reached either
    assert "SECRET" not in json.dumps(notification) and "SECRET" not in json.dumps(event)


# ----------------------------------------------------------------------------- forged-webhook bursts

EVO_TOKEN = "whk-token-123"
EVO_SECRET = {"base_url": "https://evo.test", "api_key": "evo-key", "instance": "i1", "webhook_token": EVO_TOKEN}


class Seconds:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def forged(hub_aws: HubAws, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``forged(n)`` posts n Evolution deliveries with a wrong token to acme's route; the
    burst clock starts at the beginning of a 5-minute window."""
    hub_aws.put_secret("acme", "evolution", EVO_SECRET)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "WebhookEvolution")  # as Lambda sets it
    receiver = load_function("webhook_evolution")
    clock = Seconds(1_795_000_200.0)  # a multiple of 300: the start of a window
    monkeypatch.setattr(forgery, "_now", clock)
    body = sample_event("webhook_evolution")["body"]

    def post(n: int, org: str = "acme") -> list[int]:
        statuses = []
        for _ in range(n):
            event = api_event(
                "POST",
                f"/webhooks/evolution/{org}",
                resource="/webhooks/evolution/{org_id}",
                path_parameters={"org_id": org},
                body=body,
                headers={"Authorization": "Bearer guessed", "User-Agent": "python-requests/2.32"},
            )
            statuses.append(receiver.handler(event, FakeLambdaContext("WebhookEvolution"))["statusCode"])
        return statuses

    post.clock = clock  # type: ignore[attr-defined]
    yield post


def bursts(hub_aws: HubAws, org: str = "acme") -> list[dict[str, Any]]:
    items = hub_aws.client("dynamodb").query(
        TableName=hub_aws.env["AUDIT_TABLE"],
        KeyConditionExpression="org_id = :o",
        ExpressionAttributeValues={":o": {"S": org}},
    )["Items"]
    return [i for i in items if i["action"]["S"] == "webhook_forgery_burst"]


def test_a_forged_webhook_burst_is_recorded_once_per_window_and_alerts(
    hub_aws: HubAws, forged: Any, alerts_queue: str
) -> None:
    # Given nine forged deliveries: below the threshold (10 in 5 minutes), nothing is recorded
    assert forged(9) == [401] * 9
    assert bursts(hub_aws) == []
    # When the tenth and twenty more arrive in the same window
    assert forged(21) == [401] * 21
    # Then exactly one burst record, sensitive, from the receiver, with the forger's IP
    [record] = bursts(hub_aws)
    assert record["sensitive"] == {"BOOL": True} and record["integration"]["S"] == "evolution"
    assert record["actor"]["S"] == "service:WebhookEvolution"
    assert record["source_ip"]["S"] == "203.0.113.10" and record["user_agent"]["S"] == "python-requests/2.32"
    details = json.loads(record["details"]["S"])
    assert details["failures"] == 10 and details["window_seconds"] == 300
    assert "guessed" not in json.dumps(record) and EVO_TOKEN not in json.dumps(record)
    # And one alert reached the topic's subscribers
    [notification] = received(hub_aws, alerts_queue)
    assert json.loads(notification["Message"])["action"] == "webhook_forgery_burst"
    # When the next window sees another burst, it gets its own record
    forged.clock.now += 300
    forged(10)
    assert len(bursts(hub_aws)) == 2


def test_forgeries_are_counted_per_org(hub_aws: HubAws, forged: Any) -> None:
    hub_aws.put_secret("beta", "evolution", EVO_SECRET)
    forged(5)
    forged(5, org="beta")
    assert bursts(hub_aws) == [] and bursts(hub_aws, "beta") == []


def test_a_counter_outage_still_answers_401(hub_aws: HubAws, forged: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESILIENCE_TABLE", "no-such-table")
    from hub.config import get_settings

    get_settings.cache_clear()
    assert forged(11) == [401] * 11
    assert bursts(hub_aws) == []


def test_email_gets_text_and_chatbot_its_custom_notification_format(
    hub_aws: HubAws, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a capture of what the alerts topic is asked to publish
    published: list[dict[str, Any]] = []

    class Sns:
        def publish(self, **kwargs: Any) -> None:
            published.append(kwargs)

    real = audit.aws_client
    monkeypatch.setattr(audit, "aws_client", lambda service: Sns() if service == "sns" else real(service))
    # When a sensitive action is recorded
    audit.record(
        "acme", "permissions_changed", actor="ops@agency", integration="google", details={"token": "ya29.SECRET"}
    )
    # Then each kind of subscriber has its body, none with the secret
    [call] = published
    assert call["MessageStructure"] == "json" and "SECRET" not in json.dumps(call)
    bodies = json.loads(call["Message"])
    assert json.loads(bodies["default"])["action"] == "permissions_changed"
    assert "Actor: ops@agency" in bodies["email"] and "Integration: google" in bodies["email"]
    chat = json.loads(bodies["https"])
    assert (chat["version"], chat["source"], chat["content"]["textType"]) == ("1.0", "custom", "client-markdown")
    assert "permissions_changed for acme" in chat["content"]["title"]
