"""Insights syncs against moto (docs/social.md, "Insights"): incremental days only, a sync that
fails half-way resumes without duplicating days (DynamoDB items, S3 objects and their versions),
a rate-limited account is deferred while the others sync, a run out of time leaves the rest to
the next, posts' latest metrics, the bus event, and SocialInsightsGet over what was stored.

The network is a fake ``ports.SocialInsights`` adapter; the clock is frozen (``now`` in the
request, ``insights.today`` for reads): nothing depends on today's date, nothing sleeps."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from hub.config import get_settings
from hub.errors import AuthenticationError, InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.integrations.records import IntegrationRecord, put_record
from hub.providers import ports
from hub.social import insights, insights_store
from hub.social.insights import InsightsSyncRequest, sync_insights
from hub.social.models import DayMetrics, PostMetrics, SocialAccount
from tests.aws.conftest import HubAws
from tests.helpers import FakeLambdaContext, load_function, sample_event

# 09:00 in Brasília on 2027-03-06: "yesterday" is 2027-03-05.
NOW = datetime(2027, 3, 6, 12, 0, tzinfo=UTC)
YESTERDAY = date(2027, 3, 5)
IG = "17841400000000001"


def day(n: int) -> date:
    """Day ``n`` of the five-day backfill ending yesterday: day(1) = 2027-03-01 … day(5) = 2027-03-05."""
    return YESTERDAY - timedelta(days=5 - n)


class FakeNetwork:
    """A SocialInsights adapter: ``reported`` days per account, faults switched per test, and
    every call recorded."""

    def __init__(self, accounts: list[str]) -> None:
        self.accounts = accounts
        self.reported: dict[str, set[date]] = {}
        self.fail_on: dict[str, date] = {}
        self.rate_limited: set[str] = set()
        self.token_refused = False
        self.calls: list[tuple[str, str, Any]] = []

    def list_accounts(self) -> list[SocialAccount]:
        self.calls.append(("list_accounts", "", None))
        return [SocialAccount(account=a, kind="business") for a in self.accounts]

    def account_metrics(self, account: str, start: date, end: date) -> list[DayMetrics]:
        self.calls.append(("account_metrics", account, (start, end)))
        if self.token_refused:
            raise AuthenticationError("token revoked", provider="fake", http_status=401)
        if account in self.rate_limited:
            raise RateLimitedError("quota spent", retry_after=3600, provider="fake")
        failing = self.fail_on.get(account)
        if failing is not None and start <= failing <= end:
            raise ProviderUnavailableError("network down", provider="fake", http_status=503)
        days = self.reported.get(account)
        out, current = [], start
        while current <= end:
            if days is None or current in days:
                out.append(DayMetrics(day=current, metrics={"views": current.day * 10, "reach": current.day}))
            current += timedelta(days=1)
        return out

    def post_metrics(self, account: str, post_ids: list[str]) -> list[PostMetrics]:
        self.calls.append(("post_metrics", account, tuple(post_ids)))
        return [PostMetrics(post_id=p, metrics={"likes": 3, "views": 120}) for p in post_ids]

    def asked(self, account: str) -> list[tuple[date, date]]:
        return [c[2] for c in self.calls if c[0] == "account_metrics" and c[1] == account]


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, hub_aws: HubAws) -> None:
    monkeypatch.setenv("SOCIAL_INSIGHTS_BACKFILL_DAYS", "5")
    monkeypatch.setenv("SOCIAL_INSIGHTS_CHUNK_DAYS", "2")
    monkeypatch.setenv("SOCIAL_INSIGHTS_SETTLE_DAYS", "0")
    get_settings.cache_clear()


def connect(org: str, network: str, status: str = "connected") -> None:
    put_record(IntegrationRecord(org_id=org, provider=network, status=status, auth="oauth2"))  # type: ignore[arg-type]


def run(fake: FakeNetwork | dict[tuple[str, str], FakeNetwork], now: datetime = NOW, **fields: Any) -> Any:
    def resolve(org: str, net: str) -> Any:
        return fake if isinstance(fake, FakeNetwork) else fake[(org, net)]

    return sync_insights(InsightsSyncRequest.model_validate({"now": now, **fields}), resolve=resolve)


def stored_days(hub_aws: HubAws, org: str, network: str, account: str) -> list[str]:
    items = hub_aws.client("dynamodb").query(
        TableName=hub_aws.env["SOCIAL_TABLE"],
        KeyConditionExpression="pk = :pk AND begins_with(sk, :d)",
        ExpressionAttributeValues={":pk": {"S": f"ins#{org}#{network}#{account}"}, ":d": {"S": "day#"}},
    )["Items"]
    return [item["day"]["S"] for item in items]


def history(hub_aws: HubAws, org: str = "acme", network: str = "instagram") -> Counter[str]:
    """Every version of every history object under the account's prefix, counted by key."""
    listing = hub_aws.client("s3").list_object_versions(
        Bucket=hub_aws.env["GENERATED_CONTENT_BUCKET"], Prefix=f"exports/{org}/social/{network}/"
    )
    return Counter(v["Key"] for v in listing.get("Versions", []))


