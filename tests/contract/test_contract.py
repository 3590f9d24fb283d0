"""The contract every provider adapter keeps, run over the registry (``hub.providers``).

A provider registered with an outbound client gets these cases for free: rejected credentials
disable the integration, rate limits tell the caller how long to wait, outages and timeouts
count against the breaker, a write whose answer is lost is never sent twice, secrets never
reach error text or logs, and the health check passes against the provider's sandbox. A case
a provider cannot take is listed in ``cases.DEVIATIONS`` with its reason.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from hub.errors import (
    AuthenticationError,
    HubError,
    OutcomeUnknownError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.providers import descriptor
from hub.providers.base.client import ProviderClient
from hub.resilience.integrations import disabled_reason
from hub.retry import RetryPolicy
from tests.conftest import ServedSandboxes
from tests.contract.cases import DEVIATIONS, OWN_RETRY_HEADERS, demo_secret, deviates, with_client
from tests.contract.conftest import ContractAws
from tests.contract.writes import EMAIL, WRITES
from tests.helpers import client_with, recording

ORG = "acme"
KEYS = [d.key for d in with_client()]
Handler = Callable[[httpx.Request], httpx.Response]


def applies(key: str, case: str) -> None:
    if reason := deviates(key, case):
        pytest.skip(f"{key} deviates from the {case} contract: {reason}")


def secret_values(key: str) -> list[str]:
    """The demo secret's values held in SecretStr fields of the adapter's credentials."""
    cls = descriptor(key).client_class()  # type: ignore[union-attr]
    _, secret = demo_secret(key, "http://sandbox.test")
    fields = cls.credentials_model.model_fields
    return [
        str(value)
        for name, value in secret.items()
        if name in fields and "SecretStr" in str(fields[name].annotation) and value
    ]


def adapter(key: str, handler: Handler, *, attempts: int = 1) -> ProviderClient:
    """The org's adapter built from the provider's demo secret, its HTTP going to ``handler``.
    A fresh host per call keeps any token cached by another test out of this one."""
    cls = descriptor(key).client_class()  # type: ignore[union-attr]
    _, secret = demo_secret(key, f"http://{key.replace('_', '-')}-{uuid.uuid4().hex[:8]}.contract.test")
    return client_with(cls, cls.parse_credentials(secret), handler, attempts=attempts, org_id=ORG)


def answering(status: int, headers: dict[str, str] | None = None) -> tuple[list[httpx.Request], Handler]:
    return recording(httpx.Response(status, json={"message": f"contract says {status}"}, headers=headers))


def raising(exc: type[httpx.TransportError]) -> tuple[list[httpx.Request], Handler]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise exc("contract transport failure", request=request)

    return seen, handler


@pytest.fixture
def leaks(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> Iterator[Callable[..., None]]:
    """``leaks(key, error)`` asserts no secret value of ``key``'s demo secret is in the error's
    text, repr or dict, nor in anything logged so far."""
    caplog.set_level(logging.DEBUG)

    def check(key: str, error: BaseException) -> None:
        out, err = capfd.readouterr()
        records = " ".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
        seen = [str(error), repr(error), out, err, caplog.text, records]
        if isinstance(error, HubError):
            seen.append(json.dumps(error.to_dict(), default=str))
        for value in secret_values(key):
            assert not any(value in text for text in seen), f"a {key} secret value leaked"

    yield check


@pytest.mark.parametrize("status", [401, 403])
@pytest.mark.parametrize("key", KEYS)
def test_rejected_credentials_are_an_authentication_error_and_disable_the_integration(
    key: str, status: int, contract_aws: ContractAws, leaks: Callable[..., None]
) -> None:
    applies(key, "auth")
    seen, handler = answering(status)
    client = adapter(key, handler, attempts=3)

    with pytest.raises(AuthenticationError) as info:
        client.health_check()

    assert info.value.http_status == status
    assert len(seen) == 1  # never retried
    assert disabled_reason(ORG, key)
    # The next call fails fast: the provider is not called until an operator re-enables it.
    with pytest.raises(AuthenticationError) as again:
        client.health_check()
    assert again.value.code == "integration_disabled"
    assert len(seen) == 1
    leaks(key, info.value)


@pytest.mark.parametrize("key", KEYS)
def test_a_rate_limited_answer_tells_the_caller_how_long_to_wait(key: str, leaks: Callable[..., None]) -> None:
    applies(key, "rate_limit")
    _, handler = answering(429, {"Retry-After": "7"})

    with pytest.raises(RateLimitedError) as info:
        adapter(key, handler).health_check()

    assert info.value.retry_after == 7
    assert info.value.retryable
    leaks(key, info.value)


@pytest.mark.parametrize("key", sorted(OWN_RETRY_HEADERS))
def test_a_rate_limited_answer_reads_the_providers_own_wait_header(key: str) -> None:
    applies(key, "rate_limit")
    headers, wait = OWN_RETRY_HEADERS[key]
    _, handler = answering(429, headers)

    with pytest.raises(RateLimitedError) as info:
        adapter(key, handler).health_check()

    assert info.value.retry_after == pytest.approx(wait)


@pytest.mark.parametrize("status", [500, 503])
@pytest.mark.parametrize("key", KEYS)
def test_an_unavailable_provider_is_counted_by_the_breaker(
    key: str, status: int, contract_aws: ContractAws, leaks: Callable[..., None]
) -> None:
    applies(key, "unavailable")
    _, handler = answering(status)
    client = adapter(key, handler, attempts=3)

    with pytest.raises(ProviderUnavailableError) as info:
        client.health_check()

    assert info.value.retryable
    breaker = client.circuit_breaker()
    assert breaker is not None
    assert breaker.status().failures == 1  # one logical call, however many attempts
    assert not disabled_reason(ORG, key)
    leaks(key, info.value)


@pytest.mark.parametrize("failure", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.ConnectError])
@pytest.mark.parametrize("key", KEYS)
def test_a_timeout_is_unavailable_and_counted_by_the_breaker(
    key: str, failure: type[httpx.TransportError], contract_aws: ContractAws, leaks: Callable[..., None]
) -> None:
    applies(key, "timeout")
    _, handler = raising(failure)
    client = adapter(key, handler, attempts=3)

    with pytest.raises(ProviderUnavailableError) as info:
        client.health_check()

    breaker = client.circuit_breaker()
    assert breaker is not None
    assert breaker.status().failures == 1
    leaks(key, info.value)


@pytest.mark.parametrize("key", [k for k in KEYS if not deviates(k, "secrets")])
def test_a_provider_echoing_the_credential_does_not_put_it_in_the_error(key: str) -> None:
    secret = secret_values(key)[0]

    def echoing(request: httpx.Request) -> httpx.Response:
        body = {"message": f"invalid key {secret}", "error": {"message": f"invalid key {secret}"}}
        return httpx.Response(400, json=body)

    with pytest.raises(HubError) as info:
        adapter(key, echoing).health_check()

    assert secret not in str(info.value) and secret not in repr(info.value.to_dict())
    assert "[redacted]" in str(info.value)


def with_effects() -> list[str]:
    return [key for key in KEYS if descriptor(key).client_class().writes_have_effects]  # type: ignore[union-attr]


def test_every_adapter_whose_writes_have_effects_has_a_representative_write() -> None:
    missing = [key for key in with_effects() if key not in WRITES and not deviates(key, "write_outcome")]
    assert not missing, f"add a representative write to tests/contract/writes.py for: {missing}"
    assert set(WRITES) <= set(KEYS), "tests/contract/writes.py names a provider that is not registered"


def _lose_the_answer(failure: type[httpx.TransportError] | int) -> tuple[list[httpx.Request], Handler]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if isinstance(failure, int):
            return httpx.Response(failure, text="<html>upstream timed out</html>")
        raise failure("the answer was lost", request=request)

    return seen, handler


@pytest.mark.parametrize("failure", [httpx.ReadTimeout, httpx.RemoteProtocolError, 504])
@pytest.mark.parametrize("key", with_effects())
def test_a_write_whose_answer_is_lost_is_an_unknown_outcome_and_not_sent_twice(
    key: str, failure: type[httpx.TransportError] | int, contract_aws: ContractAws, leaks: Callable[..., None]
) -> None:
    applies(key, "write_outcome")
    seen, handler = _lose_the_answer(failure)
    client = adapter(key, handler, attempts=3)

    with pytest.raises(OutcomeUnknownError) as info:
        WRITES[key](client)

    assert not info.value.retryable
    assert len(seen) == 1, f"{key} sent the write {len(seen)} times"
    leaks(key, info.value)


@pytest.mark.parametrize("key", KEYS)
def test_the_health_check_passes_against_the_providers_sandbox(
    key: str, sandboxes: ServedSandboxes, contract_aws: ContractAws
) -> None:
    applies(key, "sandbox_health")
    if key == "ses":
        pytest.skip("SES has no sandbox: test_the_ses_health_check_passes_against_moto")
    org_id, secret = demo_secret(key, sandboxes.url)
    contract_aws.put_secret(org_id, key, secret)
    cls = descriptor(key).client_class()  # type: ignore[union-attr]

    cls.for_org(org_id).health_check()

    assert sandboxes.app.requests_for(key), f"{key}'s health check never reached its sandbox"


def test_the_ses_health_check_passes_against_moto(contract_aws: ContractAws) -> None:
    org_id, secret = demo_secret("ses", "http://unused")
    contract_aws.put_secret(org_id, "ses", secret)
    cls = descriptor("ses").client_class()  # type: ignore[union-attr]

    cls.for_org(org_id).health_check()


def test_deviations_name_registered_providers_and_give_reasons() -> None:
    for key, deviation in DEVIATIONS.items():
        assert key in KEYS
        assert len(deviation.reason) > 40


def test_the_secret_fields_are_known_for_every_provider_with_credentials() -> None:
    """The leak checks above compare against real values: every adapter whose demo secret
    holds a credential has at least one SecretStr field to look for."""
    for key in KEYS:
        if descriptor(key).auth in ("aws_iam", "webhook_only"):  # type: ignore[union-attr]
            continue
        assert secret_values(key), f"{key}: no SecretStr value in its demo secret"
        assert all(isinstance(v, str) and len(v) >= 6 for v in secret_values(key))


# ----- SES: the same contract through boto3 ------------------------------------------------------
# SES is called through botocore, not httpx (cases.DEVIATIONS["ses"]): its answers are botocore's
# ClientError and its transport failures botocore's exceptions, raised here by a fake sesv2 client.


class FailingSes:
    """A sesv2 client whose every call raises ``failure`` (and is counted)."""

    def __init__(self, failure: Exception) -> None:
        self.failure = failure
        self.calls: list[str] = []

    def get_account(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append("get_account")
        raise self.failure

    def send_email(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append("send_email")
        raise self.failure


def ses_answer(code: str, status: int, operation: str = "GetAccount") -> ClientError:
    meta = {"HTTPStatusCode": status, "RequestId": "c0ffee00-0000-4000-8000-000000000000"}
    return ClientError(
        {"Error": {"Code": code, "Message": f"contract says {code}"}, "ResponseMetadata": meta}, operation
    )


def ses_adapter(fake: FailingSes) -> ProviderClient:
    cls = descriptor("ses").client_class()  # type: ignore[union-attr]
    _, secret = demo_secret("ses", "http://unused")
    policy = RetryPolicy(max_attempts=3, sleep=lambda _: None)
    client: ProviderClient = cls(cls.parse_credentials(secret), ses=fake, retry_policy=policy, org_id=ORG)  # type: ignore[call-arg]
    return client


ENDPOINT = "https://email.us-east-1.amazonaws.com"


@pytest.mark.parametrize(("code", "status"), [("AccessDeniedException", 403), ("UnrecognizedClientException", 403)])
def test_ses_rejected_credentials_are_an_authentication_error_and_disable_the_integration(
    code: str, status: int, contract_aws: ContractAws
) -> None:
    fake = FailingSes(ses_answer(code, status))
    client = ses_adapter(fake)

    with pytest.raises(AuthenticationError):
        client.health_check()

    assert fake.calls == ["get_account"]
    assert disabled_reason(ORG, "ses")
    with pytest.raises(AuthenticationError) as again:
        client.health_check()
    assert again.value.code == "integration_disabled"
    assert fake.calls == ["get_account"]


def test_ses_throttling_tells_the_caller_how_long_to_wait() -> None:
    # SES sends no Retry-After: the adapter's documented fixed waits stand in for the header.
    with pytest.raises(RateLimitedError) as info:
        ses_adapter(FailingSes(ses_answer("TooManyRequestsException", 429))).health_check()

    assert info.value.retry_after > 0 and info.value.retryable


@pytest.mark.parametrize(
    "failure",
    [
        ses_answer("InternalFailure", 500),
        ses_answer("ServiceUnavailable", 503),
        EndpointConnectionError(endpoint_url=ENDPOINT),
        ConnectTimeoutError(endpoint_url=ENDPOINT),
        ReadTimeoutError(endpoint_url=ENDPOINT),
    ],
    ids=["500", "503", "connect-error", "connect-timeout", "read-timeout"],
)
def test_ses_unavailable_or_timing_out_is_counted_by_the_breaker(failure: Exception, contract_aws: ContractAws) -> None:
    client = ses_adapter(FailingSes(failure))

    with pytest.raises(ProviderUnavailableError):
        client.health_check()  # a read: a timeout here is never an "unknown outcome"

    breaker = client.circuit_breaker()
    assert breaker is not None
    assert breaker.status().failures == 1
    assert not disabled_reason(ORG, "ses")


@pytest.mark.parametrize(
    "failure",
    [ReadTimeoutError(endpoint_url=ENDPOINT), ConnectionClosedError(endpoint_url=ENDPOINT)],
    ids=["read-timeout", "connection-closed"],
)
def test_an_ses_send_whose_answer_is_lost_is_an_unknown_outcome_and_not_sent_twice(
    failure: Exception, contract_aws: ContractAws
) -> None:
    fake = FailingSes(failure)

    with pytest.raises(OutcomeUnknownError):
        ses_adapter(fake).send_email(EMAIL, idempotency_key="contract-ses-1")  # type: ignore[attr-defined]

    assert fake.calls == ["send_email"]
