"""The hub's error taxonomy.

The class names are a contract: Step Functions definitions catch them by name
(``ErrorEquals: ["ProviderUnavailableError"]``) because Lambda reports an unhandled
exception's class name as ``errorType``. Never rename them.
"""

from __future__ import annotations

from typing import Any, TypeVar

ErrorT = TypeVar("ErrorT", bound="HubError")


class HubError(Exception):
    """Base of every error the hub raises on purpose.

    ``retryable`` tells callers (SQS consumers, Step Functions) whether trying again
    later may succeed. Messages never contain secrets or message bodies.
    """

    retryable: bool = False
    # The provider's own advice on retrying this answer right away, for adapters whose
    # provider sends it (``ProviderClient.retry_advice``: Anthropic and OpenAI's
    # ``x-should-retry`` and ``retry-after-ms``/``Retry-After``). hub.retry obeys ``retry_now``
    # over the error type and waits ``retry_wait`` seconds; None: no advice.
    retry_now: bool | None = None
    retry_wait: float | None = None

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        http_status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.http_status = http_status
        self.code = code
        self.request_id = request_id
        self.details = details or {}

    def recast(self, cls: type[ErrorT], message: str | None = None, **kwargs: Any) -> ErrorT:
        """The same answer as another class of error (a provider's own error code refining what
        the HTTP status said): provider, http_status, code, request_id and details carry over;
        ``message`` replaces the message, ``kwargs`` replace those fields or add the class's own
        (``retry_after``)."""
        fields: dict[str, Any] = {
            "provider": self.provider,
            "http_status": self.http_status,
            "code": self.code,
            "request_id": self.request_id,
            "details": dict(self.details),
            **kwargs,
        }
        return cls(self.message if message is None else message, **fields)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe description, for API error bodies and Step Functions state."""
        out: dict[str, Any] = {"error": type(self).__name__, "message": self.message}
        for key in ("provider", "http_status", "code", "request_id"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.details:
            out["details"] = self.details
        return out


class InvalidRequestError(HubError):
    """The caller's input is wrong, or the provider answered 400/404/422. Never retried."""


class AuthenticationError(HubError):
    """401/403 from the provider, or credentials missing. Never retried."""


class _RetryAfterError(HubError):
    """An error that says how many seconds to wait before trying again (``retry_after``)."""

    retryable = True
    default_retry_after: float = 60.0

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = max(0.0, float(self.default_retry_after if retry_after is None else retry_after))

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["retry_after"] = self.retry_after
        return out


class RateLimitedError(_RetryAfterError):
    """429 or a quota hit. ``retry_after`` is how many seconds to wait before trying again."""


class ProviderUnavailableError(HubError):
    """5xx, timeout, connection failure or an open circuit. Retryable; triggers fallback."""

    retryable = True


class WebhookAuthenticationError(HubError):
    """A webhook's signature or token is missing, wrong or stale (answered with 401)."""


class ConfigurationError(HubError):
    """The hub itself is misconfigured (missing environment variable, malformed secret)."""


class OutcomeUnknownError(HubError):
    """A write may have reached the provider but we never saw its answer (a read timeout after
    the request was sent, a connection dropped mid-request, a 502/504 from a proxy in front of
    it). Never retried automatically by Lambda, SQS, Step Functions or the outbox: sending again
    could do it twice. It carries the ``idempotency_key`` and any provider request id; the same
    key again first resolves the outcome (a lookup at the provider, or a status webhook) and
    re-sends only when the caller asks explicitly (``"resend": true``). See docs/errors.md."""

    def __init__(self, message: str, *, idempotency_key: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.idempotency_key = idempotency_key

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.idempotency_key is not None:
            out["idempotency_key"] = self.idempotency_key
        return out


class IdempotencyConflictError(HubError):
    """An idempotency key names one request: this key was used before with another payload.
    Never retried; use a new key for a new request."""


class RequestInProgressError(_RetryAfterError):
    """A request with this idempotency key is running right now. Retry after ``retry_after``
    seconds: the answer will then be the first request's."""

    default_retry_after = 5.0


class SyncTokenExpiredError(InvalidRequestError):
    """A provider no longer accepts an incremental-sync token (Google Calendar answers ``410
    Gone``: https://developers.google.com/calendar/api/guides/sync#full_sync_required_by_server).
    Code ``sync_token_expired``; the caller forgets the token and runs a full sync. Never retried
    as is: the same token fails again."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("code", "sync_token_expired")
        super().__init__(message, **kwargs)


class NotFoundError(HubError):
    """What the caller named does not exist (an operator console's issue, record or job): 404.
    Never retried."""
