"""The token layer (hub.providers.base.auth) against a moto resilience table: container cache,
refresh ahead of expiry, one refresher at a time across instances, re-read after the lock,
invalid_grant permanent, rotated refresh tokens stored."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import SecretStr

from hub.config import get_settings
from hub.errors import AuthenticationError, ProviderUnavailableError
from hub.integrations.records import get_record
from hub.providers.base.auth import (
    ClientCredentialsTokens,
    MemoryTokenStore,
    OAuth2Tokens,
    RefreshLock,
    Token,
    TokenCache,
)
from hub.providers.base.client import ProviderClient, ProviderCredentials
from hub.resilience.integrations import disabled_reason
from hub.retry import RetryPolicy
from hub.runtime import start_invocation
from tests.aws.conftest import HubAws
from tests.helpers import FakeLambdaContext

ORG = "acme"
TOKEN_URL = "https://auth.linkedin.test/oauth/v2/accessToken"
CLIENT_SECRET = "client-secret-value"
FIRST_REFRESH = "refresh-token-1"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class OAuthProvider(ProviderClient):
    provider: ClassVar[str] = "linkedin"
    default_base_url: ClassVar[str] = "https://api.linkedin.test"

    def auth_headers(self) -> dict[str, str]:
        return {}

    def health_check(self) -> None:
        return None


class TokenEndpoint:
    """Answers the refresh_token grant with numbered access tokens; records every form."""

    def __init__(self, *, rotate: bool = True, answer: Callable[[dict[str, str]], httpx.Response] | None = None):
        self.forms: list[dict[str, str]] = []
        self.rotate = rotate
        self.answer = answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.forms.append(form)
        if self.answer is not None:
            return self.answer(form)
        n = len(self.forms)
        body: dict[str, Any] = {"access_token": f"access-{n}", "token_type": "Bearer", "expires_in": 3600}
        if self.rotate:
            body["refresh_token"] = f"refresh-token-{n + 1}"
        return httpx.Response(200, json=body)


def oauth(
    endpoint: Callable[[httpx.Request], httpx.Response],
    store: MemoryTokenStore,
    *,
    cache: TokenCache | None = None,
    clock: Clock | None = None,
    sleep: Callable[[float], None] | None = None,
) -> OAuth2Tokens:
    client = OAuthProvider(
        ProviderCredentials(),
        http=httpx.Client(transport=httpx.MockTransport(endpoint)),
        retry_policy=RetryPolicy(max_attempts=3, sleep=lambda _: None),
        org_id=ORG,
    )
    extra: dict[str, Any] = {"cache": cache or TokenCache(), "clock": clock or Clock()}
    if sleep is not None:
        extra["sleep"] = sleep
    return OAuth2Tokens(
        client,
        token_url=TOKEN_URL,
        client_id="client-1",
        client_secret=SecretStr(CLIENT_SECRET),
        refresh_token=SecretStr(FIRST_REFRESH),
        store=store,
        **extra,
    )


def test_a_cached_token_is_reused_by_every_client_of_the_container(hub_aws: HubAws) -> None:
    # Given one container's cache and a token endpoint that counts its calls
    cache, calls = TokenCache(), []

    def fetch() -> Token:
        calls.append(1)
        return Token.issued(f"tok-{len(calls)}", now=1000.0, lifetime=3600)

    def tokens() -> ClientCredentialsTokens:
        return ClientCredentialsTokens(
            fetch, provider="nuvemfiscal", org_id=ORG, key=("client-1",), cache=cache, clock=lambda: 1000.0
        )

    # When two clients (two invocations) ask for a token
    first, second = tokens().token(), tokens().token()
    # Then the endpoint was called once
    assert (first, second) == ("tok-1", "tok-1")
    assert len(calls) == 1


def test_a_token_is_refreshed_ahead_of_its_expiry(hub_aws: HubAws) -> None:
    # Given a token of one hour (OAuth tokens: refreshed OAUTH_REFRESH_MARGIN_SECONDS, 10 min, early)
    clock, endpoint, store = Clock(), TokenEndpoint(), MemoryTokenStore()
    tokens = oauth(endpoint, store, clock=clock)
    assert tokens.token() == "access-1"
    # When 49 min 59 s pass, the same token; at 50 min 1 s (inside the margin), a new one
    clock.now += 2999
    assert tokens.token() == "access-1"
    clock.now += 2
    assert tokens.token() == "access-2"
    assert len(endpoint.forms) == 2


def test_the_oauth_refresh_margin_is_configuration(hub_aws: HubAws, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a deployment that refreshes 15 minutes early (Nango's margin)
    monkeypatch.setenv("OAUTH_REFRESH_MARGIN_SECONDS", "900")
    get_settings.cache_clear()
    clock, endpoint = Clock(), TokenEndpoint()
    tokens = oauth(endpoint, MemoryTokenStore(), clock=clock)
    tokens.token()
    # When 45 min 1 s pass, a new token is fetched
    clock.now += 2699
    assert tokens.token() == "access-1"
    clock.now += 2
    assert tokens.token() == "access-2"


def test_a_token_read_back_from_the_store_gets_the_margin(hub_aws: HubAws) -> None:
    # Given a store holding only the expiry (as a secret does), refreshed 1 s before it
    clock, endpoint, store = Clock(), TokenEndpoint(), MemoryTokenStore()
    store.save(ORG, "linkedin", Token("stored", clock.now + 299, clock.now + 300, "refresh-token-1"))
    # When a function reads it 5 minutes before it expires
    # Then it is refreshed now (inside the 10 min margin), not used until its last second
    assert oauth(endpoint, store, clock=clock).token() == "access-1"


def test_two_instances_refreshing_at_once_make_one_token_call(hub_aws: HubAws) -> None:
    # Given two instances (two container caches) sharing the store and the DynamoDB lock,
    # and a token endpoint that answers the first refresher only once the second is waiting
    store = MemoryTokenStore()
    first_calling, second_waiting, first_done = threading.Event(), threading.Event(), threading.Event()

    def slow(form: dict[str, str]) -> httpx.Response:
        first_calling.set()
        assert second_waiting.wait(10), "the second instance never waited for the lock"
        return httpx.Response(200, json={"access_token": "access-1", "expires_in": 3600})

    endpoint = TokenEndpoint(answer=slow)

    def wait_for_first(_: float) -> None:
        second_waiting.set()
        assert first_done.wait(10)

    first = oauth(endpoint, store)
    second = oauth(endpoint, store, sleep=wait_for_first)
    results: dict[str, str] = {}

    def run_first() -> None:
        try:
            results["first"] = first.token()
        finally:
            first_done.set()

    # When the second asks for a token while the first is refreshing (holding the lock)
    thread = threading.Thread(target=run_first)
    thread.start()
    try:
        assert first_calling.wait(10)
        results["second"] = second.token()
    finally:
        second_waiting.set()
        thread.join(10)
    # Then one token call was made, and both use its token
    assert len(endpoint.forms) == 1
    assert results == {"first": "access-1", "second": "access-1"}


def test_after_taking_the_lock_the_store_is_read_again(hub_aws: HubAws) -> None:
    # Given a store another instance writes to between our cache miss and our lock
    class RacingStore(MemoryTokenStore):
        loads = 0

        def load(self, org_id: str, provider: str) -> Token | None:
            self.loads += 1
            if self.loads == 1:
                return None
            return Token.issued("access-from-other", now=Clock()(), lifetime=3600, refresh_token="refresh-token-9")

    endpoint = TokenEndpoint()
    tokens = oauth(endpoint, RacingStore())
    # When we ask for a token
    # Then the other instance's token is used and no refresh is made
    assert tokens.token() == "access-from-other"
    assert endpoint.forms == []


def test_a_rotated_refresh_token_is_stored_and_used_next(hub_aws: HubAws) -> None:
    clock, endpoint, store = Clock(), TokenEndpoint(), MemoryTokenStore()
    tokens = oauth(endpoint, store, clock=clock)
    tokens.token()
    assert endpoint.forms[0] == {
        "grant_type": "refresh_token",
        "refresh_token": FIRST_REFRESH,
        "client_id": "client-1",
        "client_secret": CLIENT_SECRET,
    }
    saved = store.load(ORG, "linkedin")
    assert saved is not None and saved.refresh_token == "refresh-token-2"
    # The next refresh (another container: empty cache) sends the rotated token
    clock.now += 3600
    oauth(endpoint, store, clock=clock).token()
    assert endpoint.forms[1]["refresh_token"] == "refresh-token-2"


def test_an_answer_without_a_refresh_token_keeps_the_current_one(hub_aws: HubAws) -> None:
    endpoint, store = TokenEndpoint(rotate=False), MemoryTokenStore()
    oauth(endpoint, store).token()
    saved = store.load(ORG, "linkedin")
    assert saved is not None and saved.refresh_token == FIRST_REFRESH


def test_invalid_grant_is_permanent_needs_reauth_and_is_never_retried(
    hub_aws: HubAws, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a refresh token the provider has revoked
    endpoint = TokenEndpoint(
        answer=lambda form: httpx.Response(
            400, json={"error": "invalid_grant", "error_description": f"token {form['refresh_token']} revoked"}
        )
    )
    tokens = oauth(endpoint, MemoryTokenStore())
    # When a token is asked for
    with pytest.raises(AuthenticationError) as info:
        tokens.token()
    # Then: one call (no retry), the integration waits for the org to connect it again (not
    # disabled: only the org can fix a revoked grant), no secret in the error or the logs
    assert info.value.code == "invalid_grant" and info.value.http_status == 400
    assert len(endpoint.forms) == 1
    record = get_record(ORG, "linkedin")
    assert record is not None and record.status == "needs_reauth"
    with pytest.raises(AuthenticationError) as again:
        tokens.token()
    assert again.value.code == "integration_needs_reauth"
    assert len(endpoint.forms) == 1
    written = str(info.value.to_dict()) + capsys.readouterr().out
    assert FIRST_REFRESH not in written and CLIENT_SECRET not in written


def test_a_5xx_from_the_token_endpoint_is_not_a_dead_token(hub_aws: HubAws) -> None:
    answers = iter([httpx.Response(503), httpx.Response(200, json={"access_token": "access-1", "expires_in": 60})])
    endpoint = TokenEndpoint(answer=lambda form: next(answers))
    assert oauth(endpoint, MemoryTokenStore()).token() == "access-1"
    assert disabled_reason(ORG, "linkedin") is None


def test_waiting_for_the_lock_stops_before_the_lambda_runs_out(hub_aws: HubAws) -> None:
    # Given another instance holding the lock, and an invocation with less time left than the
    # safety margin
    assert RefreshLock(hub_aws.env["RESILIENCE_TABLE"]).try_acquire(f"{ORG}#linkedin") is not None
    start_invocation(FakeLambdaContext(timeout_ms=500))
    sleeps: list[float] = []
    endpoint = TokenEndpoint()
    # When a token is asked for
    with pytest.raises(ProviderUnavailableError) as info:
        oauth(endpoint, MemoryTokenStore(), sleep=sleeps.append).token()
    # Then it gives up at once, without waiting or calling the endpoint
    assert info.value.code == "token_refresh_busy"
    assert sleeps == [] and endpoint.forms == []


def test_a_lock_whose_lease_ran_out_is_taken_over(hub_aws: HubAws) -> None:
    table = hub_aws.env["RESILIENCE_TABLE"]
    clock = Clock()
    assert RefreshLock(table, clock=clock).try_acquire("acme#linkedin") is not None
    assert RefreshLock(table, clock=clock).try_acquire("acme#linkedin") is None
    clock.now += 60
    owner = RefreshLock(table, clock=clock).try_acquire("acme#linkedin")
    assert owner is not None
    RefreshLock(table, clock=clock).release("acme#linkedin", owner)
    assert RefreshLock(table, clock=clock).try_acquire("acme#linkedin") is not None


def test_a_token_the_api_refused_is_refreshed_not_read_back_from_the_store(hub_aws: HubAws) -> None:
    # Given a token in the cache and the store that the provider's API then refuses (401)
    endpoint, store = TokenEndpoint(), MemoryTokenStore()
    tokens = oauth(endpoint, store)
    assert tokens.token() == "access-1"
    # When the adapter invalidates it
    tokens.invalidate()
    # Then the next call refreshes (with the rotated refresh token) instead of reusing it
    assert tokens.token() == "access-2"
    assert endpoint.forms[1]["refresh_token"] == "refresh-token-2"
