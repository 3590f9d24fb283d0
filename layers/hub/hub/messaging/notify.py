"""NotifyContact: reach a contact on the first channel that works — WhatsApp → SMS → email —
and tell the requester when none does (the seed's fallback table, run by Step Functions).

``NotifyContact`` plans the run and starts the ``NotifyContactChain`` execution:
channels the contact has no address for, has opted out of or is suppressed on are skipped
up front (and reported), the rest are tried in order by the chain, each attempt a
``NotifyChannelSend`` task. Any failure of a channel — down, rate limited, a number not
on WhatsApp, outside the 24-hour window without a template — moves on to the next one;
when all fail, the request is parked in the manual-retry queue and ``notification.failed``
(with the requester) goes on the hub's bus.

Exactly once: the execution is named after the notification id (StartExecution with the
same name and input is idempotent), and each channel attempt runs under the idempotency
key ``{notification_id}:{channel}``, so a retried task never sends twice.

A WhatsApp message Meta fails after accepting it (131047, outside the window) restarts
the chain from SMS once (:func:`continue_after_failure`).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import uuid
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub import idempotency
from hub.aws import aws_client
from hub.config import get_settings
from hub.credentials import validate_org_id
from hub.emails import CONTROL_CHARACTERS, MAX_EMAIL_INPUT, MAX_HEADER_LENGTH, normalise_email, one_line_problem
from hub.errors import InvalidRequestError
from hub.messaging import contacts, records
from hub.messaging.email import EMAIL_BODY_MAX, EmailSendRequest, send_email
from hub.messaging.records import SendContext
from hub.messaging.settings import messaging_settings
from hub.messaging.sms import SmsSendRequest, send_sms
from hub.messaging.whatsapp import (
    SendTemplateRequest,
    SendTextRequest,
    send_template,
    send_text,
)
from hub.observability import logger
from hub.phones import MAX_PHONE_INPUT, to_e164
from hub.providers.outbound import Channel, WhatsAppTemplate
from hub.requests import OperationRequest, OrgId

CHANNELS: tuple[Channel, ...] = ("whatsapp", "sms", "email")
SMS_MAX = 1600
NOTIFICATION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ContactAddresses(OperationRequest):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, max_length=MAX_PHONE_INPUT)
    email: str | None = Field(None, max_length=MAX_EMAIL_INPUT)


class NotificationContent(OperationRequest):
    text: str = Field(min_length=1, max_length=4096, description="WhatsApp and SMS body; email text part")
    subject: str | None = Field(
        None, max_length=MAX_HEADER_LENGTH, description="email subject (default: the text's first line)"
    )
    html: str | None = Field(None, max_length=EMAIL_BODY_MAX, description="email HTML (default: the text, escaped)")

    @field_validator("subject")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        problem = one_line_problem(value) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value


class Requester(OperationRequest):
    """Who asked; told (on the bus) when no channel reached the contact."""

    service: str | None = Field(None, max_length=100)
    user_id: str | None = Field(None, max_length=100)
    email: str | None = Field(None, max_length=MAX_EMAIL_INPUT)


class NotifyContactRequest(OperationRequest):
    org_id: OrgId
    contact: ContactAddresses
    message: NotificationContent
    channels: list[Channel] = Field(default_factory=lambda: list(CHANNELS), min_length=1, max_length=3)
    requester: Requester = Field(default_factory=Requester)
    notification_id: str | None = Field(None, max_length=64, description="idempotency key of the whole notification")
    whatsapp_template: WhatsAppTemplate | None = Field(
        None, description="sent instead of the text when the Cloud API's 24-hour window is closed"
    )

    @field_validator("channels")
    @classmethod
    def _unique(cls, value: list[Channel]) -> list[Channel]:
        if len(set(value)) != len(value):
            raise ValueError("channels must not repeat")
        return value

    @field_validator("notification_id")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        if value is not None and not NOTIFICATION_ID.fullmatch(value):
            raise ValueError("notification_id must be 1-64 letters, digits, '-' or '_'")
        return value


class NotificationStarted(BaseModel):
    notification_id: str
    execution_arn: str
    status: str = Field(description="started, or duplicate (this notification_id was already started)")
    channels: list[Channel] = Field(description="the channels the chain will try, in order")
    skipped: dict[str, str] = Field(default_factory=dict, description="channel -> why it is not tried")


class ChannelSendRequest(OperationRequest):
    """One attempt of the chain (NotifyChannelSend's payload): the planned request plus the
    channel the chain is on (``provider``) and the execution. Written by the hub's own state
    machine, which passes the whole chain state along: other fields are ignored, not refused."""

    model_config = ConfigDict(extra="ignore")

    org_id: OrgId
    notification_id: str = Field(pattern=NOTIFICATION_ID.pattern)
    provider: Channel
    contact: ContactAddresses
    message: NotificationContent
    whatsapp_template: WhatsAppTemplate | None = None
    execution_arn: str | None = Field(None, max_length=2048)


# ----- planning -------------------------------------------------------------------------------


def _address(contact: ContactAddresses, channel: Channel) -> str | None:
    if channel == "email":
        return contact.email
    return contact.phone


def plan(request: NotifyContactRequest) -> tuple[ContactAddresses, list[Channel], dict[str, str]]:
    """Normalised addresses, the channels to try and why the others are skipped."""
    validate_org_id(request.org_id)
    contact = ContactAddresses(
        name=request.contact.name,
        phone=to_e164(request.contact.phone, field="contact.phone") if request.contact.phone else None,
        email=normalise_email(request.contact.email, field="contact.email") if request.contact.email else None,
    )
    if request.requester.email:
        normalise_email(request.requester.email, field="requester.email")
    settings = messaging_settings(request.org_id)
    planned: list[Channel] = []
    skipped: dict[str, str] = {}
    for channel in request.channels:
        address = _address(contact, channel)
        if address is None:
            skipped[channel] = f"the contact has no {'email' if channel == 'email' else 'phone'}"
            continue
        if channel == "sms" and len(request.message.text) > SMS_MAX:
            skipped[channel] = f"the text is longer than an SMS ({SMS_MAX} characters)"
            continue
        state = contacts.get_channel_state(request.org_id, channel, address)
        refusal = contacts.refusal(state, require_opt_in=settings.require_opt_in)
        if refusal is not None:
            skipped[channel] = refusal.message
            continue
        planned.append(channel)
    return contact, planned, skipped


def _execution_name(org_id: str, notification_id: str, suffix: str = "") -> str:
    # Step Functions names: ≤80 characters of letters, digits, '-' and '_'. Long ids are
    # hashed rather than cut, so a suffix never falls off and two ids never collide.
    name = f"{org_id}--{notification_id}{suffix}"
    if len(name) > 80:
        name = hashlib.sha256(f"{org_id}--{notification_id}".encode()).hexdigest()[:56] + suffix
    return name


def _start(name: str, payload: dict[str, Any]) -> tuple[str, str]:
    """(execution_arn, started|duplicate)."""
    machine = get_settings().require("notify_state_machine_arn")
    client = aws_client("stepfunctions")
    try:
        response = client.start_execution(stateMachineArn=machine, name=name, input=json.dumps(payload))
        return str(response["executionArn"]), "started"
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ExecutionAlreadyExists":
            raise
    # Same notification id, different content (or plan): the first run stands.
    arn = machine.replace(":stateMachine:", ":execution:", 1) + f":{name}"
    return arn, "duplicate"


def notify_contact(request: NotifyContactRequest) -> NotificationStarted:
    contact, planned, skipped = plan(request)
    if not planned:
        reasons = "; ".join(f"{channel}: {why}" for channel, why in skipped.items())
        raise InvalidRequestError(f"no channel can reach this contact ({reasons})", code="unreachable")
    notification_id = request.notification_id or uuid.uuid4().hex
    chain_request = {
        "org_id": request.org_id,
        "notification_id": notification_id,
        "contact": contact.model_dump(mode="json"),
        "message": request.message.model_dump(mode="json"),
        "requester": request.requester.model_dump(mode="json"),
        "plan": {channel: channel in planned for channel in CHANNELS},
        "skipped": skipped,
    }
    if request.whatsapp_template is not None:
        chain_request["whatsapp_template"] = request.whatsapp_template.model_dump(mode="json")
    arn, status = _start(_execution_name(request.org_id, notification_id), {"request": chain_request})
    logger.info(
        "notification_started",
        extra={"org_id": request.org_id, "notification_id": notification_id, "channels": planned, "status": status},
    )
    return NotificationStarted(
        notification_id=notification_id, execution_arn=arn, status=status, channels=planned, skipped=skipped
    )


# ----- one channel attempt (NotifyChannelSend) --------------------------------------------------


def _subject(message: NotificationContent) -> str:
    if message.subject:
        return message.subject
    first = message.text.strip().splitlines()[0] if message.text.strip() else ""
    # A subject is one line: tabs and other control characters of the text become spaces.
    first = " ".join(CONTROL_CHARACTERS.sub(" ", first).split())
    return first[:78] or "Mensagem"


def _send_on(request: ChannelSendRequest) -> dict[str, Any]:
    context = SendContext(notification_id=request.notification_id, execution_arn=request.execution_arn)
    channel = request.provider
    address = _address(request.contact, channel)
    if address is None:
        raise InvalidRequestError(f"the contact has no address for {channel}", code="no_address")
    if channel == "whatsapp":
        text = SendTextRequest(
            org_id=request.org_id, to=address, text=request.message.text, contact_name=request.contact.name
        )
        try:
            return send_text(text, context).model_dump(mode="json")
        except InvalidRequestError as exc:
            if exc.code not in ("outside_service_window", "131047") or request.whatsapp_template is None:
                raise
        template = SendTemplateRequest(org_id=request.org_id, to=address, template=request.whatsapp_template)
        return send_template(template, context).model_dump(mode="json")
    if channel == "sms":
        sms = SmsSendRequest(org_id=request.org_id, to=address, body=request.message.text)
        return send_sms(sms, context).model_dump(mode="json")
    email = EmailSendRequest(
        org_id=request.org_id,
        to=[address],
        subject=_subject(request.message),
        text=request.message.text,
        html=request.message.html or "<p>" + html.escape(request.message.text).replace("\n", "<br>") + "</p>",
        tags={"notification_id": request.notification_id},
        idempotency_key=f"{request.notification_id}:email",
    )
    return send_email(email, context).model_dump(mode="json")


def send_on_channel(request: ChannelSendRequest) -> dict[str, Any]:
    """Send the notification on one channel, at most once per notification and channel."""
    return idempotency.run_once(
        f"notify.{request.provider}",
        request.org_id,
        f"{request.notification_id}:{request.provider}",
        lambda: _send_on(request),
        payload=request.model_dump(mode="json", exclude={"execution_arn"}),
    )


# ----- after a late failure -----------------------------------------------------------------------


def continue_after_failure(org_id: str, message_id: str, *, reason: str) -> str | None:
    """A message the provider failed after accepting it (WhatsApp 131047 and the like): if
    it was sent by a NotifyContact run, start the chain again without that channel — once.
    Returns the new execution's ARN, or None when there is nothing to continue."""
    notification_id, execution_arn = records.execution_of(org_id, message_id)
    if not notification_id or not execution_arn:
        return None
    try:
        described = aws_client("stepfunctions").describe_execution(executionArn=execution_arn)
    except ClientError as exc:
        logger.warning("notification_not_found", extra={"execution": execution_arn, "error": str(exc)[:200]})
        return None
    payload = json.loads(described.get("input") or "{}")
    chain_request = payload.get("request") or {}
    plan_map: dict[str, bool] = dict(chain_request.get("plan") or {})
    record = records.get_record(org_id, message_id)
    failed_channel = record.channel or "whatsapp"
    # Channels up to the failed one were tried already (they failed or were skipped).
    for channel in CHANNELS[: CHANNELS.index(failed_channel) + 1]:
        plan_map[channel] = False
    if not any(plan_map.values()):
        return None
    chain_request["plan"] = plan_map
    chain_request.setdefault("skipped", {})[failed_channel] = f"failed after sending: {reason}"[:300]
    arn, status = _start(
        _execution_name(org_id, notification_id, f"-after-{failed_channel}"), {"request": chain_request}
    )
    logger.info(
        "notification_continued", extra={"org_id": org_id, "notification_id": notification_id, "status": status}
    )
    return arn
