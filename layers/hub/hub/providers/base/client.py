"""The base every provider adapter is built from.

One shape for all providers: an httpx client shared across warm invocations, explicit
timeouts, the error taxonomy applied to every response in one place
(:meth:`ProviderClient.classify`), the one retry policy, request ids logged, and an
idempotency key on POSTs for providers that accept one. A reader who knows one adapter
knows them all: an adapter declares its name, auth headers and quirks, nothing else.
"""

from __future__ import annotations

import dataclasses
import email.utils
import json
import math
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Self, TypeVar

from aws_lambda_powertools.shared.lazy_import import LazyLoader
from pydantic import BaseModel, BeforeValidator, SecretStr

from hub import eventlog, outcomes
from hub import metrics as provider_metrics
from hub.config import get_settings
from hub.credentials import get_provider_secret, parse_secret
from hub.errors import (
    AuthenticationError,
    HubError,
    InvalidRequestError,
    OutcomeUnknownError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.integrations.lifecycle import mark_needs_reauth
from hub.integrations.records import blocked
from hub.jsonmoney import dumps_json
from hub.observability import logger, trace_httpx
from hub.providers.base.auth import TOKEN_REFRESH_OPERATION
from hub.providers.base.sse import ServerSentEvent, is_event_stream, parse_sse
from hub.resilience.breaker import BreakerPolicy, CircuitBreaker
from hub.resilience.integrations import disable_integration
from hub.resilience.ratelimit import LimitRule, QuotaStatus, RateLimiter, rules_for
from hub.retry import RetryPolicy
from hub.runtime import remaining_seconds
from hub.usage.meter import Billing, count_call

if TYPE_CHECKING:
    import httpx
else:  # imported on first use, not at init (cold start): a webhook receiver never calls out
    httpx = LazyLoader("httpx", globals(), "httpx")

_SHARED_HTTP: httpx.Client | None = None
# The adapter whose guarded call is running in this thread: its requests are attempts of that
# call (one send each), not calls of their own.
_GUARDING: ContextVar[ProviderClient | None] = ContextVar("hub_guarding_client", default=None)

# Methods that change something at the provider (for adapters whose writes have effects).
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Proxy answers that say nothing about whether the provider behind applied the request.
GATEWAY_STATUSES = frozenset({502, 504})

# Request headers that carry a credential (their values are scrubbed from errors).
_CREDENTIAL_HEADERS = frozenset(
    {"authorization", "x-api-key", "api-key", "apikey", "access_token", "x-goog-api-key", "x-api-token"}
)
# Shorter values are not secrets worth scrubbing (and would mangle ordinary words).
_MIN_SECRET_LENGTH = 6

# The error code of a streamed call whose answer did not start within its time-to-first-byte:
# the provider took the request and is hung (or badly overloaded). The fallback chains move to
# the next provider on it (docs/resilience.md); it is never retried against the same provider.
FIRST_BYTE_TIMEOUT = "first_byte_timeout"

# Response headers providers use for their request id (first match wins).
_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-amzn-requestid", "x-fb-trace-id", "cf-ray")


def shared_http_client() -> httpx.Client:
    """One pooled client per Lambda container, reused across warm invocations."""
    global _SHARED_HTTP
    if _SHARED_HTTP is None:
        settings = get_settings()
        trace_httpx()  # X-Ray patches httpx.Client, so before the client is built
        _SHARED_HTTP = httpx.Client(
            timeout=httpx.Timeout(
                connect=settings.http_connect_timeout,
                read=settings.http_read_timeout,
                write=settings.http_read_timeout,
                pool=settings.http_connect_timeout,
            ),
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=10),
            follow_redirects=False,
        )
    return _SHARED_HTTP


