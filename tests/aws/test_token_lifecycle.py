"""The token lifecycle (docs/integrations.md, "Token lifecycle") against moto: one refresh per
refresh token under concurrency, transient refresh failures never kill a token, a refused grant
notifies the org once, the sweep (refresh-token grants, Meta's long-lived tokens, reauth_due
notices for tokens that cannot be refreshed) and its time budget. Clocks are frozen; nothing
sleeps: concurrent callers wait on conditions."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import SecretStr

from hub.errors import AuthenticationError, ProviderUnavailableError, RateLimitedError
from hub.integrations import records
from hub.integrations.records import IntegrationRecord, get_record, put_record
from hub.integrations.sweep import SweepRequest, sweep_tokens
from hub.providers.base.auth import LongLivedTokens, MemoryTokenStore, OAuth2Tokens, Token, TokenCache, TokenProvider
from hub.retry import RetryPolicy
from hub.runtime import start_invocation
from tests.aws.conftest import HubAws
from tests.aws.test_token_refresh import CLIENT_SECRET, FIRST_REFRESH, TOKEN_URL, Clock, OAuthProvider, TokenEndpoint
from tests.helpers import ROOT, FakeLambdaContext, load_function

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
DAY = 86400.0
APP_SECRET = "meta-app-secret-value"


def frozen() -> Clock:
    return Clock(NOW.timestamp())


def client_for(org: str, transport: Callable[[httpx.Request], httpx.Response], provider: str = "linkedin") -> Any:
    client_class = type(f"{provider.title()}Client", (OAuthProvider,), {"provider": provider})
    return client_class(
        OAuthProvider.credentials_model(),
        http=httpx.Client(transport=httpx.MockTransport(transport)),
        retry_policy=RetryPolicy(max_attempts=3, sleep=lambda _: None),
        org_id=org,
    )


def oauth_for(
    org: str,
    endpoint: Callable[[httpx.Request], httpx.Response],
    store: MemoryTokenStore,
    *,
    refresh_token: str | None = FIRST_REFRESH,
    cache: TokenCache | None = None,
    clock: Clock | None = None,
    sleep: Callable[[float], None] | None = None,
) -> OAuth2Tokens:
    extra: dict[str, Any] = {"cache": cache or TokenCache(), "clock": clock or frozen()}
    if sleep is not None:
        extra["sleep"] = sleep
    return OAuth2Tokens(
        client_for(org, endpoint),
        token_url=TOKEN_URL,
        client_id="client-1",
        client_secret=SecretStr(CLIENT_SECRET),
        refresh_token=SecretStr(refresh_token) if refresh_token else None,
        store=store,
        **extra,
    )


def connected(org: str, provider: str = "linkedin", *, expires_in: float, refreshed_ago: float) -> None:
    put_record(
        IntegrationRecord(
            org_id=org,
            provider=provider,
            status="connected",
            auth="oauth2",
            token_expires_at=NOW + timedelta(seconds=expires_in),
            token_refreshed_at=NOW - timedelta(seconds=refreshed_ago),
        )
    )


def stored(store: MemoryTokenStore, org: str, provider: str, access: str, *, expires_in: float, age: float, **kw: Any):
    now = NOW.timestamp()
    store.save(org, provider, Token(access, now + expires_in - 600, now + expires_in, issued_at=now - age, **kw))


def audit_actions(hub_aws: HubAws, org: str) -> list[str]:
    items = hub_aws.client("dynamodb").query(
        TableName=hub_aws.env["AUDIT_TABLE"],
        KeyConditionExpression="org_id = :o",
        ExpressionAttributeValues={":o": {"S": org}},
    )["Items"]
    return [item["action"]["S"] for item in items]


def bus_events(hub_aws: HubAws, tap: str) -> list[dict[str, Any]]:
    sqs, seen = hub_aws.client("sqs"), {}
    while batch := sqs.receive_message(QueueUrl=tap, MaxNumberOfMessages=10, VisibilityTimeout=30).get("Messages"):
        seen.update({m["MessageId"]: json.loads(m["Body"]) for m in batch})
    return list(seen.values())


@pytest.fixture
def tap(hub_aws: HubAws) -> str:
    return hub_aws.bus_tap("lifecycle-tap", {"source": ["integrations-hub"]})


class Waiters:
    """Instances waiting for the refresh lock (their ``sleep``), counted so the token endpoint
    answers only once all of them wait; they go on once a caller has finished."""

    def __init__(self) -> None:
        self.waiting: set[int] = set()
        self.changed = threading.Condition()
        self.finished = threading.Event()

    def sleep(self, _: float) -> None:
        with self.changed:
            self.waiting.add(threading.get_ident())
            self.changed.notify_all()
        assert self.finished.wait(10), "nobody finished"

    def until(self, count: int) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.waiting) >= count, 10), "the others never waited"

    def run(self, calls: list[Callable[[], Any]]) -> list[Any]:
        results: list[Any] = [None] * len(calls)

        def run_one(i: int) -> None:
            try:
                results[i] = calls[i]()
            except Exception as exc:  # the test inspects what each caller got
                results[i] = exc
            finally:
                self.finished.set()

        threads = [threading.Thread(target=run_one, args=(i,)) for i in range(len(calls))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        assert not any(thread.is_alive() for thread in threads)
        return results


# ----- refresh on read under concurrency ------------------------------------------------------


def test_concurrent_refreshes_from_threads_and_instances_spend_the_refresh_token_once(hub_aws: HubAws) -> None:
    # Given 4 instances (containers) with 2 threads each, sharing the store and the DynamoDB lock,
    # and a token endpoint that answers only once every other instance waits for the lock
    instances, waiters, store = 4, Waiters(), MemoryTokenStore()

    def answer(form: dict[str, str]) -> httpx.Response:
        waiters.until(instances - 1)
        return httpx.Response(
            200, json={"access_token": "access-1", "refresh_token": "refresh-token-2", "expires_in": 3600}
        )

    endpoint = TokenEndpoint(answer=answer)
    providers = [oauth_for("acme", endpoint, store, sleep=waiters.sleep) for _ in range(instances)]
    # When the 8 callers ask for a token at once
    results = waiters.run([p.token for p in providers for _ in range(2)])
    # Then the refresh token was used once, and everyone got its access token
    assert Counter(form["refresh_token"] for form in endpoint.forms) == {FIRST_REFRESH: 1}
    assert results == ["access-1"] * 8
    saved = store.load("acme", "linkedin")
    assert saved is not None and saved.refresh_token == "refresh-token-2"


def test_a_5xx_during_refresh_keeps_the_integration_connected_and_a_later_call_succeeds(
    hub_aws: HubAws, tap: str
) -> None:
    # Given a connected integration whose token endpoint is down (503 on every attempt)
    connected("acme", expires_in=-60, refreshed_ago=3700)
    down = True
    endpoint = TokenEndpoint(
        answer=lambda form: httpx.Response(503) if down else httpx.Response(200, json={"access_token": "access-ok"})
    )
    tokens = oauth_for("acme", endpoint, MemoryTokenStore())
    # When a function asks for a token
    with pytest.raises(ProviderUnavailableError):
        tokens.token()
    # Then it was retried within the policy (one quick retry of a 5xx), and the token is not
    # treated as dead
    assert len(endpoint.forms) == 2
    record = get_record("acme", "linkedin")
    assert record is not None and record.status == "connected"
    assert audit_actions(hub_aws, "acme") == [] and bus_events(hub_aws, tap) == []
    # And once the provider is back, the next call refreshes with the same refresh token
    down = False
    assert tokens.token() == "access-ok"
    assert {form["refresh_token"] for form in endpoint.forms} == {FIRST_REFRESH}


def test_a_rate_limited_or_unreachable_token_endpoint_is_not_a_dead_token(hub_aws: HubAws) -> None:
    connected("acme", expires_in=-60, refreshed_ago=3700)
    for failure, error in (
        (lambda request: httpx.Response(429, headers={"Retry-After": "30"}), RateLimitedError),
        (lambda request: (_ for _ in ()).throw(httpx.ConnectError("refused")), ProviderUnavailableError),
    ):
        with pytest.raises(error):
            oauth_for("acme", failure, MemoryTokenStore()).token()
        record = get_record("acme", "linkedin")
        assert record is not None and record.status == "connected"
    assert audit_actions(hub_aws, "acme") == []


def test_invalid_grant_under_concurrent_calls_notifies_the_org_once_and_stops_calling(
    hub_aws: HubAws, tap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a connected integration whose grant the org revoked, and 5 instances asking at once
    connected("acme", expires_in=-60, refreshed_ago=3700)
    instances, waiters, store = 5, Waiters(), MemoryTokenStore()

    def revoked(form: dict[str, str]) -> httpx.Response:
        waiters.until(instances - 1)
        return httpx.Response(400, json={"error": "invalid_grant", "error_description": "Token has been revoked."})

    endpoint = TokenEndpoint(answer=revoked)
    providers = [oauth_for("acme", endpoint, store, sleep=waiters.sleep) for _ in range(instances)]
    # When they all ask for a token
    results = waiters.run([p.token for p in providers])
    # Then one token call, every caller refused, the integration needs_reauth
    assert len(endpoint.forms) == 1
    assert all(isinstance(r, AuthenticationError) for r in results)
    codes = Counter(r.code for r in results)
    assert codes == {"invalid_grant": 1, "integration_needs_reauth": instances - 1}
    record = get_record("acme", "linkedin")
    assert record is not None and record.status == "needs_reauth" and "invalid_grant" in (record.reason or "")
    # And exactly one audit record and one integration.needs_reauth event (the org's notification)
    assert audit_actions(hub_aws, "acme") == ["integration_needs_reauth"]
    events = [e for e in bus_events(hub_aws, tap) if e["detail-type"] == "integration.needs_reauth"]
    assert len(events) == 1
    assert events[0]["detail"]["provider"] == "linkedin" and events[0]["detail"]["code"] == "invalid_grant"
    # And later calls are refused without touching the provider; no secret was written anywhere
    with pytest.raises(AuthenticationError) as later:
        oauth_for("acme", endpoint, store).token()
    assert later.value.code == "integration_needs_reauth"
    assert len(endpoint.forms) == 1
    written = json.dumps(events) + capsys.readouterr().out
    assert FIRST_REFRESH not in written and CLIENT_SECRET not in written


def test_a_rejected_api_call_still_disables_while_a_refused_grant_needs_reauth(hub_aws: HubAws) -> None:
    # The guarded path tells the two apart: an API call's 401 disables (an operator fixes the
    # credentials); only a token refresh's refusal moves to needs_reauth.
    connected("acme", expires_in=3600, refreshed_ago=0)
    client = client_for("acme", lambda request: httpx.Response(401, json={"message": "bad key"}))
    with pytest.raises(AuthenticationError):
        client.request("GET", "/v2/me")
    record = get_record("acme", "linkedin")
    assert record is not None and record.status == "disabled"


# ----- the sweep ---------------------------------------------------------------------------------


def resolver(providers: dict[tuple[str, str], TokenProvider]) -> Callable[[str, str], TokenProvider]:
    return lambda org, provider: providers[(org, provider)]


def test_the_sweep_refreshes_a_token_expiring_within_its_horizon_and_leaves_fresh_ones_alone(hub_aws: HubAws) -> None:
    # Given three OAuth integrations: one expiring in 12 h that nobody refreshed for 59 days,
    # one with 30 days left, one that functions refreshed 10 minutes ago
    store = MemoryTokenStore()
    endpoints = {org: TokenEndpoint() for org in ("acme", "beta", "gamma")}
    connected("acme", expires_in=12 * 3600, refreshed_ago=59 * DAY)
    stored(store, "acme", "linkedin", "old-acme", expires_in=12 * 3600, age=59 * DAY, refresh_token="r-acme")
    connected("beta", expires_in=30 * DAY, refreshed_ago=30 * DAY)
    stored(store, "beta", "linkedin", "old-beta", expires_in=30 * DAY, age=30 * DAY, refresh_token="r-beta")
    connected("gamma", expires_in=3000, refreshed_ago=600)
    stored(store, "gamma", "linkedin", "old-gamma", expires_in=3000, age=600, refresh_token="r-gamma")
    providers = {(org, "linkedin"): oauth_for(org, endpoints[org], store) for org in endpoints}
    # When the sweep runs
    result = sweep_tokens(SweepRequest(now=NOW), resolve=resolver(providers))
    # Then only the token due was refreshed, with its own refresh token, and its record says so
    assert result.refreshed == ["acme/linkedin"] and result.not_due == 2 and result.failed == {}
    assert [f["refresh_token"] for f in endpoints["acme"].forms] == ["r-acme"]
    assert endpoints["beta"].forms == [] and endpoints["gamma"].forms == []
    record = get_record("acme", "linkedin")
    assert record is not None and record.token_expires_at == NOW + timedelta(seconds=3600)
    assert record.token_refreshed_at == NOW
    # And a second run finds nothing due
    again = sweep_tokens(SweepRequest(now=NOW), resolve=resolver(providers))
    assert again.refreshed == [] and len(endpoints["acme"].forms) == 1


def test_a_sweep_refresh_that_fails_transiently_records_it_and_the_next_run_succeeds(hub_aws: HubAws) -> None:
    # Given a due token whose token endpoint answers 503
    store, down = MemoryTokenStore(), True
    connected("acme", expires_in=3600, refreshed_ago=59 * DAY)
    stored(store, "acme", "linkedin", "old", expires_in=3600, age=59 * DAY, refresh_token="r-acme")
    endpoint = TokenEndpoint(
        answer=lambda form: (
            httpx.Response(503) if down else httpx.Response(200, json={"access_token": "new", "expires_in": 60 * DAY})
        )
    )
    providers = {("acme", "linkedin"): oauth_for("acme", endpoint, store)}
    # When the sweep runs
    result = sweep_tokens(SweepRequest(now=NOW), resolve=resolver(providers))
    # Then the failure is reported and noted on the record, without secrets; still connected
    assert result.failed == {"acme/linkedin": "ProviderUnavailableError: 503"}
    record = get_record("acme", "linkedin")
    assert record is not None and record.status == "connected"
    assert record.last_error is not None and "ProviderUnavailableError" in record.last_error
    assert "r-acme" not in record.last_error and CLIENT_SECRET not in record.last_error
    # And the next run, with the provider back, refreshes and clears the error
    down = False
    assert sweep_tokens(SweepRequest(now=NOW), resolve=resolver(providers)).refreshed == ["acme/linkedin"]
    record = get_record("acme", "linkedin")
    assert record is not None and record.last_error is None and record.status == "connected"


def graph(answers: list[httpx.Request]) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        answers.append(request)
        return httpx.Response(
            200, json={"access_token": f"long-{len(answers)}", "token_type": "bearer", "expires_in": 5183944}
        )

    return answer


def test_meta_long_lived_tokens_are_refreshed_well_before_day_60(
    hub_aws: HubAws, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a Facebook token with 40 days left (20 days old), an Instagram one with 40 days left,
    # and a Facebook token with 50 days left
    store, sent = MemoryTokenStore(), []
    for org, provider, left in (("acme", "facebook", 40), ("acme", "instagram", 40), ("beta", "facebook", 50)):
        connected(org, provider, expires_in=left * DAY, refreshed_ago=(60 - left) * DAY)
        stored(store, org, provider, f"current-{org}-{provider}", expires_in=left * DAY, age=(60 - left) * DAY)

    def long_lived(org: str, provider: str) -> LongLivedTokens:
        exchange = "instagram" if provider == "instagram" else "facebook"
        return LongLivedTokens(
            client_for(org, graph(sent), provider),
            exchange=exchange,
            store=store,
            client_id="meta-app-1",
            client_secret=SecretStr(APP_SECRET),
            cache=TokenCache(),
            clock=frozen(),
        )

    providers = {key: long_lived(*key) for key in (("acme", "facebook"), ("acme", "instagram"), ("beta", "facebook"))}
    # When the sweep runs
    result = sweep_tokens(SweepRequest(now=NOW), resolve=resolver(providers))
    # Then the two tokens with fewer than 45 days left were exchanged, each per its API
    assert sorted(result.refreshed) == ["acme/facebook", "acme/instagram"] and result.not_due == 1
    by_host = {request.url.host: request for request in sent}
    assert set(by_host) == {"graph.facebook.com", "graph.instagram.com"}
    facebook = by_host["graph.facebook.com"]
    assert facebook.method == "GET" and facebook.url.path.endswith("/oauth/access_token")
    assert {k: v[0] for k, v in parse_qs(facebook.url.query.decode()).items()} == {
        "grant_type": "fb_exchange_token",
        "client_id": "meta-app-1",
        "client_secret": APP_SECRET,
        "fb_exchange_token": "current-acme-facebook",
    }
    instagram = by_host["graph.instagram.com"]
    assert instagram.method == "GET" and instagram.url.path == "/refresh_access_token"
    assert {k: v[0] for k, v in parse_qs(instagram.url.query.decode()).items()} == {
        "grant_type": "ig_refresh_token",
        "access_token": "current-acme-instagram",
    }
    # And the new 60-day tokens are stored and on the records; the one with 50 days left is untouched
    for provider in ("facebook", "instagram"):
        saved = store.load("acme", provider)
        assert saved is not None and saved.access_token.startswith("long-")
        assert saved.expires_at == NOW.timestamp() + 5183944
        record = get_record("acme", provider)
        assert record is not None and record.token_expires_at == NOW + timedelta(seconds=5183944)
    untouched = store.load("beta", "facebook")
    assert untouched is not None and untouched.access_token == "current-beta-facebook"
    # And neither the app secret nor a token was logged
    out = capsys.readouterr().out
    assert APP_SECRET not in out and "current-acme" not in out and "long-1" not in out


def test_an_instagram_token_younger_than_a_day_is_never_sent_for_refresh(hub_aws: HubAws) -> None:
    # Instagram refreshes only tokens at least 24 h old (refresh_access_token reference)
    store, sent = MemoryTokenStore(), []
    stored(store, "acme", "instagram", "young", expires_in=60 * DAY - 3600, age=3600)
    tokens = LongLivedTokens(
        client_for("acme", graph(sent), "instagram"),
        exchange="instagram",
        store=store,
        cache=TokenCache(),
        clock=frozen(),
    )
    assert tokens.refresh_if_due(61 * DAY) is False
    assert sent == []


def test_an_expired_meta_token_needs_reauth_once(hub_aws: HubAws, tap: str) -> None:
    # Given a Facebook token Meta no longer accepts (Graph error 190)
    connected("acme", "facebook", expires_in=10 * DAY, refreshed_ago=50 * DAY)
    store, calls = MemoryTokenStore(), []
    stored(store, "acme", "facebook", "dead-token", expires_in=10 * DAY, age=50 * DAY)

    def expired(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        error = {"message": "Error validating access token: Session has expired", "type": "OAuthException", "code": 190}
        return httpx.Response(400, json={"error": error})

    tokens = LongLivedTokens(
        client_for("acme", expired, "facebook"),
        exchange="facebook",
        store=store,
        client_id="meta-app-1",
        client_secret=SecretStr(APP_SECRET),
        cache=TokenCache(),
        clock=frozen(),
    )
    # When the sweep runs twice
    first = sweep_tokens(SweepRequest(now=NOW), resolve=resolver({("acme", "facebook"): tokens}))
    second = sweep_tokens(SweepRequest(now=NOW), resolve=resolver({("acme", "facebook"): tokens}))
    # Then the org is told once, and the second run leaves the integration alone
    assert first.needs_reauth == ["acme/facebook"] and second.checked == 0
    assert len(calls) == 1
    assert audit_actions(hub_aws, "acme") == ["integration_needs_reauth"]
    assert [e["detail-type"] for e in bus_events(hub_aws, tap)] == ["integration.needs_reauth"]


def test_a_token_that_cannot_be_refreshed_is_announced_once_before_it_expires(hub_aws: HubAws, tap: str) -> None:
    # Given LinkedIn grants without refresh tokens: one expiring in 5 days, one in 10 days
    store, endpoint = MemoryTokenStore(), TokenEndpoint()
    for org, left in (("acme", 5), ("beta", 10)):
        connected(org, expires_in=left * DAY, refreshed_ago=(60 - left) * DAY)
        stored(store, org, "linkedin", f"li-{org}", expires_in=left * DAY, age=(60 - left) * DAY)
    providers = {(org, "linkedin"): oauth_for(org, endpoint, store, refresh_token=None) for org in ("acme", "beta")}
    # When the sweep runs twice (hourly)
    first = sweep_tokens(SweepRequest(now=NOW), resolve=resolver(providers))
    second = sweep_tokens(SweepRequest(now=NOW + timedelta(hours=1)), resolve=resolver(providers))
    # Then the one inside the 7-day notice was announced once; nothing was sent to LinkedIn
    assert first.reauth_due == ["acme/linkedin"] and second.reauth_due == []
    assert audit_actions(hub_aws, "acme") == ["integration_reauth_due"] and audit_actions(hub_aws, "beta") == []
    events = [e for e in bus_events(hub_aws, tap) if e["detail-type"] == "integration.reauth_due"]
    assert len(events) == 1
    assert events[0]["detail"] | {"action": None} == {
        "org_id": "acme",
        "provider": "linkedin",
        "expires_at": (NOW + timedelta(days=5)).isoformat(),
        "days_left": 5,
        "severity": "medium",
        "action": None,
    }
    assert endpoint.forms == []
    # And a newly connected token (a new expiry) gets its own notice in its time
    connected("acme", expires_in=3 * DAY, refreshed_ago=57 * DAY)
    assert sweep_tokens(SweepRequest(now=NOW), resolve=resolver(providers)).reauth_due == ["acme/linkedin"]


def test_an_adapter_that_only_reads_its_stored_token_is_announced_too(hub_aws: HubAws) -> None:
    # Given a provider whose token provider cannot refresh (it only reads the stored token)
    class StoredOnly(TokenProvider):
        kind = "stored"

        def fetch(self, current: Token | None) -> Token:
            raise AssertionError("never asked to refresh")

    connected("acme", expires_in=2 * DAY, refreshed_ago=58 * DAY)
    tokens = StoredOnly(provider="linkedin", org_id="acme", key=("acme",), cache=TokenCache(), clock=frozen())
    # When the sweep runs, Then the org is told, and no refresh is attempted
    result = sweep_tokens(SweepRequest(now=NOW), resolve=resolver({("acme", "linkedin"): tokens}))
    assert result.reauth_due == ["acme/linkedin"] and result.failed == {}


def test_the_sweep_stops_while_one_more_refresh_still_fits_in_the_lambda(hub_aws: HubAws) -> None:
    # Given a due token and an invocation with less time left than one refresh may take
    store, endpoint = MemoryTokenStore(), TokenEndpoint()
    connected("acme", expires_in=3600, refreshed_ago=59 * DAY)
    stored(store, "acme", "linkedin", "old", expires_in=3600, age=59 * DAY, refresh_token="r-acme")
    start_invocation(FakeLambdaContext(timeout_ms=5000))
    # When the sweep runs
    result = sweep_tokens(
        SweepRequest(now=NOW), resolve=resolver({("acme", "linkedin"): oauth_for("acme", endpoint, store)})
    )
    # Then it stops before the refresh and says so (the next run picks it up)
    assert result.truncated and result.refreshed == [] and endpoint.forms == []


def test_the_scheduled_function_sweeps_oauth_records_and_reports_failures(hub_aws: HubAws) -> None:
    # Given an OAuth record whose adapter the registry cannot give a token provider for, among
    # records of other auth kinds
    for i in range(30):
        put_record(IntegrationRecord(org_id=f"org{i:02d}", provider="evolution", status="connected", auth="api_key"))
    now = records.now()  # the schedule acts at the current time
    put_record(
        IntegrationRecord(
            org_id="acme",
            provider="nosuch",
            status="connected",
            auth="oauth2",
            token_expires_at=now + timedelta(hours=1),
            token_refreshed_at=now - timedelta(days=2),
        )
    )
    event = json.loads((ROOT / "events" / "integration_tokens_sweep.json").read_text())
    # When the schedule fires
    result = load_function("integration_tokens_sweep").handler(event, FakeLambdaContext())
    # Then only the OAuth record was looked at; its failure is reported, not raised
    assert result["checked"] == 1
    assert result["failed"] == {"acme/nosuch": "InvalidRequestError: unknown_provider"}
    assert result["truncated"] is False
    assert records.get_record("acme", "nosuch") is not None
