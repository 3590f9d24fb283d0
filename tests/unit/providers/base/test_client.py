"""The adapter base: error taxonomy, retry policy, timeouts and idempotency keys."""

from __future__ import annotations

import dataclasses
import time
from typing import ClassVar

import httpx
import pytest

from hub.errors import AuthenticationError, InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.providers.base.client import ProviderClient, ProviderCredentials, parse_retry_after
from hub.retry import RetryPolicy
from hub.runtime import start_invocation


class FakeClient(ProviderClient):
    provider: ClassVar[str] = "fake"
    default_base_url: ClassVar[str] = "https://api.fake.test/v1"
    idempotency_header: ClassVar[str | None] = "Idempotency-Key"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": "Bearer sk_secret"}

    def health_check(self) -> None:
        self.request("GET", "/me")


class Recorder:
    def __init__(self, *responses: httpx.Response | Exception) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        item = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(item, Exception):
            raise item
        return item


def make_client(handler: Recorder, policy: RetryPolicy | None = None, sleeps: list[float] | None = None) -> FakeClient:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    policy = policy or RetryPolicy()
    if sleeps is not None:
        policy = dataclasses.replace(policy, sleep=sleeps.append)
    return FakeClient(ProviderCredentials(), http=http, retry_policy=policy)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, InvalidRequestError),
        (404, InvalidRequestError),
        (422, InvalidRequestError),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (429, RateLimitedError),
        (500, ProviderUnavailableError),
        (503, ProviderUnavailableError),
        (529, ProviderUnavailableError),
    ],
)
def test_status_codes_map_to_the_taxonomy(status: int, error: type[Exception]) -> None:
    # Given a provider that always answers this status
    handler = Recorder(httpx.Response(status, json={"message": "nope", "code": "E1"}, headers={"retry-after": "0"}))
    client = make_client(handler, RetryPolicy(max_attempts=1), sleeps=[])
    # When / Then
    with pytest.raises(error) as info:
        client.request("GET", "/thing")
    assert info.value.http_status == status
    assert info.value.provider == "fake"
    assert "nope" in info.value.message


def test_invalid_request_is_never_retried() -> None:
    handler = Recorder(httpx.Response(400, json={"message": "bad field"}))
    client = make_client(handler, sleeps=[])
    with pytest.raises(InvalidRequestError):
        client.request("POST", "/things", json={})
    assert len(handler.requests) == 1


def test_5xx_then_success_is_retried_once_quickly_with_the_same_idempotency_key() -> None:
    sleeps: list[float] = []
    handler = Recorder(httpx.Response(503), httpx.Response(201, json={"id": "x"}))
    client = make_client(handler, sleeps=sleeps)
    response = client.request("POST", "/things", json={"a": 1})
    assert response.json() == {"id": "x"}
    assert len(handler.requests) == 2
    keys = {r.headers["Idempotency-Key"] for r in handler.requests}
    assert len(keys) == 1 and keys != {""}
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 0.2  # a quick retry


@pytest.mark.parametrize("status", [500, 502, 503, 529])
def test_a_provider_answering_unavailable_twice_fails_over_after_two_attempts(status: int) -> None:
    # Given a provider that keeps answering it is unavailable, and the default policy
    sleeps: list[float] = []
    handler = Recorder(httpx.Response(status, json={"message": "overloaded"}))
    # When the adapter calls it
    with pytest.raises(ProviderUnavailableError) as info:
        make_client(handler, sleeps=sleeps).request("GET", "/x")
    # Then it sent the request twice (one quick retry) and left the rest to the next provider
    assert len(handler.requests) == 2
    assert len(sleeps) == 1 and sleeps[0] <= 0.2
    assert info.value.http_status == status and info.value.retryable


def test_caller_idempotency_key_is_sent() -> None:
    handler = Recorder(httpx.Response(200, json={}))
    make_client(handler).request("POST", "/things", json={}, idempotency_key="charge-123")
    assert handler.requests[0].headers["Idempotency-Key"] == "charge-123"


@pytest.mark.parametrize(
    ("exc", "code"),
    [(httpx.ConnectError("refused"), "connect_failed"), (httpx.ConnectTimeout("no answer"), "connect_timeout")],
)
def test_a_refused_connection_or_connect_timeout_fails_over_at_once(exc: Exception, code: str) -> None:
    # Given a provider that refuses connections (or never accepts one)
    sleeps: list[float] = []
    handler = Recorder(exc)
    # When the adapter calls it, even for a write
    with pytest.raises(ProviderUnavailableError) as info:
        make_client(handler, sleeps=sleeps).request("POST", "/x", json={})
    # Then it tried once, slept never, and says why (nothing reached the provider)
    assert len(handler.requests) == 1
    assert sleeps == []
    assert info.value.code == code


def test_a_connection_dropped_before_a_read_answered_is_retried_once() -> None:
    # A GET whose connection dropped: the provider had nothing to apply, a retry may get through
    handler = Recorder(httpx.RemoteProtocolError("peer closed"), httpx.Response(200, json={"ok": True}))
    assert make_client(handler, sleeps=[]).request("GET", "/x").json() == {"ok": True}
    assert len(handler.requests) == 2