def parse_retry_after(value: str | None, default: float = 60.0) -> float:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return default
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms`` (milliseconds, non-standard, more precise) or
    else ``Retry-After`` (seconds, or an HTTP-date); None when neither parses. The order and
    formats are the Anthropic and OpenAI SDKs' (``_parse_retry_after_header`` in
    src/anthropic/_base_client.py and src/openai/_base_client.py)."""
    try:
        millis = float(headers["retry-after-ms"])
    except (KeyError, TypeError, ValueError):
        pass
    else:
        if math.isfinite(millis):
            return max(0.0, millis / 1000)
    value = headers.get("retry-after")
    if not value:
        return None
    seconds = parse_retry_after(value, default=-1.0)
    return seconds if 0 <= seconds and math.isfinite(seconds) else None


def redact(error: HubError, secrets: list[str]) -> HubError:
    """``error`` with every value of ``secrets`` (longest first) replaced by ``[redacted]`` in its
    message and details."""

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            for secret in secrets:
                value = value.replace(secret, "[redacted]")
            return value
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    if secrets:
        error.message = clean(error.message)
        error.args = (error.message, *error.args[1:])
        error.details = clean(error.details)
    return error


CredentialsT = TypeVar("CredentialsT", bound=BaseModel)
T = TypeVar("T")


def parse_credentials(model: type[CredentialsT], raw: Mapping[str, Any], *, provider: str) -> CredentialsT:
    """Validate an org secret against its model; name the bad fields, never echo their values."""
    return parse_secret(model, raw, what=f"{provider} credentials", provider=provider)


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


# An optional field an org may leave blank in its secret ("" in the JSON): unset, as if absent
# (a previous webhook secret between rotations, an optional token).
BlankIsNone = BeforeValidator(_blank_is_none)
OptionalSecret = Annotated[SecretStr | None, BlankIsNone]


class ProviderCredentials(BaseModel):
    """Fields every provider secret may carry. Subclasses add the provider's own."""

    model_config = {"extra": "ignore", "frozen": True}

    base_url: str | None = None
    # After a rotation (IntegrationRotate) the previous webhook secret/token stays valid until
    # this moment, then verifiers refuse it; absent = no deadline (a hand-kept previous value).
    previous_valid_until: datetime | None = None


