"""``POST /webhooks/google_calendar/{org_id}``: Google Calendar push notifications.

A notification says only "this calendar changed" (https://developers.google.com/calendar/api/guides/push,
"Receiving notifications"): headers ``X-Goog-Channel-ID``, ``X-Goog-Channel-Token`` (the token we
gave at watch time), ``X-Goog-Resource-ID``, ``X-Goog-Resource-State`` (``sync`` when the channel
is created, then ``exists`` / ``not_exists``), ``X-Goog-Message-Number``; no body. So:

1. the channel must be one of the org's (CalendarTable), else 404 (a stopped channel Google still
   posts to after a revoked grant: not counted as a forgery); its token equal (constant time, the
   same cost when the channel is unknown) and its resource id the one Google gave us, else 401
   (counted for forgery bursts, like every receiver: hub.webhooks.forgery);
2. the request is archived (``X-Goog-Channel-Token`` is in the redacted headers);
3. ``sync``: the handshake, acknowledged with nothing to do;
4. (channel id, message number) is taken once (a retried notification is acknowledged as a
   duplicate), then ONE incremental sync is enqueued on the FIFO CalendarSyncQueue; if the
   enqueue fails the mark is given back and Google gets a 503 and retries.

Nothing here calls Google: the answer is fast (Google expects a quick 2xx) and the sync runs in
CalendarSync.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types

from hub.calendar import store
from hub.calendar.channels import WEBHOOK_PROVIDER
from hub.calendar.sync import enqueue_sync
from hub.config import get_settings
from hub.credentials import validate_org_id
from hub.errors import InvalidRequestError
from hub.observability import lambda_handler, logger, metrics
from hub.orgs import require_org
from hub.webhooks.archive import archive_raw
from hub.webhooks.forgery import note_failure
from hub.webhooks.ingress import WebhookResult
from hub.webhooks.models import RawWebhook

_CHANNEL_ID = re.compile(r"^[A-Za-z0-9\-_+/=]{1,64}$")  # Google: at most 64 characters
_NUMBER = re.compile(r"^[0-9]{1,20}$")
# Compared against when the channel is unknown, so a miss costs what a hit costs.
_NO_TOKEN = "0" * 64


def _error(status: int, error: str, message: str) -> WebhookResult:
    return WebhookResult(status, {"error": error, "message": message})


def _rejected(request: RawWebhook, reason: str) -> WebhookResult:
    logger.warning("webhook_rejected", extra={"provider": WEBHOOK_PROVIDER, "org_id": request.org_id, "reason": reason})
    note_failure(request, WEBHOOK_PROVIDER, reason)
    metrics.add_metric(name="WebhookRejected", unit="Count", value=1)
    return _error(401, "unauthorized", reason)


def receive(request: RawWebhook) -> WebhookResult:
    if len(request.body) > get_settings().webhook_max_body_bytes:
        return _error(413, "payload_too_large", "a push notification has no body")
    try:
        validate_org_id(request.org_id)
        require_org(request.org_id)
    except InvalidRequestError:
        return _error(404, "not_found", "no google_calendar integration for this organisation")

    channel_id = request.header("x-goog-channel-id") or ""
    token = request.header("x-goog-channel-token") or ""
    resource_id = request.header("x-goog-resource-id") or ""
    state = request.header("x-goog-resource-state") or ""
    if not (channel_id and token and resource_id and state):
        return _rejected(request, "missing X-Goog-Channel-ID/-Token, X-Goog-Resource-ID/-State headers")
    channel = store.get_channel(request.org_id, channel_id) if _CHANNEL_ID.fullmatch(channel_id) else None
    expected = channel.token_hash if channel else _NO_TOKEN
    token_ok = hmac.compare_digest(store.token_hash(token).encode("ascii"), expected.encode("ascii"))
    resource_ok = channel is not None and hmac.compare_digest(
        resource_id.encode("utf-8"), channel.resource_id.encode("utf-8")
    )
    if channel is None:
        # A channel we stopped or never made: after a revoked grant Google keeps posting to the
        # old channels until they expire, so this is not counted as a forgery (no false alert).
        logger.warning("calendar_push_unknown_channel", extra={"org_id": request.org_id})
        metrics.add_metric(name="WebhookRejected", unit="Count", value=1)
        return _error(404, "unknown_channel", "no such channel for this organisation")
    if not (token_ok and resource_ok):
        return _rejected(request, "wrong token or resource for this channel")

    try:
        raw_ref = archive_raw(request)
    except Exception:  # noqa: BLE001 - whatever broke, Google must get a 503 and retry
        logger.exception("webhook_archive_failed", extra={"provider": WEBHOOK_PROVIDER, "org_id": request.org_id})
        return _error(503, "archive_unavailable", "could not store the notification; retry later")

    if state == "sync":
        return WebhookResult(200, {"status": "handshake"})
    number = request.header("x-goog-message-number") or ""
    if not _NUMBER.fullmatch(number):
        return _error(400, "invalid_payload", "X-Goog-Message-Number must be a number")
    if not store.claim_push(request.org_id, channel.channel_id, number):
        metrics.add_metric(name="WebhookDuplicate", unit="Count", value=1)
        return WebhookResult(200, {"status": "duplicate"})
    try:
        enqueue_sync(
            request.org_id, channel.calendar_id, reason=state[:20], dedupe=f"push:{channel.channel_id}:{number}"
        )
    except Exception:  # noqa: BLE001 - Google retries a 503; the mark must not swallow that retry
        logger.exception("calendar_sync_enqueue_failed", extra={"org_id": request.org_id})
        try:
            store.release_push(request.org_id, channel.channel_id, number)
        except Exception:  # noqa: BLE001 - the retry then counts as a duplicate; logged
            logger.exception("calendar_push_release_failed", extra={"org_id": request.org_id})
        return _error(503, "enqueue_unavailable", "could not enqueue the sync; retry later")
    metrics.add_metric(name="WebhookAccepted", unit="Count", value=1)
    logger.info(
        "webhook_accepted",
        extra={"provider": WEBHOOK_PROVIDER, "org_id": request.org_id, "state": state[:20], "raw_ref": raw_ref},
    )
    return WebhookResult(200, {"status": "accepted"})


def _json(result: WebhookResult) -> Response[str]:
    return Response(
        status_code=result.status_code, content_type=content_types.APPLICATION_JSON, body=json.dumps(result.body)
    )


def respond(event: Mapping[str, Any], org_id: str) -> Response[str]:
    request = RawWebhook.from_api_gateway(
        event, provider=WEBHOOK_PROVIDER, org_id=org_id, received_at=datetime.now(UTC)
    )
    return _json(receive(request))


def google_calendar_handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """WebhookGoogleCalendar's Lambda handler."""
    app = APIGatewayRestResolver()

    @app.post(f"/webhooks/{WEBHOOK_PROVIDER}/<org_id>")
    def notification(org_id: str) -> Response[str]:
        return respond(app.current_event.raw_event, org_id)

    @lambda_handler
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return app.resolve(event, context)

    return handler
