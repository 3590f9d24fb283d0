"""Error reports to Sentry (docs/observability.md "Errors: Sentry").

:func:`init` runs once per container, at module scope (hub.observability), and does nothing
unless ``SENTRY_DSN_SECRET`` names the hub's Sentry secret (``{prefix}/_apps/sentry``:
``{"dsn": ..., "traces_sample_rate"?: ...}``, read like the hub's other app secrets, so the DSN
is never in the environment nor the template). Without it, ``sentry_sdk`` is never imported.

What is reported (:func:`should_report`): every unhandled exception that is not a contract
error, and the contract errors (hub.errors) whose level in :data:`LEVELS` reaches
``SENTRY_MIN_LEVEL`` (default ``error``): the hub failing (a provider down, credentials refused,
an unknown outcome, its own configuration) is reported; the caller's mistakes and the expected
back-pressure (bad input, rate limits, idempotency conflicts, a forged webhook) are not, they are
answered and logged. Each report carries the tags ``function``, ``provider``, ``org_id`` (an
id, never a person), ``error_class`` and ``error_code``.

Nothing sensitive leaves: no local variables, no request bodies or query strings, no
``user``, and every event and breadcrumb goes through hub.masking, the masking the logs use.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar, cast

from hub.config import get_settings
from hub.errors import (
    AuthenticationError,
    ConfigurationError,
    HubError,
    IdempotencyConflictError,
    InvalidRequestError,
    OutcomeUnknownError,
    ProviderUnavailableError,
    RateLimitedError,
    RequestInProgressError,
    WebhookAuthenticationError,
)
from hub.masking import mask_text, mask_value

if TYPE_CHECKING:
    from sentry_sdk._types import Breadcrumb, BreadcrumbHint, Event, Hint
    from sentry_sdk.transport import Transport

F = TypeVar("F", bound=Callable[..., Any])

# How serious each contract error is; a subclass has its nearest ancestor's level.
LEVELS: dict[type[HubError], str] = {
    InvalidRequestError: "warning",  # the caller's input: answered 400, never a hub fault
    IdempotencyConflictError: "warning",
    RequestInProgressError: "warning",
    RateLimitedError: "warning",  # back-pressure the retries absorb (docs/resilience.md)
    WebhookAuthenticationError: "warning",  # a forged or stale delivery (bursts are audited)
    AuthenticationError: "error",  # the org's credentials no longer work: someone must act
    ProviderUnavailableError: "error",
    OutcomeUnknownError: "error",
    ConfigurationError: "fatal",
    HubError: "error",
}
_RANK = {"warning": 1, "error": 2, "fatal": 3}
# The secret must be one of the hub's own (``{prefix}/_apps/<name>``), as the app secrets are.
_SECRET_NAME = re.compile(r"^(?P<prefix>[a-z0-9][a-z0-9_-]*)/_apps/(?P<name>[a-z0-9][a-z0-9_-]{0,62})$")
_ORG_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
# Request parts an event never carries (the integration adds some from API Gateway events).
_DROPPED_REQUEST_KEYS = ("data", "query_string", "cookies", "env")

_enabled = False
# Whether this invocation reported something (flushed before it ends).
_reported: ContextVar[bool] = ContextVar("hub_error_reported", default=False)


def enabled() -> bool:
    return _enabled


def level_of(exc: BaseException) -> str:
    """Sentry's level for ``exc``: a contract error's from :data:`LEVELS`, else ``error``."""
    if isinstance(exc, HubError):
        for cls in type(exc).__mro__:
            if cls in LEVELS:
                return LEVELS[cls]
    return "error"


def should_report(exc: BaseException) -> bool:
    """Every unexpected exception; a contract error from ``SENTRY_MIN_LEVEL`` up."""
    if not isinstance(exc, HubError):
        return True
    return _RANK[level_of(exc)] >= _RANK[get_settings().sentry_min_level]


def _read_dsn() -> dict[str, Any] | None:
    """The Sentry secret's fields, or None (with a warning) when it cannot be used: error
    reporting must never keep a function from starting."""
    from hub import credentials
    from hub.observability import logger

    secret_id = get_settings().sentry_dsn_secret or ""
    match = _SECRET_NAME.fullmatch(secret_id)
    if match is None or match["prefix"] != get_settings().secrets_prefix:
        # The id in the message: under a key naming a secret the log masking would hide it.
        logger.warning(f"error reports off: SENTRY_DSN_SECRET {secret_id!r} is not {{SECRETS_PREFIX}}/_apps/<name>")
        return None
    try:
        secret = credentials.get_app_secret(match["name"])
    except HubError as exc:
        logger.warning("error reports off: the Sentry secret cannot be read", extra={"error": exc.to_dict()})
        return None
    if not isinstance(secret.get("dsn"), str) or not secret["dsn"].startswith(("https://", "http://")):
        logger.warning(f"error reports off: the Sentry secret {secret_id} has no http(s) dsn")
        return None
    return secret


def init(transport: type[Transport] | Transport | None = None) -> bool:
    """Start the Sentry client when a DSN secret is configured; whether it started.
    ``transport`` replaces the HTTP one (tests record envelopes with it)."""
    global _enabled
    if not get_settings().sentry_dsn_secret:
        # Called at import (hub.observability): leave no settings cached from that moment for a
        # process that completes its environment after importing the hub (ops, benches).
        get_settings.cache_clear()
        return False
    secret = _read_dsn()
    if secret is None:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.aws_lambda import AwsLambdaIntegration
    from sentry_sdk.integrations.dedupe import DedupeIntegration
    from sentry_sdk.utils import BadDsn, Dsn

    from hub.observability import logger

    try:
        Dsn(secret["dsn"])
    except BadDsn:
        logger.warning("error reports off: the Sentry secret's dsn is not a Sentry DSN")
        return False
    settings = get_settings()
    rate = secret.get("traces_sample_rate")
    # https://docs.sentry.io/platforms/python/integrations/aws-lambda/manual-instrumentation/ (init at
    # module scope with AwsLambdaIntegration); options: sentry_sdk/consts.py ClientConstructor (2.76.0).
    sentry_sdk.init(
        dsn=secret["dsn"],
        environment=settings.stage,
        release=settings.hub_release,
        # Only what is listed: no logging, threading, stdlib or botocore hooks at import.
        default_integrations=False,
        auto_enabling_integrations=False,
        # AwsLambdaIntegration: reports init errors and flushes after every invocation in the
        # Lambda runtime; timeout_warning adds a thread per invocation, left off. Dedupe: the
        # integration and hub.errortracking.reporting see the same exception; one report.
        integrations=[AwsLambdaIntegration(timeout_warning=False), DedupeIntegration()],
        shutdown_timeout=settings.sentry_shutdown_timeout,
        # No personal data collected by the SDK: ``data_collection`` supersedes send_default_pii
        # (deprecated in sentry-sdk 2.76; unset, it is False) with every category off.
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_headers": {"request": {"mode": "off"}},
            "http_bodies": [],
            "url_query_params": {"mode": "off"},
            "gen_ai": {"inputs": False, "outputs": False},
            "database_query_data": False,
            "queues": False,
            "stack_frame_variables": False,  # a frame's locals hold payloads, prompts and secrets
        },
        include_local_variables=False,
        max_request_body_size="never",
        send_client_reports=False,
        auto_session_tracking=False,
        # Traces off unless the secret asks for a sample rate (tracing plan: docs/architecture.md).
        traces_sample_rate=float(rate) if isinstance(rate, int | float) and rate > 0 else None,
        before_send=before_send,
        before_breadcrumb=before_breadcrumb,
        transport=transport,
    )
    _enabled = True
    return True


def before_send(sentry_event: Event, hint: Hint) -> Event | None:
    """Drop what is below the threshold; tag and mask the rest."""
    event = cast(dict[str, Any], sentry_event)
    exc_info = hint.get("exc_info")
    exc = exc_info[1] if exc_info else None
    if exc is not None:
        if not should_report(exc):
            return None
        event["level"] = level_of(exc)
        tags = event.setdefault("tags", {})
        tags["error_class"] = type(exc).__name__
        if isinstance(exc, HubError):
            if exc.provider:
                tags["provider"] = exc.provider
            if exc.code:
                tags["error_code"] = exc.code
    function = _function_name()
    if function:
        event.setdefault("tags", {}).setdefault("function", function)
    event.pop("user", None)
    request = event.get("request")
    if isinstance(request, dict):
        for key in _DROPPED_REQUEST_KEYS:
            request.pop(key, None)
        if isinstance(request.get("url"), str):
            request["url"] = request["url"].split("?", 1)[0]
    masked: dict[str, Any] = mask_value(event)
    # Tags are ids and class names: kept as set (org ids are not personal data).
    if "tags" in event:
        masked["tags"] = {k: str(v) if k == "org_id" else mask_text(str(v)) for k, v in event["tags"].items()}
    return cast("Event", masked)


def before_breadcrumb(crumb: Breadcrumb, hint: BreadcrumbHint) -> Breadcrumb | None:
    return cast("Breadcrumb", mask_value(crumb))


def _function_name() -> str | None:
    return get_settings().function_name


def org_of(event: Any) -> str | None:
    """The org an invocation is for, when its payload names a well-formed one: direct
    invocations' ``org_id``, API and webhook routes' ``{org_id}`` path parameter."""
    if not isinstance(event, Mapping):
        return None
    candidates = [event.get("org_id")]
    params = event.get("pathParameters")
    if isinstance(params, Mapping):
        candidates.append(params.get("org_id"))
    for value in candidates:
        if isinstance(value, str) and _ORG_ID.fullmatch(value):
            return value
    return None


def _is_api_event(event: Any) -> bool:
    return isinstance(event, Mapping) and "requestContext" in event and ("httpMethod" in event or "routeKey" in event)


def reporting(handler: F) -> F:
    """``handler`` reporting what escapes it (hub.observability.lambda_handler wears this). The
    identity when Sentry is off. Each invocation has its own scope tagged with the function and
    the org; what it reported (what escaped, or errors the hub answered: :func:`report_handled`)
    is flushed before it ends, within SENTRY_SHUTDOWN_TIMEOUT for API Gateway invocations (the
    caller is waiting) and SENTRY_FLUSH_TIMEOUT otherwise."""
    if not _enabled:
        return handler
    import sentry_sdk

    @functools.wraps(handler)
    def wrapper(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
        pending = _reported.set(False)
        try:
            with sentry_sdk.isolation_scope() as scope:
                function = getattr(context, "function_name", None) or _function_name()
                if isinstance(function, str):
                    scope.set_tag("function", function)
                org_id = org_of(event)
                if org_id:
                    scope.set_tag("org_id", org_id)
                try:
                    return handler(event, context, *args, **kwargs)
                except Exception as exc:
                    if should_report(exc):
                        _capture(exc, handled=False)
                    raise
                finally:
                    # Sent before the invocation ends (Lambda freezes the container after it),
                    # whether the report was of this exception or of an error the hub answered.
                    if _reported.get():
                        settings = get_settings()
                        api = _is_api_event(event)
                        sentry_sdk.flush(
                            timeout=settings.sentry_shutdown_timeout if api else settings.sentry_flush_timeout
                        )
        finally:
            _reported.reset(pending)

    return wrapper  # type: ignore[return-value]


def report_handled(exc: BaseException) -> None:
    """Report an error the hub answered instead of raising (the API's error responses), when it
    reaches the threshold; a no-op when Sentry is off."""
    if _enabled and should_report(exc):
        _capture(exc, handled=True)


def _capture(exc: BaseException, *, handled: bool) -> None:
    import sentry_sdk
    from sentry_sdk.utils import event_from_exception

    client = sentry_sdk.get_client()
    event, hint = event_from_exception(
        (type(exc), exc, exc.__traceback__),
        client_options=client.options,
        mechanism={"type": "hub", "handled": handled},
    )
    sentry_sdk.capture_event(event, hint=hint)
    _reported.set(True)


def reset_for_tests() -> None:
    """Close the client (tests start and stop it per case)."""
    global _enabled
    if "sentry_sdk" in sys.modules:
        import sentry_sdk

        sentry_sdk.get_client().close(timeout=0)
        sentry_sdk.get_global_scope().set_client(None)
    _enabled = False