class ProviderClient(ABC):
    """Base class of every provider adapter."""

    provider: ClassVar[str]
    default_base_url: ClassVar[str]
    credentials_model: ClassVar[type[ProviderCredentials]] = ProviderCredentials
    # Header carrying the idempotency key on POST, for providers that support one.
    idempotency_header: ClassVar[str | None] = None
    # Payment and fiscal adapters refuse floats in bodies: their numbers are money.
    json_floats: ClassVar[bool] = True
    # Messaging and payment adapters: their writes send a message or move money, so a write
    # whose answer was lost is an OutcomeUnknownError, never retried or failed over blindly.
    writes_have_effects: ClassVar[bool] = False
    # Providers whose answers say whether to retry them, as their official SDKs obey
    # (Anthropic, OpenAI: ``_should_retry`` in their ``_base_client.py``): ``x-should-retry:
    # true|false`` decides over the status, ``retry-after-ms`` (then ``Retry-After``) is the wait
    # on any retried answer, and 408 (request timeout) and 409 (lock timeout) are retryable.
    retry_advice: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The default base URL is the descriptor's (one place per provider), unless the class sets one.
        if "default_base_url" not in cls.__dict__ and "provider" in cls.__dict__:
            from hub.providers import declared_in

            package = cls.__module__.rpartition(".")[0]
            if package.startswith("hub.providers."):
                for declared in declared_in(package.rpartition(".")[2]):
                    if declared.key == cls.provider:
                        cls.default_base_url = declared.default_base_url

    def __init__(
        self,
        credentials: ProviderCredentials,
        *,
        http: httpx.Client | None = None,
        retry_policy: RetryPolicy | None = None,
        org_id: str | None = None,
        credentials_check: bool = False,
    ) -> None:
        self.credentials = credentials
        self.org_id = org_id
        # Checking credentials not stored yet (IntegrationConnect / IntegrationRotate): the org's
        # integration status is neither consulted (a disabled one may be reconnected) nor changed
        # (a 401 means "these new credentials are wrong", not "disable what works today").
        self.credentials_check = credentials_check
        self.base_url = (credentials.base_url or self.default_base_url).rstrip("/")
        self._http = http
        if retry_policy is None:
            settings = get_settings()
            retry_policy = RetryPolicy(
                max_attempts=settings.retry_max_attempts,
                max_total_sleep=settings.retry_max_total_sleep,
                safety_margin=settings.retry_safety_margin,
                unavailable_attempts=settings.retry_unavailable_max_attempts,
                unavailable_max_wait=settings.retry_unavailable_max_wait,
            )
        self.retry_policy = retry_policy

    # ----- construction -------------------------------------------------------------
    @classmethod
    def parse_credentials(cls, raw: Mapping[str, Any]) -> ProviderCredentials:
        return parse_credentials(cls.credentials_model, raw, provider=cls.provider)

    @classmethod
    def for_org(cls, org_id: str, **kwargs: Any) -> Self:
        """The adapter for one client organisation, with its credentials."""
        raw = get_provider_secret(org_id, cls.provider)
        return cls(cls.parse_credentials(raw), org_id=org_id, **kwargs)

    # ----- what adapters declare ----------------------------------------------------
    @abstractmethod
    def auth_headers(self) -> dict[str, str]:
        """Headers that authenticate a request (never logged)."""

    @abstractmethod
    def health_check(self) -> None:
        """The cheapest authenticated call; raises a HubError when unhealthy."""

    def error_details(self, response: httpx.Response) -> tuple[str, str | None]:
        """(message, code) from the provider's error body. Override for its format."""
        try:
            body = response.json()
        except ValueError:
            return (response.text[:300] or response.reason_phrase, None)
        if isinstance(body, dict):
            for key in ("message", "error_description", "error", "detail"):
                value = body.get(key)
                if isinstance(value, str) and value:
                    return (value[:300], str(body.get("code")) if body.get("code") else None)
        return (str(body)[:300], None)

    def classify(self, response: httpx.Response) -> HubError | None:
        """Map a response to the error taxonomy (None = success). One place for all."""
        status = response.status_code
        if status < 400:
            return None
        message, code = self.error_details(response)
        common: dict[str, Any] = {
            "provider": self.provider,
            "http_status": status,
            "code": code,
            "request_id": self.request_id_of(response),
        }
        text = f"{self.provider} answered {status}: {message}"
        if status in (401, 403):
            return AuthenticationError(text, **common)
        if status == 429:
            return RateLimitedError(text, retry_after=self.retry_after_of(response), **common)
        if status >= 500 or (self.retry_advice and status in (408, 409)):
            return ProviderUnavailableError(text, **common)
        return InvalidRequestError(text, **common)

    def retry_after_of(self, response: httpx.Response, default: float = 60.0) -> float:
        """Seconds to wait before retrying a rate-limited answer: ``Retry-After``, and for
        providers with ``retry_advice`` first ``retry-after-ms``."""
        if self.retry_advice:
            seconds = retry_after_seconds(response.headers)
            return default if seconds is None else seconds
        return parse_retry_after(response.headers.get("retry-after"), default)

    def advise_retry(self, error: HubError, response: httpx.Response) -> HubError:
        """Attach the provider's own retry advice to the error its answer became (only for
        providers with ``retry_advice``); hub.retry obeys it, still within the policy's budget
        and the Lambda's remaining time."""
        if not self.retry_advice:
            return error
        # The SDKs compare the header with exactly "true" / "false" (non-standard header).
        should_retry = response.headers.get("x-should-retry")
        if should_retry == "true":
            error.retry_now = True
        elif should_retry == "false":
            error.retry_now = False
        if not isinstance(error, RateLimitedError):  # its retry_after already holds the wait
            error.retry_wait = retry_after_seconds(response.headers)
        return error

    # ----- shared resilience state ---------------------------------------------------
    def breaker_scope(self) -> str:
        """What one breaker covers: the provider, or (override) one account/instance of it."""
        return self.provider

    def account_scope(self) -> str:
        """The provider account a per-account limit counts against (default: the org's own)."""
        return self.org_id or "default"

    def circuit_breaker(self) -> CircuitBreaker | None:
        settings = get_settings()
        if not settings.resilience_table:
            return None
        policy = BreakerPolicy(
            failure_threshold=settings.breaker_failure_threshold,
            window_seconds=settings.breaker_window_seconds,
            recovery_seconds=settings.breaker_recovery_seconds,
        )
        return CircuitBreaker(
            settings.resilience_table, self.breaker_scope(), policy, cache_seconds=settings.breaker_cache_seconds
        )

    def _limits(self) -> tuple[RateLimiter, list[tuple[LimitRule, str]]] | None:
        settings = get_settings()
        if not settings.resilience_table:
            return None
        overrides = json.loads(settings.rate_limit_overrides) if settings.rate_limit_overrides else None
        scopes = {"provider": "all", "org": self.org_id or "default", "account": self.account_scope()}
        rules = [(rule, scopes[rule.scope]) for rule in self.limit_rules(overrides)]
        return RateLimiter(settings.resilience_table), rules

    def limit_rules(self, overrides: Mapping[str, Any] | None) -> tuple[LimitRule, ...]:
        """This client's limits: the descriptor's, or the deployment's override. An adapter whose
        quota is the org's own plan (SerpApi's monthly searches) adjusts them from its credentials."""
        return rules_for(self.provider, overrides)

    def quota_status(self) -> list[QuotaStatus]:
        """What is left of every limit of this provider for this org (exposed by health)."""
        limits = self._limits()
        if limits is None:
            return []
        limiter, rules = limits
        return [limiter.status(self.provider, rule, scope_value) for rule, scope_value in rules]

    def billed(self, operation: str | None, result: Any) -> Billing | None:
        """What a successful call bills, read from its result (the ``httpx.Response`` for
        :meth:`request`, or what a :meth:`guarded` callable returned): Twilio's segments,
        Asaas's fee. None (the default): what the caller declared with ``billing=`` counts."""
        return None

    def take_rate_limits(self, operation: str | None, cost: int = 1) -> None:
        """Take ``cost`` units of every limit that applies, or raise RateLimitedError."""
        limits = self._limits()
        if limits is None:
            return
        limiter, rules = limits
        for rule, scope_value in rules:
            if rule.applies(operation):
                limiter.acquire(self.provider, rule, scope_value, cost)

    @staticmethod
    def request_id_of(response: httpx.Response) -> str | None:
        for header in _REQUEST_ID_HEADERS:
            if header in response.headers:
                return response.headers[header]
        return None

    # ----- the one request path -----------------------------------------------------
    @property
    def http(self) -> httpx.Client:
        return self._http or shared_http_client()

    @staticmethod
    def json_body(response: httpx.Response, *, or_none: bool = False) -> Any:
        """The response's JSON with fractional numbers as Decimal (never float: they are money
        or rates); None for an empty body. A body that is not JSON raises ValueError, or with
        ``or_none`` gives None."""
        if not response.content:
            return None
        try:
            return json.loads(response.content, parse_float=Decimal)
        except ValueError:
            if or_none:
                return None
            raise

    def json_payload(self, response: httpx.Response) -> Any:
        """The response's JSON (see :meth:`json_body`); a body that is not JSON is the provider
        misbehaving: :class:`ProviderUnavailableError`."""
        try:
            return self.json_body(response)
        except ValueError:
            raise ProviderUnavailableError(
                f"{self.provider} answered {response.status_code} with a body that is not JSON",
                provider=self.provider,
                http_status=response.status_code,
            ) from None

    def json_object(self, response: httpx.Response) -> dict[str, Any]:
        """The response's JSON object; anything else (not JSON, no body, a list) is the provider
        misbehaving: :class:`ProviderUnavailableError`."""
        body = self.json_payload(response)
        if not isinstance(body, dict):
            raise ProviderUnavailableError(
                f"{self.provider} answered {response.status_code} without a JSON object",
                provider=self.provider,
                request_id=self.request_id_of(response),
            )
        return body

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        timeout: float | None = None,
        operation: str | None = None,
        cost: int = 1,
        effect: bool | None = None,
        attempts: int | None = None,
        authenticate: bool = True,
        billing: Billing | None = None,
    ) -> httpx.Response:
        """Send one logical request and return the successful response (see :meth:`guarded`).
        ``effect`` (default: a write of an adapter whose writes have effects) turns a lost answer
        into OutcomeUnknownError; pass ``effect=False`` for a POST that only reads.
        ``attempts`` caps the retry policy for this call (``attempts=1``: sent once, for a write
        that a retry could apply twice). ``authenticate=False`` sends no auth headers (a token
        endpoint, a public file). ``path`` may be an absolute URL (a token endpoint on another
        host, a file the provider points at). Inside a :meth:`guarded` call of this adapter the
        request is one attempt of that call: sent once, under the call's breaker, limits and
        retries. ``billing``: what the call bills when it succeeds (usage and cost, hub.usage)."""
        if effect is None:
            effect = self.writes_have_effects and method.upper() in WRITE_METHODS
        all_headers = {
            "Accept": "application/json",
            **(self.auth_headers() if authenticate else {}),
            **(headers or {}),
        }
        if method.upper() == "POST" and self.idempotency_header:
            # The same key on every retry of this call, so a retried POST is applied once.
            all_headers[self.idempotency_header] = idempotency_key or str(uuid.uuid4())
        absolute = path.startswith(("https://", "http://"))
        url = path if absolute else f"{self.base_url}{path}"
        logged_path = httpx.URL(path).path if absolute else path

        def attempt() -> httpx.Response:
            return self._send_once(method, url, logged_path, all_headers, json, params, data, timeout, effect=effect)

        return self._attempt_or_guard(attempt, operation=operation, cost=cost, attempts=attempts, billing=billing)

    def _attempt_or_guard(
        self,
        attempt: Callable[[], T],
        *,
        operation: str | None,
        cost: int,
        attempts: int | None,
        billing: Billing | None,
    ) -> T:
        """Inside a :meth:`guarded` call of this adapter a request is one attempt of that call
        (sent once, under its breaker, limits and retries); otherwise it is a guarded call."""
        if _GUARDING.get() is self:
            return attempt()
        return self.guarded(attempt, operation=operation, cost=cost, attempts=attempts, billing=billing)

    def stream_request(
        self,
        method: str,
        path: str,
        consume: Callable[[Stream], T],
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        first_byte_timeout: float,
        idle_timeout: float,
        operation: str | None = None,
        cost: int = 1,
        attempts: int | None = None,
        billing: Billing | None = None,
    ) -> T:
        """Send one request whose answer streams (Server-Sent Events) and return what ``consume``
        makes of it, under the same :meth:`guarded` rules as :meth:`request` (breaker, limits,
        retries, usage). For calls without effects only (text and image generation).

        Two clocks, so a hung provider is told apart from a long generation:

        * ``first_byte_timeout``: the answer's first bytes (status line and headers) must arrive
          within it, or the call fails with ``ProviderUnavailableError`` code
          ``first_byte_timeout`` (a breaker failure, never retried against the same provider:
          the caller moves to the next one). Streaming APIs answer their headers as soon as the
          generation starts, so this can be a few seconds.
        * ``idle_timeout``: once the stream started, each read may wait this long for the next
          bytes (and never past the Lambda's remaining time minus the safety margin); a stream
          that stalls longer fails with code ``read_timeout``. A healthy stream runs as long as
          the function allows.

        httpx applies one read timeout per request; httpcore reads it from
        ``request.extensions["timeout"]`` once for the headers and again when the body starts, so
        it is raised from the first-byte to the idle value between the two (tested in
        tests/localcloud/test_ai_streaming.py against the sandboxes on a real socket)."""
        all_headers = {"Accept": "text/event-stream", **self.auth_headers(), **(headers or {})}
        url = f"{self.base_url}{path}"

        def attempt() -> T:
            return self._stream_once(
                method, url, path, all_headers, json, params, consume, first_byte_timeout, idle_timeout
            )

        return self._attempt_or_guard(attempt, operation=operation, cost=cost, attempts=attempts, billing=billing)

    def _stream_once(
        self,
        method: str,
        url: str,
        path: str,
        headers: Mapping[str, str],
        json: Any,
        params: Mapping[str, Any] | None,
        consume: Callable[[Stream], T],
        first_byte_timeout: float,
        idle_timeout: float,
    ) -> T:
        started = time.perf_counter()
        settings = get_settings()
        first = self._bounded(first_byte_timeout)
        content = None if json is None else dumps_json(json, allow_floats=self.json_floats)
        request = self.http.build_request(
            method,
            url,
            params=params,
            content=content,
            headers={**headers, "Content-Type": "application/json"} if content is not None else headers,
            timeout=httpx.Timeout(
                connect=min(settings.http_connect_timeout, first), read=first, write=first, pool=first
            ),
        )
        try:
            response = self.http.send(request, stream=True)
        except httpx.TransportError as exc:
            self._log(method, path, None, started, None, error=type(exc).__name__)
            if isinstance(exc, httpx.ReadTimeout):
                raise self.first_byte_timeout_error(first) from exc
            raise self._transport_error(exc, effect=False) from exc
        try:
            request_id = self.request_id_of(response)
            self._log(method, path, response.status_code, started, request_id)
            if response.status_code >= 400:
                try:
                    response.read()  # the error body, still under the first-byte clock
                except httpx.TransportError as exc:
                    raise self._transport_error(exc, effect=False) from exc
                error = self.classify(response)
                if error is not None:
                    raise self.advise_retry(self.scrub(error, response.request), response)
            # The stream started: from now on each read waits up to the idle time (see above).
            timeouts = response.request.extensions.get("timeout")
            if isinstance(timeouts, dict):
                timeouts["read"] = self._bounded(idle_timeout)
            try:
                return consume(Stream(self, response))
            except httpx.TransportError as exc:
                raise self._stream_broken(exc) from exc
        finally:
            response.close()

    def _bounded(self, seconds: float) -> float:
        """``seconds``, never past the Lambda's remaining time minus the safety margin."""
        remaining = remaining_seconds()
        if remaining is None:
            return seconds
        return max(0.1, min(seconds, remaining - get_settings().retry_safety_margin))

    def first_byte_timeout_error(self, seconds: float) -> ProviderUnavailableError:
        error = ProviderUnavailableError(
            f"{self.provider} sent no first byte within {seconds:g} s (timed out): hung or overloaded",
            provider=self.provider,
            code=FIRST_BYTE_TIMEOUT,
        )
        error.retry_now = False  # the next provider, not this one again (hub.retry obeys retry_now)
        return error

    def _stream_broken(self, exc: httpx.TransportError) -> ProviderUnavailableError:
        """A stream that stalled past the idle time or lost its connection after it started."""
        if isinstance(exc, httpx.TimeoutException):
            error = ProviderUnavailableError(
                f"{self.provider} stalled mid-stream (timed out: {type(exc).__name__})",
                provider=self.provider,
                code="read_timeout",
            )
            error.retry_now = False
            return error
        return ProviderUnavailableError(
            f"{self.provider} dropped the stream ({type(exc).__name__})", provider=self.provider, code="connection_lost"
        )

    def guarded(
        self,
        call: Callable[[], T],
        *,
        operation: str | None = None,
        cost: int = 1,
        attempts: int | None = None,
        billing: Billing | None = None,
    ) -> T:
        """Run one provider call under the shared resilience rules. ``request`` uses it for
        HTTP; adapters over an SDK (SES through boto3) wrap their call in it directly and
        raise the taxonomy's errors from it. ``attempts`` caps the retry policy for this call.

        Order: integration disabled? → breaker (open → fail fast) → rate limits (spent →
        RateLimitedError) → the call with retries → breaker bookkeeping (only
        ProviderUnavailableError counts as a failure) → usage counted (hub.usage.meter: one
        call, its error class or what it bills — ``billing``, or :meth:`billed` from its
        result; never fails the call). A ``credentials_check`` client (new credentials being
        validated) neither reads nor changes the integration's status."""
        if self.org_id and not self.credentials_check and (refused := blocked(self.org_id, self.provider)):
            status, reason = refused
            if status == "needs_reauth":  # the org must authorise the hub again
                raise AuthenticationError(
                    f"the {self.provider} integration is waiting for this org to connect it again ({reason})",
                    provider=self.provider,
                    code="integration_needs_reauth",
                )
            raise AuthenticationError(
                f"the {self.provider} integration is disabled for this org ({reason}); fix the credentials "
                "and re-enable it",
                provider=self.provider,
                code="integration_disabled",
            )
        breaker = self.circuit_breaker()
        probe = breaker.before_call() if breaker else False  # open: fails fast, no provider call
        try:
            self.take_rate_limits(operation, cost)
            policy = self.retry_policy
            if attempts is not None:
                policy = dataclasses.replace(policy, max_attempts=max(1, min(attempts, policy.max_attempts)))
            token = _GUARDING.set(self)
            started = time.perf_counter()
            try:
                result = policy.call(call)
            except BaseException as exc:
                self._measure(operation, started, exc)
                count_call(self.org_id, self.provider, operation, error=exc)
                raise
            finally:
                _GUARDING.reset(token)
            self._measure(operation, started, None)
            count_call(self.org_id, self.provider, operation, billing=self._billing_of(operation, result, billing))
        except (ProviderUnavailableError, OutcomeUnknownError):
            if breaker:
                breaker.record_failure(probe)
            raise
        except HubError as exc:
            if breaker:  # the provider answered (4xx/429): it is up
                breaker.record_success(probe)
            # Any provider answer that rejected the credentials (401/403, or Gemini's 400
            # API_KEY_INVALID), not our own "missing"/"disabled" errors.
            rejected = isinstance(exc, AuthenticationError) and exc.http_status is not None
            if rejected and self.org_id and not self.credentials_check:
                if operation == TOKEN_REFRESH_OPERATION:
                    # The token endpoint refused the org's grant (invalid_grant, revoked): only
                    # the org can fix it by connecting again; it is told once.
                    mark_needs_reauth(self.org_id, self.provider, exc)
                else:
                    # The provider rejected this org's credentials: stop calling until fixed.
                    disable_integration(self.org_id, self.provider, f"{exc.http_status} from {self.provider}")
            raise
        if breaker:
            breaker.record_success(probe)
        return result

    def _measure(self, operation: str | None, started: float, error: BaseException | None) -> None:
        """The call's metrics (hub.metrics): calls, latency (retries and their waits included, as
        the caller waited), failure rate, errors by class; the org and operation as properties."""
        provider_metrics.provider_call(
            self.provider,
            latency_ms=(time.perf_counter() - started) * 1000,
            error=error,
            org_id=self.org_id,
            operation=operation,
        )

    def _billing_of(self, operation: str | None, result: Any, declared: Billing | None) -> Billing | None:
        try:
            return self.billed(operation, result) or declared
        except Exception as exc:  # noqa: BLE001 - reading what a call billed never fails the call
            logger.warning("usage_billing_unreadable", extra={"provider": self.provider, "error": type(exc).__name__})
            return declared

    def effect(
        self,
        send: Callable[[], T],
        *,
        find: Callable[[datetime], T | None] | None = None,
        keyed: bool = False,
    ) -> T:
        """One write with an effect (a message, a charge). When an earlier attempt of the same
        request ended with an unknown outcome (``hub.outcomes``), resolve it before sending:

        * ``find(since)`` looks the write up at the provider: the earlier write if it happened
          (answered as if the first call had returned it), or None when the provider holds none
          (then it is sent now, once the first attempt is ``outcome_settle_seconds`` old);
        * ``keyed``: the write carries an idempotency key derived from the caller's and the
          provider keeps it, so sending again answers the first write instead of repeating it;
        * otherwise the recorded OutcomeUnknownError is answered again.
        """
        pending = outcomes.pending()
        if pending is not None:
            if pending.provider not in (None, self.provider):
                raise pending.error()  # the unknown write was at another provider: only it can tell
            if find is not None:
                found = find(pending.started_at)
                if found is not None:
                    logger.info("outcome_resolved", extra={"provider": self.provider, "operation": pending.operation})
                    return found
                settled = datetime.now(UTC) - pending.started_at
                if settled.total_seconds() < get_settings().outcome_settle_seconds:
                    raise pending.error()  # not there yet, but the provider may still be at it
            elif not keyed:
                raise pending.error()
        return send()

    def _effective_timeout(self, timeout: float | None) -> httpx.Timeout | None:
        remaining = remaining_seconds()
        if timeout is None and remaining is None:
            return None  # the shared client's defaults
        settings = get_settings()
        read = timeout if timeout is not None else settings.http_read_timeout
        if remaining is not None:
            # Never wait on a provider longer than the function itself may run.
            read = max(0.1, min(read, remaining - settings.retry_safety_margin))
        connect = min(settings.http_connect_timeout, read)
        return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)

    def _transport_error(self, exc: httpx.TransportError, *, effect: bool) -> HubError:
        """What a request that got no answer became. A write that may have reached the provider
        (``effect``) is an unknown outcome; anything else is the provider being unavailable."""
        name = type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            # A read timeout means the provider took the request and is slow: not retried here
            # (it would double the wait and could repeat a non-idempotent POST); the breaker
            # counts it and the fallback chain moves on. Connect/pool timeouts sent nothing; a
            # connect timeout (HTTP_CONNECT_TIMEOUT, 2 s) fails over at once like a refusal.
            sent = isinstance(exc, (httpx.ReadTimeout, httpx.WriteTimeout))
            lost, lost_code = "did not answer in time after the request was sent", "read_timeout"
            failed = f"timed out ({name})"
            if isinstance(exc, httpx.ReadTimeout):
                code = "read_timeout"
            elif isinstance(exc, httpx.ConnectTimeout):
                code = "connect_timeout"
            else:
                code = "timeout"
        else:
            # A refused/failed connection sent nothing (safe to fail over, and no use retrying:
            # hub.retry.FAILOVER_CODES); a connection dropped mid-request may have been processed
            # (callers of non-idempotent POSTs must look up).
            sent = not isinstance(exc, (httpx.ConnectError, httpx.UnsupportedProtocol, httpx.ProxyError))
            lost, lost_code = "dropped the connection after the request was sent", "connection_lost"
            failed = f"unreachable ({name})"
            code = "connect_failed" if isinstance(exc, httpx.ConnectError) else "connection_lost"
        if effect and sent:
            return OutcomeUnknownError(
                f"{self.provider} {lost}: it may have been applied", provider=self.provider, code=lost_code
            )
        return ProviderUnavailableError(f"{self.provider} {failed}", provider=self.provider, code=code)

    def _send_once(
        self,
        method: str,
        url: str,
        path: str,
        headers: Mapping[str, str],
        json: Any,
        params: Mapping[str, Any] | None,
        data: Mapping[str, Any] | None,
        timeout: float | None,
        *,
        effect: bool = False,
    ) -> httpx.Response:
        started = time.perf_counter()
        kwargs: dict[str, Any] = {"headers": headers, "params": params, "data": data}
        if json is not None:
            # Our encoder, not httpx's: Decimal money as exact JSON numbers (hub.jsonmoney).
            kwargs["content"] = dumps_json(json, allow_floats=self.json_floats)
            kwargs["headers"] = {**headers, "Content-Type": "application/json"}
        effective = self._effective_timeout(timeout)
        if effective is not None:
            kwargs["timeout"] = effective
        try:
            response = self.http.request(method, url, **kwargs)
        except httpx.TransportError as exc:  # timeouts included
            self._log(method, path, None, started, None, error=type(exc).__name__)
            raise self._transport_error(exc, effect=effect) from exc
        request_id = self.request_id_of(response)
        self._log(method, path, response.status_code, started, request_id)
        error = self.classify(response)
        if error is not None:
            error = self.advise_retry(self.scrub(error, response.request), response)
            if effect and response.status_code in GATEWAY_STATUSES and isinstance(error, ProviderUnavailableError):
                # A proxy's 502/504: the provider behind it may have applied the write.
                raise OutcomeUnknownError(
                    f"{error.message} (from a gateway: the request may have been applied)",
                    provider=self.provider,
                    http_status=response.status_code,
                    code="gateway_error",
                    request_id=request_id,
                )
            raise error
        return response

    def secret_values(self, request: httpx.Request | None = None) -> list[str]:
        """Every credential this client holds or sent: its secret's ``SecretStr`` fields and the
        values of the request's auth headers (a bearer token fetched from a token endpoint)."""
        values = [v.get_secret_value() for v in dict(self.credentials).values() if isinstance(v, SecretStr)]
        if request is not None:
            for name, value in request.headers.items():
                if name.lower() in _CREDENTIAL_HEADERS:
                    values.append(value)
                    values.append(value.partition(" ")[2])
        # Longest first, so a token is not half-replaced by a shorter secret it contains.
        return sorted({v for v in values if len(v) >= _MIN_SECRET_LENGTH}, key=len, reverse=True)

    def scrub(self, error: HubError, request: httpx.Request | None = None) -> HubError:
        """Remove credentials from an error built from a provider's answer: some providers echo
        the key they were sent (``invalid key sk-…``), and errors reach logs, Step Functions
        state and callers."""
        return redact(error, self.secret_values(request))

    def _log(
        self,
        method: str,
        path: str,
        status: int | None,
        started: float,
        request_id: str | None,
        *,
        error: str | None = None,
    ) -> None:
        # Path only: query strings can carry api keys (SerpAPI, Google) and are never logged.
        duration_ms = (time.perf_counter() - started) * 1000
        # The operation's event log record lists its calls (hub.eventlog; operation_handler collects).
        eventlog.note_call(self.provider, method, path, status, duration_ms, error)
        logger.info(
            "provider_call",
            extra={
                "provider": self.provider,
                "method": method,
                "path": path.split("?", 1)[0],
                "status": status,
                "duration_ms": round(duration_ms, 1),
                "provider_request_id": request_id,
                "error": error,
            },
        )