def keys(*days: date, org: str = "acme", network: str = "instagram", account: str = IG) -> Counter[str]:
    return Counter(f"exports/{org}/social/{network}/{account}/{d.isoformat()}.json" for d in days)


def cursor(org: str = "acme", network: str = "instagram", account: str = IG) -> insights_store.Cursor:
    return insights_store.get_cursor(org, network, account)


def drain(hub_aws: HubAws, queue_url: str) -> list[dict[str, Any]]:
    sqs, seen = hub_aws.client("sqs"), {}
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=30).get(
        "Messages"
    ):
        seen.update({m["MessageId"]: json.loads(m["Body"]) for m in batch})
    return list(seen.values())


def test_first_sync_backfills_then_reads_only_the_new_days(hub_aws: HubAws, settings: None) -> None:
    # Given an org whose Instagram integration is connected, never synced
    connect("acme", "instagram")
    network = FakeNetwork([IG])
    tap = hub_aws.bus_tap("insights-tap", {"detail-type": ["social.insights.synced"]})

    # When the schedule runs, then again two days later
    first = run(network)
    later = NOW + timedelta(days=2)
    second = run(network, now=later)

    # Then the first run read the backfill (5 days up to yesterday), the second only the two new days
    assert [a.days for a in first.accounts] == [[day(n) for n in range(1, 6)]]
    assert network.asked(IG) == [
        (day(1), day(2)),
        (day(3), day(4)),
        (day(5), day(5)),
        (YESTERDAY + timedelta(days=1), YESTERDAY + timedelta(days=2)),
    ]
    assert second.accounts[0].days == [YESTERDAY + timedelta(days=1), YESTERDAY + timedelta(days=2)]
    assert cursor().through == YESTERDAY + timedelta(days=2)
    expected = [day(n) for n in range(1, 6)] + [YESTERDAY + timedelta(days=i) for i in (1, 2)]
    assert stored_days(hub_aws, "acme", "instagram", IG) == [d.isoformat() for d in expected]
    assert history(hub_aws) == keys(*expected)
    body = hub_aws.client("s3").get_object(
        Bucket=hub_aws.env["GENERATED_CONTENT_BUCKET"], Key=f"exports/acme/social/instagram/{IG}/{day(1)}.json"
    )["Body"]
    assert json.loads(body.read()) == {
        "org_id": "acme",
        "network": "instagram",
        "account": IG,
        "day": day(1).isoformat(),
        "metrics": {"views": day(1).day * 10, "reach": day(1).day},
    }
    # And subscribers heard of each run's days, once per account
    events = drain(hub_aws, tap)
    assert sorted((e["detail"]["days"][0], len(e["detail"]["days"])) for e in events) == [
        (day(1).isoformat(), 5),
        ((YESTERDAY + timedelta(days=1)).isoformat(), 2),
    ]
    assert {e["detail"]["through"] for e in events} == {
        YESTERDAY.isoformat(),
        (YESTERDAY + timedelta(days=2)).isoformat(),
    }
    assert all(e["source"] == "integrations-hub" and e["detail"]["org_id"] == "acme" for e in events)


