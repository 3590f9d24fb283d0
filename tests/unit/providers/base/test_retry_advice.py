"""Anthropic and OpenAI answers say whether to retry them; the adapters obey as the official
SDKs do (``_should_retry`` and ``_parse_retry_after_header`` in
anthropics/anthropic-sdk-python src/anthropic/_base_client.py and openai/openai-python
src/openai/_base_client.py): ``x-should-retry`` decides over the status, ``retry-after-ms``
is the wait, 408 and 409 are retried. Other providers keep the hub's own rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import httpx
import pytest
from pydantic import SecretStr

from hub.errors import InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.providers.anthropic.client import AnthropicClient, AnthropicCredentials
from hub.providers.base.client import ProviderClient, ProviderCredentials, retry_after_seconds
from hub.providers.openai.client import OpenAIClient, OpenAICredentials
from hub.retry import RetryPolicy
from hub.runtime import start_invocation


class OtherClient(ProviderClient):
    """A provider without retry advice (the hub's default rules)."""

    provider: ClassVar[str] = "other"
    default_base_url: ClassVar[str] = "https://api.other.test"

    def auth_headers(self) -> dict[str, str]:
        return {}

    def health_check(self) -> None:
        self.request("GET", "/me")


Factory = Callable[[httpx.Client, RetryPolicy], ProviderClient]
SDK_CLIENTS: dict[str, Factory] = {
    "anthropic": lambda http, policy: AnthropicClient(
        AnthropicCredentials(api_key=SecretStr("sk-ant-test")), http=http, retry_policy=policy
    ),
    "openai": lambda http, policy: OpenAIClient(
        OpenAICredentials(api_key=SecretStr("sk-proj-test")), http=http, retry_policy=policy
    ),
}


class Answers:
    """Answers the given responses in turn (the last one forever) and counts the calls."""

    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]


def call(factory: Factory, answers: Answers, sleeps: list[float]) -> httpx.Response:
    http = httpx.Client(transport=httpx.MockTransport(answers))
    return factory(http, RetryPolicy(max_attempts=3, sleep=sleeps.append)).request("POST", "/v1/messages")


OK = httpx.Response(200, json={"ok": True})


@pytest.fixture(params=sorted(SDK_CLIENTS))
def sdk_client(request: pytest.FixtureRequest) -> Factory:
    return SDK_CLIENTS[request.param]


@pytest.mark.parametrize("status", [408, 409])
def test_request_and_lock_timeouts_are_retried(sdk_client: Factory, status: int) -> None:
    # Given a 408/409 then a success, when the adapter calls
    answers, sleeps = Answers(httpx.Response(status, json={"error": {"message": "try again"}}), OK), []
    # Then it retries once and returns the success
    assert call(sdk_client, answers, sleeps).status_code == 200
    assert answers.calls == 2


@pytest.mark.parametrize("status", [408, 409])
def test_request_and_lock_timeouts_end_retryable(sdk_client: Factory, status: int) -> None:
    answers = Answers(httpx.Response(status, json={"error": {"message": "try again"}}))
    with pytest.raises(ProviderUnavailableError) as info:
        call(sdk_client, answers, [])
    assert info.value.http_status == status and info.value.retryable
    assert answers.calls == 2  # one quick retry of an unavailable answer, then fail over


def test_x_should_retry_false_stops_a_retry_the_status_allows(sdk_client: Factory) -> None:
    answers = Answers(httpx.Response(500, headers={"x-should-retry": "false"}), OK)
    with pytest.raises(ProviderUnavailableError):
        call(sdk_client, answers, [])
    assert answers.calls == 1


def test_x_should_retry_true_forces_a_retry(sdk_client: Factory) -> None:
    answers = Answers(httpx.Response(400, json={"error": {"message": "x"}}, headers={"x-should-retry": "true"}), OK)
    assert call(sdk_client, answers, []).status_code == 200
    assert answers.calls == 2


def test_retry_after_ms_is_the_wait_of_a_rate_limit(sdk_client: Factory) -> None:
    # retry-after-ms is more precise than Retry-After and wins over it (the SDKs read it first)
    limited = httpx.Response(429, headers={"retry-after-ms": "250", "retry-after": "60"})
    answers, sleeps = Answers(limited, OK), []
    assert call(sdk_client, answers, sleeps).status_code == 200
    assert sleeps == [0.25]
    assert answers.calls == 2


def test_retry_after_ms_is_the_wait_of_an_overload(sdk_client: Factory) -> None:
    answers, sleeps = Answers(httpx.Response(529, headers={"retry-after-ms": "300"}), OK), []
    assert call(sdk_client, answers, sleeps).status_code == 200
    assert sleeps == [0.3]


def test_an_overload_asking_for_a_long_wait_fails_over_at_once(sdk_client: Factory) -> None:
    # 1.5 s is no quick retry: the next provider answers sooner (RETRY_UNAVAILABLE_MAX_WAIT 0.5 s)
    answers, sleeps = Answers(httpx.Response(529, headers={"retry-after-ms": "1500"}), OK), []
    with pytest.raises(ProviderUnavailableError):
        call(sdk_client, answers, sleeps)
    assert sleeps == []
    assert answers.calls == 1


def test_a_rate_limit_carries_the_millisecond_wait(sdk_client: Factory) -> None:
    answers = Answers(httpx.Response(429, headers={"retry-after-ms": "30000"}))
    with pytest.raises(RateLimitedError) as info:
        call(sdk_client, answers, [])
    assert info.value.retry_after == 30.0  # for SQS / Step Functions: not slept in the function
    assert answers.calls == 1


def test_retry_after_ms_never_sleeps_past_the_lambda_remaining_time(sdk_client: Factory) -> None:
    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 1500  # 1.5 s left, safety margin 1 s

    start_invocation(Context())
    answers, sleeps = Answers(httpx.Response(503, headers={"retry-after-ms": "800", "x-should-retry": "true"}), OK), []
    try:
        with pytest.raises(ProviderUnavailableError):
            call(sdk_client, answers, sleeps)
    finally:
        start_invocation(object())
    assert sleeps == []
    assert answers.calls == 1


def test_other_providers_keep_the_hubs_rules() -> None:
    def other(http: httpx.Client, policy: RetryPolicy) -> ProviderClient:
        return OtherClient(ProviderCredentials(), http=http, retry_policy=policy)

    # 409 stays a bad request, not retried
    answers = Answers(httpx.Response(409), OK)
    with pytest.raises(InvalidRequestError):
        call(other, answers, [])
    assert answers.calls == 1
    # x-should-retry is not their header: a 500 is still retried
    answers = Answers(httpx.Response(500, headers={"x-should-retry": "false"}), OK)
    assert call(other, answers, []).status_code == 200
    # retry-after-ms is not read: Retry-After (60 s) is the wait, too long for the function
    answers, sleeps = Answers(httpx.Response(429, headers={"retry-after-ms": "100", "retry-after": "60"}), OK), []
    with pytest.raises(RateLimitedError) as info:
        call(other, answers, sleeps)
    assert info.value.retry_after == 60.0 and sleeps == []


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after-ms": "soon", "retry-after": "9"}, 9.0),
        ({"retry-after": "2.5"}, 2.5),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # a date in the past: now
        ({"retry-after": "whenever"}, None),
        ({}, None),
    ],
)
def test_retry_after_seconds_reads_the_sdks_formats(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after_seconds(httpx.Headers(headers)) == seconds
