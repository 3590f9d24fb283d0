"""The receive pipeline shared by every webhook receiver.

Order matters: authenticate (no side effect for a forgery) → parse and normalise in memory
(no side effect) → archive the raw request to S3 *in parallel with* the dedupe read (the
delivery ledger) → enqueue what is not yet on the bus, only once the archive is written →
answer. Two AWS calls in a row on the warm path (the archive ∥ the dedupe read, then the
enqueue), never an enqueue of a request that is not archived.

Nothing authenticated is lost: a body that cannot be parsed or normalised is archived before
the 400 (and an unexpected error in a normaliser is archived before it propagates as a 5xx),
so after a fix it can be replayed. Only after the archive and the enqueue succeeded do we
answer 200; if either fails we answer 503 so the provider retries.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pydantic import ValidationError

from hub.config import get_settings
from hub.credentials import get_provider_secret, validate_org_id
from hub.errors import (
    AuthenticationError,
    ConfigurationError,
    HubError,
    InvalidRequestError,
    WebhookAuthenticationError,
)
from hub.events import HubEvent
from hub.jsonmoney import JsonLimitError, loads_json
from hub.observability import logger, metrics
from hub.orgs import require_org
from hub.webhooks.archive import archive_key, archive_raw
from hub.webhooks.forgery import note_failure
from hub.webhooks.models import RawWebhook, WebhookSpec
from hub.webhooks.publish import enqueue, split_delivered


@dataclass
class WebhookResult:
    status_code: int
    body: dict[str, Any] = field(default_factory=dict)


def _error(status: int, error: str, message: str) -> WebhookResult:
    return WebhookResult(status, {"error": error, "message": message})


def _describe_validation(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        location = ".".join(str(p) for p in err["loc"]) or "body"
        parts.append(f"{location}: {err['msg']}")
    return "; ".join(parts)


_OUTCOME_METRIC = {
    400: "WebhookInvalid",
    401: "WebhookRejected",
    404: "WebhookInvalid",
    413: "WebhookInvalid",
    503: "WebhookFailed",
}


def receive_webhook(spec: WebhookSpec, request: RawWebhook) -> WebhookResult:
    """Run the pipeline; every outcome is counted (alarms watch WebhookFailed)."""
    result = _receive(spec, request)
    if result.status_code in _OUTCOME_METRIC:
        metrics.add_metric(name=_OUTCOME_METRIC[result.status_code], unit="Count", value=1)
    return result


def _receive(spec: WebhookSpec, request: RawWebhook) -> WebhookResult:
    settings = get_settings()
    if len(request.body) > settings.webhook_max_body_bytes:
        return _error(413, "payload_too_large", f"body exceeds {settings.webhook_max_body_bytes} bytes")

    # 1. Who is this for, and is it really from the provider?
    try:
        validate_org_id(request.org_id)
        require_org(request.org_id)  # an org nobody registered: 404, like a missing integration
        secret = get_provider_secret(request.org_id, spec.secret_provider or spec.provider)
    except (InvalidRequestError, AuthenticationError):
        return _error(404, "not_found", f"no {spec.provider} integration for this organisation")
    except HubError as exc:
        logger.error("webhook_secret_unavailable", extra={"provider": spec.provider, "error": exc.message})
        return _error(503, "credentials_unavailable", "could not load this integration's credentials; retry later")
    try:
        spec.verify(request, secret)
    except WebhookAuthenticationError as exc:
        logger.warning(
            "webhook_rejected", extra={"provider": spec.provider, "org_id": request.org_id, "reason": exc.message}
        )
        note_failure(request, spec.provider, exc.message)  # one counter update; a burst is audited once
        return _error(401, "unauthorized", exc.message)
    except ConfigurationError as exc:
        logger.error("webhook_secret_malformed", extra={"provider": spec.provider, "org_id": request.org_id})
        return _error(503, "misconfigured", exc.message)

    # 2. Parse and normalise in memory; the archive key is chosen first, events carry it.
    raw_ref = archive_key(request)
    try:
        outcome = _normalise(spec, request, raw_ref)
    except Exception:
        _archive_or_log(spec, request, raw_ref)  # a normaliser bug: keep the bytes, then fail loudly
        raise
    if isinstance(outcome, WebhookResult):
        # Nothing to publish, but what was authenticated is kept for a replay after a fix.
        return outcome if _archive_or_log(spec, request, raw_ref) else _archive_failed()

    # 3. Archive while the dedupe read runs; enqueue only once the archive is written.
    archived = _in_parallel(archive_raw, request, key=raw_ref)
    return _publish(spec, request, raw_ref, outcome, archived=archived)


def _archive_failed() -> WebhookResult:
    return _error(503, "archive_unavailable", "could not store the webhook; retry later")


@cache
def _pool() -> ThreadPoolExecutor:
    # One per container, reused by every request: the archive write overlaps the dedupe read.
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-archive")


def _in_parallel(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
    context = contextvars.copy_context()  # the invocation's logging/tracing context goes along
    return _pool().submit(context.run, fn, *args, **kwargs)


def _archive_or_log(spec: WebhookSpec, request: RawWebhook, raw_ref: str) -> bool:
    try:
        archive_raw(request, key=raw_ref)
    except Exception:  # noqa: BLE001 - whatever broke, the provider must get a 503 and retry
        logger.exception("webhook_archive_failed", extra={"provider": spec.provider, "org_id": request.org_id})
        return False
    return True


def process_archived(spec: WebhookSpec, request: RawWebhook, raw_ref: str) -> WebhookResult:
    """Steps after the archive: parse, normalise, publish once. Replays start here, so an
    archived request goes through exactly the same path (and the same dedupe) again."""
    outcome = _normalise(spec, request, raw_ref)
    if isinstance(outcome, WebhookResult):
        return outcome
    return _publish(spec, request, raw_ref, outcome, archived=None)


def _normalise(spec: WebhookSpec, request: RawWebhook, raw_ref: str) -> list[HubEvent] | WebhookResult:
    """The request's events, or the 400 that names what is wrong with it."""
    if spec.parse_body is not None:
        try:
            payload = spec.parse_body(request.body)
        except (UnicodeDecodeError, ValueError) as exc:
            return _error(400, "malformed_body", f"body could not be parsed: {exc}")
    else:
        try:
            # Decimal, never float: amounts in payment webhooks must not lose centavos. Bounded:
            # a validly signed body can still nest 10 000 levels or carry a 5 000-digit number.
            payload = loads_json(request.body)
        except JsonLimitError as exc:
            return _error(400, "json_limit_exceeded", f"body is outside the hub's JSON limits: {exc}")
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
            return _error(400, "malformed_json", f"body is not valid JSON: {exc}")
    try:
        events = spec.normalise(
            payload, org_id=request.org_id, received_at=request.received_at, raw_ref=raw_ref, request=request
        )
    except ValidationError as exc:
        return _error(400, "invalid_payload", _describe_validation(exc))
    except InvalidRequestError as exc:
        return _error(400, "invalid_payload", exc.message)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, ArithmeticError) as exc:
        # A shape the normaliser did not expect. The raw request is archived, so after a
        # fix it can be replayed; answering 5xx would only make the provider retry forever.
        logger.exception("webhook_normalise_failed", extra={"provider": spec.provider, "raw_ref": raw_ref})
        return _error(400, "invalid_payload", f"unexpected payload shape ({type(exc).__name__})")

    return list(events)