class Flaky:
    """A boto3 client whose ``method`` fails once for the call ``fails(kwargs)`` picks; S3 puts
    that reached the store are counted by key."""

    def __init__(self, real: Any, method: str, fails: Any = None) -> None:
        self.real, self.method, self.fails = real, method, fails
        self.failed = False
        self.puts: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        real = getattr(self.real, name)
        if name not in (self.method, "put_object"):
            return real

        def call(**kwargs: Any) -> Any:
            if name == self.method and not self.failed and self.fails is not None and self.fails(kwargs):
                self.failed = True
                raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, name)
            answer = real(**kwargs)
            if name == "put_object":
                self.puts[kwargs["Key"]] += 1
            return answer

        return call


@pytest.mark.parametrize("where", ["network", "s3", "dynamodb"])
def test_a_sync_failing_half_way_resumes_without_duplicating_days(
    hub_aws: HubAws, settings: None, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    # Given a first sync of five days that fails on day 3: at the network, writing its history
    # object, or writing its item (after the object was written)
    connect("acme", "instagram")
    network = FakeNetwork([IG])
    day3 = day(3).isoformat()
    s3 = Flaky(
        insights_store.s3_client(),
        "put_object",
        (lambda kw: kw["Key"].endswith(f"{day3}.json")) if where == "s3" else None,
    )
    monkeypatch.setattr(insights_store, "s3_client", lambda: s3)
    if where == "network":
        network.fail_on[IG] = day(3)
    if where == "dynamodb":
        dynamodb = Flaky(
            insights_store.aws_client("dynamodb"), "put_item", lambda kw: kw["Item"]["sk"]["S"] == f"day#{day3}"
        )
        monkeypatch.setattr(insights_store, "aws_client", lambda service: dynamodb)

    # When it runs
    first = run(network)

    # Then days 1 and 2 are stored, the cursor stays at day 2 and the failure is recorded
    (outcome,) = first.accounts
    assert (outcome.status, outcome.days, outcome.through) == ("failed", [day(1), day(2)], day(2))
    assert outcome.error is not None and outcome.error.startswith("ProviderUnavailableError")
    assert cursor().through == day(2)
    assert cursor().last_error == outcome.error
    assert stored_days(hub_aws, "acme", "instagram", IG) == [day(1).isoformat(), day(2).isoformat()]

    # When the next run comes (the fault has passed)
    network.fail_on.clear()
    second = run(network, now=NOW + timedelta(hours=1))

    # Then it asks only for days 3..5 and writes each of them once
    assert second.accounts[0].days == [day(3), day(4), day(5)]
    assert second.accounts[0].status == "synced"
    assert network.asked(IG)[-2:] == [(day(3), day(4)), (day(5), day(5))]
    assert stored_days(hub_aws, "acme", "instagram", IG) == [day(n).isoformat() for n in range(1, 6)]
    five = keys(*(day(n) for n in range(1, 6)))
    assert history(hub_aws) == five  # one object per day, one version each
    assert s3.puts == five  # no day written twice (day 3's unchanged object is not rewritten)
    assert cursor().through == day(5)
    assert cursor().last_error is None


def test_a_rate_limited_account_waits_for_the_reset_while_the_others_sync(hub_aws: HubAws, settings: None) -> None:
    # Given two orgs: acme's Instagram with two accounts (one out of quota), beta's LinkedIn;
    # a disabled integration and a non-social one, which the sync leaves alone
    limited, other, page = "17841400000000002", "17841400000000003", "urn:li:organization:42"
    connect("acme", "instagram")
    connect("beta", "linkedin")
    connect("acme", "stripe")
    connect("other", "facebook", status="disabled")
    instagram, linkedin = FakeNetwork([limited, other]), FakeNetwork([page])
    instagram.rate_limited.add(limited)
    networks = {("acme", "instagram"): instagram, ("beta", "linkedin"): linkedin}

    # When the schedule runs
    first = run(networks)

    # Then the limited account stopped (deferred to the reset), the others synced their five days
    by_account = {a.account: a for a in first.accounts}
    assert set(by_account) == {limited, other, page}
    assert (by_account[limited].status, by_account[limited].days) == ("rate_limited", [])
    assert by_account[limited].retry_after == 3600
    assert by_account[other].days == by_account[page].days == [day(n) for n in range(1, 6)]
    assert cursor(account=limited).through is None
    assert cursor(account=limited).deferred_until == NOW + timedelta(hours=1)
    assert first.failed == {} and first.not_supported == []

    # When a run comes before the reset: the limited account is not asked at all
    calls = len(instagram.asked(limited))
    soon = run(networks, now=NOW + timedelta(minutes=30))
    assert {a.account: a.status for a in soon.accounts} == {
        limited: "deferred",
        other: "up_to_date",
        page: "up_to_date",
    }
    assert len(instagram.asked(limited)) == calls

    # When a run comes after the reset (the quota is back): it catches up
    instagram.rate_limited.clear()
    after = run(networks, now=NOW + timedelta(hours=2))
    assert {a.account: a.days for a in after.accounts}[limited] == [day(n) for n in range(1, 6)]
    assert cursor(account=limited).deferred_until is None


def test_an_account_asked_for_by_name_is_tried_even_while_deferred(hub_aws: HubAws, settings: None) -> None:
    connect("acme", "instagram")
    network = FakeNetwork([IG])
    network.rate_limited.add(IG)
    assert run(network).accounts[0].status == "rate_limited"
    network.rate_limited.clear()

    # On demand for that account (an operator after the quota was raised)
    again = run(network, now=NOW + timedelta(minutes=5), org_id="acme", network="instagram", account=IG)

    assert again.accounts[0].days == [day(n) for n in range(1, 6)]


def test_a_run_out_of_time_stops_between_days_and_the_next_run_continues(
    hub_aws: HubAws, settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an invocation with time for the first chunk of days only
    connect("acme", "instagram")
    network = FakeNetwork([IG])
    budget = iter([600.0, 600.0, 600.0])  # the integration, the account, the first chunk
    monkeypatch.setattr(insights, "remaining_seconds", lambda: next(budget, 1.0))

    first = run(network)

    assert first.truncated
    assert (first.accounts[0].status, first.accounts[0].days) == ("truncated", [day(1), day(2)])
    assert cursor().through == day(2)

    # The next run (time enough) continues where it stopped
    monkeypatch.setattr(insights, "remaining_seconds", lambda: None)
    second = run(network, now=NOW + timedelta(minutes=10))
    assert second.accounts[0].days == [day(3), day(4), day(5)]
    assert not second.truncated


def test_post_metrics_of_the_hubs_publications_once_a_day(
    hub_aws: HubAws, settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    connect("acme", "instagram")
    network = FakeNetwork([IG])
    asked_since: list[datetime] = []

    def published(org_id: str, net: str, account: str, since: datetime) -> list[str]:
        asked_since.append(since)
        return ["18000000000000001", "18000000000000002", "18000000000000001"]

    monkeypatch.setattr(insights, "published_post_ids", published)
    tap = hub_aws.bus_tap("insights-posts-tap", {"detail-type": ["social.insights.synced"]})

    first = run(network)
    run(network, now=NOW + timedelta(hours=3))  # the same Brasília day: posts not read again
    run(network, now=NOW + timedelta(days=1))  # the next day: read again

    assert first.accounts[0].posts == 2
    assert [c[2] for c in network.calls if c[0] == "post_metrics"] == [("18000000000000001", "18000000000000002")] * 2
    assert asked_since[0] == NOW - timedelta(days=28)
    stored = insights_store.posts("acme", "instagram", IG)
    assert [(p.post_id, p.metrics) for p in stored] == [
        ("18000000000000001", {"likes": 3, "views": 120}),
        ("18000000000000002", {"likes": 3, "views": 120}),
    ]
    events = drain(hub_aws, tap)
    assert sorted((len(e["detail"]["days"]), e["detail"]["posts"]) for e in events) == [(1, 2), (5, 2)]


def test_a_day_not_reported_yet_is_waited_for_an_old_gap_is_passed(
    hub_aws: HubAws, settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a network that has not reported yesterday yet and never reported day 2
    monkeypatch.setenv("SOCIAL_INSIGHTS_SETTLE_DAYS", "2")
    get_settings.cache_clear()
    connect("acme", "instagram")
    network = FakeNetwork([IG])
    network.reported[IG] = {day(1), day(3), day(4)}

    first = run(network)

    assert (first.accounts[0].status, first.accounts[0].days, first.accounts[0].through) == (
        "waiting",
        [day(1), day(3), day(4)],
        day(4),
    )

    # Once yesterday is reported, the next run writes it
    network.reported[IG].add(day(5))
    second = run(network, now=NOW + timedelta(hours=2))
    assert second.accounts[0].days == [day(5)]
    assert stored_days(hub_aws, "acme", "instagram", IG) == [day(n).isoformat() for n in (1, 3, 4, 5)]


def test_the_functions_sync_on_demand_and_read_back_the_range(
    hub_aws: HubAws, settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the adapter found through the ports lookup, and a frozen clock
    network = FakeNetwork([IG])
    asked: list[tuple[Any, str, str]] = []

    def for_org(port: Any, org_id: str, provider: str, **kwargs: Any) -> Any:
        asked.append((port, org_id, provider))
        return network

    monkeypatch.setattr(ports, "for_org", for_org)
    monkeypatch.setattr(insights, "utcnow", lambda: NOW)
    sync = load_function("social_insights_sync")
    context = FakeLambdaContext("SocialInsightsSync", timeout_ms=600_000)  # the template's Timeout
    get = load_function("social_insights_get")

    # When SocialInsightsSync runs for one network of one org (no integration record needed)
    synced = sync.handler({"org_id": "acme", "network": "instagram", "until": day(4).isoformat()}, context)

    # Then it synced that org's accounts up to the given day
    assert asked == [(ports.SocialInsights, "acme", "instagram")]
    assert synced["until"] == day(4).isoformat()
    assert [(a["account"], a["days"]) for a in synced["accounts"]] == [
        (IG, [d.isoformat() for d in (day(0), day(1), day(2), day(3), day(4))])
    ]

    # And SocialInsightsGet reads them back, naming the days it has no metrics for
    answer = get.handler(
        {"org_id": "acme", "network": "instagram", "account": IG, "from": day(3).isoformat(), "to": day(5).isoformat()},
        FakeLambdaContext(),
    )
    assert answer["from"] == day(3).isoformat() and answer["to"] == day(5).isoformat()
    assert answer["through"] == day(4).isoformat()
    assert [(d["day"], d["metrics"]) for d in answer["days"]] == [
        (day(3).isoformat(), {"views": day(3).day * 10, "reach": day(3).day}),
        (day(4).isoformat(), {"views": day(4).day * 10, "reach": day(4).day}),
    ]
    assert answer["missing"] == [day(5).isoformat()]
    assert answer["posts"] == []


def test_on_demand_for_one_org_syncs_only_its_connected_networks(hub_aws: HubAws, settings: None) -> None:
    connect("acme", "instagram")
    connect("acme", "youtube", status="needs_reauth")
    connect("beta", "linkedin")
    instagram = FakeNetwork([IG])

    result = run({("acme", "instagram"): instagram}, org_id="acme")

    assert [(a.org_id, a.network, a.account, len(a.days)) for a in result.accounts] == [("acme", "instagram", IG, 5)]


def test_instagram_through_facebook_login_is_synced_for_orgs_with_only_facebook(
    hub_aws: HubAws, settings: None
) -> None:
    connect("acme", "facebook")
    connect("beta", "facebook")
    connect("beta", "instagram")
    networks = {
        key: FakeNetwork([IG])
        for key in [("acme", "facebook"), ("acme", "instagram"), ("beta", "facebook"), ("beta", "instagram")]
    }

    result = run(networks)

    assert sorted({(a.org_id, a.network) for a in result.accounts}) == [
        ("acme", "facebook"),
        ("acme", "instagram"),
        ("beta", "facebook"),
        ("beta", "instagram"),
    ]


def test_the_schedule_syncs_every_connected_network_and_skips_those_without_insights(
    hub_aws: HubAws, settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two connected networks, one of which has no insights adapter
    connect("acme", "instagram")
    connect("beta", "linkedin")
    network = FakeNetwork([IG])

    def for_org(port: Any, org_id: str, provider: str, **kwargs: Any) -> Any:
        if provider == "linkedin":
            raise InvalidRequestError("network: linkedin is not a SocialInsights", code="capability_unsupported")
        return network

    monkeypatch.setattr(ports, "for_org", for_org)
    monkeypatch.setattr(insights, "utcnow", lambda: NOW)

    # When the schedule's event arrives
    result = load_function("social_insights_sync").handler(
        sample_event("social_insights_sync"), FakeLambdaContext("SocialInsightsSync", timeout_ms=600_000)
    )

    # Then the supported one is synced up to yesterday, the other listed, nothing failed
    assert result["until"] == YESTERDAY.isoformat()
    assert [(a["org_id"], a["network"], a["status"], len(a["days"])) for a in result["accounts"]] == [
        ("acme", "instagram", "synced", 5)
    ]
    assert result["not_supported"] == ["beta/linkedin"]
    assert result["failed"] == {} and result["truncated"] is False


def test_a_network_refusing_to_list_accounts_fails_that_integration_only(
    hub_aws: HubAws, settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    connect("acme", "instagram")
    connect("beta", "youtube")
    broken, youtube = FakeNetwork([IG]), FakeNetwork(["UC1234567890abcdefghijkl"])

    def refuse() -> list[SocialAccount]:
        raise InvalidRequestError("(#100) Tried accessing nonexisting field", provider="instagram", http_status=400)

    monkeypatch.setattr(broken, "list_accounts", refuse)

    result = run({("acme", "instagram"): broken, ("beta", "youtube"): youtube})

    assert result.failed == {"acme/instagram": "InvalidRequestError"}
    assert [(a.network, len(a.days)) for a in result.accounts] == [("youtube", 5)]


def test_a_refused_token_stops_that_integrations_accounts_not_the_others(hub_aws: HubAws, settings: None) -> None:
    connect("acme", "facebook")
    connect("acme", "instagram", status="disabled")  # its own record decides: not read through facebook
    connect("beta", "instagram")
    pages, instagram = FakeNetwork(["1000000000001", "1000000000002"]), FakeNetwork([IG])
    pages.token_refused = True

    result = run({("acme", "facebook"): pages, ("beta", "instagram"): instagram})

    assert [(a.org_id, a.account, a.status, a.error) for a in result.accounts] == [
        ("acme", "1000000000001", "failed", "AuthenticationError"),
        ("beta", IG, "synced", None),
    ]
    assert pages.asked("1000000000002") == []  # same token: not tried
    assert cursor("acme", "facebook", "1000000000001").last_error == "AuthenticationError"