def test_read_timeouts_are_not_retried_in_the_function() -> None:
    # The provider has the request and is slow: waiting again doubles the delay and could
    # repeat a POST; the breaker and the fallback chain handle it.
    handler = Recorder(httpx.ReadTimeout("slow", request=httpx.Request("POST", "https://api.fake.test/v1/x")))
    with pytest.raises(ProviderUnavailableError) as info:
        make_client(handler, sleeps=[]).request("POST", "/x", json={})
    assert info.value.code == "read_timeout"
    assert len(handler.requests) == 1


def test_retry_after_is_honoured_within_the_sleep_budget() -> None:
    sleeps: list[float] = []
    handler = Recorder(httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(200, json={}))
    make_client(handler, sleeps=sleeps).request("GET", "/x")
    assert sleeps == [1.0]


def test_retry_after_beyond_the_budget_raises_for_sqs_or_step_functions_to_wait() -> None:
    sleeps: list[float] = []
    handler = Recorder(httpx.Response(429, headers={"Retry-After": "30"}))
    with pytest.raises(RateLimitedError) as info:
        make_client(handler, sleeps=sleeps).request("GET", "/x")
    assert info.value.retry_after == 30
    assert sleeps == []  # never slept 30 s inside the function
    assert len(handler.requests) == 1


def test_never_sleeps_past_the_lambda_remaining_time() -> None:
    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 1200  # 1.2 s left, safety margin 1 s

    start_invocation(Context())
    sleeps: list[float] = []
    handler = Recorder(httpx.Response(429, headers={"Retry-After": "0.5"}))
    try:
        with pytest.raises(RateLimitedError):
            make_client(handler, sleeps=sleeps).request("GET", "/x")
    finally:
        start_invocation(object())
    assert sleeps == []


def test_total_sleep_per_call_is_capped() -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(max_attempts=10, initial_backoff=0.5, max_backoff=1.0, max_total_sleep=2.0)
    handler = Recorder(httpx.Response(503))
    with pytest.raises(ProviderUnavailableError):
        make_client(handler, policy, sleeps=sleeps).request("GET", "/x")
    assert sum(sleeps) <= 2.0


def test_read_timeout_shrinks_to_the_remaining_time() -> None:
    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 3000

    seen: list[float | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"]["read"])
        return httpx.Response(200, json={})

    client = FakeClient(ProviderCredentials(), http=httpx.Client(transport=httpx.MockTransport(handler)))
    start_invocation(Context())
    try:
        client.request("GET", "/x")
    finally:
        start_invocation(object())
    assert seen[0] is not None and seen[0] <= 2.0


def test_auth_headers_sent_and_never_in_errors() -> None:
    handler = Recorder(httpx.Response(401, json={"message": "invalid key"}))
    with pytest.raises(AuthenticationError) as info:
        make_client(handler).request("GET", "/x")
    assert handler.requests[0].headers["Authorization"] == "Bearer sk_secret"
    assert "sk_secret" not in str(info.value.to_dict())


def test_parse_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("7") == 7
    assert parse_retry_after(None, default=60) == 60
    future = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 120))
    assert 100 <= parse_retry_after(future) <= 121
    assert parse_retry_after("garbage", default=5) == 5


# ----- request(attempts=, authenticate=), absolute URLs, JSON with Decimal --------------------


def test_attempts_1_sends_once_and_leaves_the_policy_alone() -> None:
    # Given a provider that is down, and the default policy of 3 attempts
    handler = Recorder(httpx.Response(503, json={"message": "down"}))
    client = make_client(handler, sleeps=[])
    policy = client.retry_policy
    # When a write that a retry could apply twice is sent with attempts=1
    with pytest.raises(ProviderUnavailableError):
        client.request("POST", "/transfers", json={"value": 1}, attempts=1)
    # Then it went out once, and later calls still retry
    assert len(handler.requests) == 1
    assert client.retry_policy is policy
    with pytest.raises(ProviderUnavailableError):
        client.request("GET", "/thing")
    assert len(handler.requests) == 3  # 1 + the policy's 2 attempts for an unavailable answer


def test_a_request_inside_a_guarded_call_is_one_attempt_of_it() -> None:
    # Given a guarded call of two attempts, each doing one lookup and one create
    handler = Recorder(httpx.Response(503, json={"message": "down"}))
    client = make_client(handler, RetryPolicy(max_attempts=2), sleeps=[])

    def attempt() -> httpx.Response:
        client.request("GET", "/lookup")
        return client.request("POST", "/create")

    # When the provider is down
    with pytest.raises(ProviderUnavailableError):
        client.guarded(attempt, operation="create")
    # Then each attempt sent the lookup once (the inner request does not retry on its own)
    assert [r.url.path for r in handler.requests] == ["/v1/lookup", "/v1/lookup"]


def test_an_absolute_url_without_authentication_gets_no_credentials() -> None:
    handler = Recorder(httpx.Response(200, content=b"%PDF"))
    client = make_client(handler)
    response = client.request("GET", "https://files.example.test/danfse.pdf", authenticate=False)
    assert response.content == b"%PDF"
    (sent,) = handler.requests
    assert str(sent.url) == "https://files.example.test/danfse.pdf"
    assert "authorization" not in sent.headers


def test_json_body_reads_fractional_numbers_as_decimal() -> None:
    from decimal import Decimal

    response = httpx.Response(200, content=b'{"value": 19.99, "count": 2}')
    assert ProviderClient.json_body(response) == {"value": Decimal("19.99"), "count": 2}
    assert ProviderClient.json_body(httpx.Response(204)) is None
    with pytest.raises(ValueError):
        ProviderClient.json_body(httpx.Response(200, content=b"<html>"))