def _publish(
    spec: WebhookSpec,
    request: RawWebhook,
    raw_ref: str,
    events: list[HubEvent],
    *,
    archived: Future[Any] | None,
) -> WebhookResult:
    """Enqueue the events not yet on the bus, once ``archived`` (the archive write) succeeded."""
    fresh, duplicates = split_delivered(events) if events else ([], 0)
    if archived is not None:
        try:
            archived.result()
        except Exception:  # noqa: BLE001 - whatever broke, the provider must get a 503 and retry
            logger.exception("webhook_archive_failed", extra={"provider": spec.provider, "org_id": request.org_id})
            return _archive_failed()
    try:
        enqueue(fresh)
    except HubError as exc:
        logger.error("webhook_enqueue_failed", extra={"provider": spec.provider, "error": exc.message})
        return _error(503, "enqueue_unavailable", "could not enqueue the event; retry later")
    except Exception:  # noqa: BLE001 - whatever broke, the provider must get a 503 and retry
        logger.exception("webhook_enqueue_failed", extra={"provider": spec.provider})
        return _error(503, "enqueue_unavailable", "could not enqueue the event; retry later")
    published = [event.event_id for event in fresh]

    metrics.add_metric(name="WebhookAccepted", unit="Count", value=1)
    if duplicates:
        metrics.add_metric(name="WebhookDuplicate", unit="Count", value=duplicates)
    logger.info(
        "webhook_accepted",
        extra={
            "provider": spec.provider,
            "org_id": request.org_id,
            "events": len(published),
            "duplicates": duplicates,
            "raw_ref": raw_ref,
        },
    )
    return WebhookResult(200, {"status": "accepted", "event_ids": published, "duplicates": duplicates})