class Stream:
    """A streamed answer being read: its Server-Sent Events, or (a provider or proxy that
    ignored ``stream: true``) its whole JSON body."""

    def __init__(self, client: ProviderClient, response: httpx.Response) -> None:
        self.client = client
        self.response = response

    @property
    def request_id(self) -> str | None:
        return self.client.request_id_of(self.response)

    @property
    def is_event_stream(self) -> bool:
        return is_event_stream(self.response.headers.get("content-type"))

    def events(self) -> Iterator[ServerSentEvent]:
        """The events as they arrive. The stream stops with ``read_timeout`` when the Lambda's
        time (minus the safety margin) runs out, even if events keep coming."""
        margin = get_settings().retry_safety_margin
        for event in parse_sse(self.response.iter_lines()):
            remaining = remaining_seconds()
            if remaining is not None and remaining < margin:
                error = ProviderUnavailableError(
                    f"{self.client.provider} was still streaming when the function ran out of time (timed out)",
                    provider=self.client.provider,
                    code="read_timeout",
                )
                error.retry_now = False
                raise error
            yield event

    def json_object(self) -> dict[str, Any]:
        """The whole body as a JSON object (the non-streamed answer)."""
        self.response.read()
        return self.client.json_object(self.response)

    def interrupted(self, what: str) -> ProviderUnavailableError:
        """The stream ended (the connection closed) before ``what``: the answer is incomplete."""
        return ProviderUnavailableError(
            f"{self.client.provider} ended the stream before {what}",
            provider=self.client.provider,
            code="connection_lost",
            request_id=self.request_id,
        )

    def error_event(self, status: int, body: Any) -> HubError:
        """An error sent inside the stream, classified as if it had been the HTTP answer
        ``status`` with ``body`` (the providers document the in-stream error as the same body
        their HTTP errors carry)."""
        ids = {name: self.response.headers[name] for name in _REQUEST_ID_HEADERS if name in self.response.headers}
        synthetic = httpx.Response(status, json=body, headers=ids, request=self.response.request)
        error = self.client.classify(synthetic) or ProviderUnavailableError(
            f"{self.client.provider} sent an error event", provider=self.client.provider
        )
        return self.client.scrub(error, self.response.request)
