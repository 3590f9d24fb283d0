"""The receive pipeline shared by every webhook receiver.

Order matters: authenticate (no side effect for a forgery) → parse and normalise in memory
(no side effect) → enqueue → answer. The warm path makes one AWS call: a request with one
event (nearly all of them) is enqueued in one SQS message that also carries its archive
document (headers minus secrets, body minus the provider's credential fields), and the
consumer writes that document to S3 *before* it processes the event
(:mod:`hub.inbound`). A request with no event, several, or an archive too large for one
message is archived to S3 first (claim check) and then enqueued.

Dedupe is the delivery ledger's (:mod:`hub.webhooks.delivery`): the consumer skips an event
already on the bus, so a provider's redelivery is accepted (200) and never published twice.

Nothing authenticated is lost: it is either in an SQS message (which is retried until the
archive is written, and ends in the DLQ, redrivable, if it never is) or in S3; a body that
cannot be parsed or normalised is archived before the 400 (and an unexpected error in a
normaliser is archived before it propagates as a 5xx), so after a fix it can be replayed.
We answer 200 only once the message (or the archive and the message) is stored; if that fails
we answer 503 so the provider retries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from hub import errortracking, eventlog
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
from hub.webhooks.archive import archive_document, archive_key, archive_raw
from hub.webhooks.forgery import note_failure
from hub.webhooks.models import RawWebhook, WebhookSpec
from hub.webhooks.publish import enqueue, send_carrying_archive, split_delivered


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
        errortracking.report_handled(exc)  # answered 503; an operator must know (docs/observability.md)
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
        errortracking.report_handled(exc)
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
        if not _archive_or_log(spec, request, raw_ref):
            return _archive_failed()
        if outcome.status_code == 400:  # archived: the console lists it (replayable after a fix)
            eventlog.record_rejected(spec.provider, request.org_id, raw_ref, str(outcome.body.get("message", "")))
        return outcome

    # 3. Enqueue. One event (the usual case): its message carries the archive document, and the
    # consumer writes it to S3 before it processes the event — one AWS call for the receiver.
    if len(outcome) == 1:
        try:
            carried = send_carrying_archive(outcome[0], raw_ref, archive_document(request))
        except Exception as exc:  # noqa: BLE001 - whatever broke, the provider must get a 503 and retry
            logger.exception("webhook_enqueue_failed", extra={"provider": spec.provider, "org_id": request.org_id})
            errortracking.report_handled(exc)
            return _enqueue_failed()
        if carried:
            return _accepted(spec, request, raw_ref, [outcome[0].event_id], 0)
    # No event, several, or too large to carry: archive first (claim check), then enqueue.
    if not _archive_or_log(spec, request, raw_ref):
        return _archive_failed()
    return _publish(spec, request, raw_ref, outcome, dedupe=False)


def _archive_failed() -> WebhookResult:
    return _error(503, "archive_unavailable", "could not store the webhook; retry later")


def _enqueue_failed() -> WebhookResult:
    return _error(503, "enqueue_unavailable", "could not enqueue the event; retry later")


def _archive_or_log(spec: WebhookSpec, request: RawWebhook, raw_ref: str) -> bool:
    try:
        archive_raw(request, key=raw_ref)
    except Exception as exc:  # noqa: BLE001 - whatever broke, the provider must get a 503 and retry
        logger.exception("webhook_archive_failed", extra={"provider": spec.provider, "org_id": request.org_id})
        errortracking.report_handled(exc)
        return False
    return True


def process_archived(spec: WebhookSpec, request: RawWebhook, raw_ref: str) -> WebhookResult:
    """Steps after the archive: parse, normalise, publish once. Replays start here, so an
    archived request goes through exactly the same path (and the same dedupe) again."""
    outcome = _normalise(spec, request, raw_ref)
    if isinstance(outcome, WebhookResult):
        return outcome
    return _publish(spec, request, raw_ref, outcome, dedupe=True)


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
    spec: WebhookSpec, request: RawWebhook, raw_ref: str, events: list[HubEvent], *, dedupe: bool
) -> WebhookResult:
    """Enqueue the events (with ``dedupe``, only those not yet on the bus: a replay reports
    what is already there as duplicates). The archive is already written."""
    fresh, duplicates = split_delivered(events) if dedupe and events else (events, 0)
    try:
        enqueue(fresh)
    except HubError as exc:
        logger.error("webhook_enqueue_failed", extra={"provider": spec.provider, "error": exc.message})
        return _enqueue_failed()
    except Exception:  # noqa: BLE001 - whatever broke, the provider must get a 503 and retry
        logger.exception("webhook_enqueue_failed", extra={"provider": spec.provider})
        return _enqueue_failed()
    return _accepted(spec, request, raw_ref, [event.event_id for event in fresh], duplicates)


def _accepted(
    spec: WebhookSpec, request: RawWebhook, raw_ref: str, published: list[str], duplicates: int
) -> WebhookResult:
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
