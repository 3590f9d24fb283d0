"""The messages outbox: sends that may wait. Over a rate limit they are delayed, not dropped.

Callers with many messages (an SDR campaign, a newsletter) put one SQS message per send on
``MessagesOutboxQueue``: ``{"operation": "whatsapp.send_text" | "whatsapp.send_media" |
"whatsapp.send_template" | "sms.send" | "email.send", "request": {...the function's payload,
with an idempotency_key}}``. ``MessagesOutboxProcess`` runs the same code as the direct
functions, once per idempotency key:

* a limit spent (the WhatsApp tier's daily messages, Twilio's throughput, Resend's 10/s)
  raises RateLimitedError and the message comes back after ``retry_after``;
* a provider down comes back after 5 s, then lands in the DLQ (redrivable);
* a refusal that no retry can fix (opted out, suppressed, invalid number, missing
  credentials, an idempotency key reused for another message) is consumed and announced as
  ``message.rejected`` on the bus, so the sender learns of it;
* a send queued before its contact was erased (LGPD ``ContactErase``, the queue's
  SentTimestamp against the erasure's time kept as a hash) is refused (``contact_erased``);
* a send whose answer was lost (``OutcomeUnknownError``) is never sent again by the outbox:
  it is consumed and announced as ``message.outcome_unknown`` with its idempotency key. The
  same request again (directly or through the outbox) resolves it first (docs/errors.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hub import idempotency, orgs
from hub.bus import put_event
from hub.emails import normalise_email
from hub.errors import (
    AuthenticationError,
    HubError,
    IdempotencyConflictError,
    InvalidRequestError,
    OutcomeUnknownError,
)
from hub.invocation import parse_request
from hub.messaging import contacts
from hub.messaging.email import EmailSendRequest, send_email
from hub.messaging.sms import SmsSendRequest, send_sms
from hub.messaging.whatsapp import (
    SendMediaRequest,
    SendTemplateRequest,
    SendTextRequest,
    send_media,
    send_template,
    send_text,
)
from hub.observability import logger
from hub.phones import to_e164

OPERATIONS: dict[str, tuple[type[BaseModel], Callable[[Any], BaseModel]]] = {
    "whatsapp.send_text": (SendTextRequest, send_text),
    "whatsapp.send_media": (SendMediaRequest, send_media),
    "whatsapp.send_template": (SendTemplateRequest, send_template),
    "sms.send": (SmsSendRequest, send_sms),
    "email.send": (EmailSendRequest, send_email),
}


class OutboxMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operation: str = Field(pattern="^(" + "|".join(k.replace(".", r"\.") for k in OPERATIONS) + ")$")
    request: dict[str, Any]


def _announce(detail_type: str, message: OutboxMessage, exc: HubError) -> None:
    detail = {
        "operation": message.operation,
        "org_id": message.request.get("org_id"),
        "idempotency_key": message.request.get("idempotency_key"),
        "error": {"type": type(exc).__name__, "code": exc.code, "message": exc.message},
        "at": datetime.now(UTC).isoformat(),
    }
    put_event(detail_type, detail)


def _recipients(operation: str, request: BaseModel) -> list[tuple[str, str]]:
    """(channel, normalised address) of everyone the queued send would reach."""
    if operation == "email.send":
        addresses = [*getattr(request, "to", []), *getattr(request, "cc", []), *getattr(request, "bcc", [])]
        return [("email", normalise_email(a)) for a in addresses]
    channel = "sms" if operation == "sms.send" else "whatsapp"
    return [(channel, to_e164(getattr(request, "to", "")))]


def _refuse_if_erased(operation: str, org_id: str, request: BaseModel, queued_at: datetime) -> None:
    """A send queued before its contact was erased (LGPD ``ContactErase``) is not sent."""
    try:
        recipients = _recipients(operation, request)
    except InvalidRequestError:
        return  # the send itself refuses the address, naming the field
    if contacts.erased_after(org_id, recipients, queued_at):
        raise InvalidRequestError(
            "a recipient of this send was erased (LGPD) after it was queued; it is not sent", code="contact_erased"
        )


def send_from_outbox(body: str, queued_at: datetime | None = None) -> dict[str, Any]:
    """One outbox message: validate, send at most once, or announce why it never will.
    ``queued_at`` (SQS SentTimestamp): a send queued before its contact was erased is refused."""
    try:
        message = parse_request(OutboxMessage, json.loads(body))
    except json.JSONDecodeError:
        raise InvalidRequestError("outbox message is not JSON") from None
    model, run = OPERATIONS[message.operation]
    try:
        orgs.require_org(message.request.get("org_id"))  # exactly as sent, and registered
        request = parse_request(model, message.request)
        key = getattr(request, "idempotency_key", None)
        if not key:
            # A redelivered message without a key could be sent twice.
            raise InvalidRequestError("outbox requests need an idempotency_key", code="missing_idempotency_key")
        org_id: str = getattr(request, "org_id", "")
        if queued_at is not None:
            _refuse_if_erased(message.operation, org_id, request, queued_at)
        return idempotency.run_once(
            message.operation,
            org_id,
            key,
            lambda: run(request).model_dump(mode="json", exclude_none=True),
            payload=request.model_dump(mode="json", exclude={"idempotency_key"}),
        )
    except OutcomeUnknownError as exc:
        # Consumed, never redelivered: a retry by the queue could be a second message.
        _announce("message.outcome_unknown", message, exc)
        logger.warning(
            "outbox_message_outcome_unknown",
            extra={"operation": message.operation, "error": type(exc).__name__, "code": exc.code},
        )
        return {"status": "outcome_unknown", "idempotency_key": key}
    except IdempotencyConflictError as exc:
        _announce("message.rejected", message, exc)
        logger.warning("outbox_message_rejected", extra={"operation": message.operation, "error": type(exc).__name__})
        # Consumed like any refusal: no retry can make a reused key name this message.
        raise InvalidRequestError(exc.message, code=exc.code) from None
    except (InvalidRequestError, AuthenticationError) as exc:
        _announce("message.rejected", message, exc)
        logger.warning(
            "outbox_message_rejected",
            extra={"operation": message.operation, "error": type(exc).__name__, "code": exc.code},
        )
        raise
