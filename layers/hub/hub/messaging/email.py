"""Email sends: Resend first, Amazon SES as fallback (the seed's fallback table), one or a batch.

Before anything is sent: addresses validated, every recipient checked against the org's
suppression list and consent (a suppressed address refuses the send, naming which field),
attachments read from our buckets (the org's own prefix only).

Fallback to SES happens only when Resend is known not to have taken the email: its breaker
is open, it is unreachable or answered 5xx/429, or the org has no (or rejected) Resend
credentials. A read timeout is not a fallback: Resend may have accepted the email, and
retrying later with the same ``Idempotency-Key`` is the only way not to send it twice.
An InvalidRequestError (a bad address, a reused key with a different body) is final.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from hub.credentials import validate_org_id
from hub.emails import (
    MAX_CUSTOM_HEADERS,
    MAX_HEADER_LENGTH,
    headers_problem,
    normalise_email,
    normalise_sender,
    one_line_problem,
    tags_problem,
)
from hub.errors import AuthenticationError, HubError, InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.messaging import contacts, records
from hub.messaging.media import StoredObject, read_object
from hub.messaging.records import SendContext
from hub.messaging.settings import MessagingSettings, messaging_settings
from hub.observability import logger
from hub.providers import ports
from hub.providers.outbound import EmailAttachment, OutboundEmail, SentEmail
from hub.requests import IdempotencyKey, OperationRequest, OrgId

EmailProvider = str  # "resend" | "ses"
EMAIL_PROVIDERS: tuple[str, ...] = ("resend", "ses")
# Resend's limit for one email with its attachments (https://resend.com/docs/api-reference/emails/send-email).
MAX_ATTACHMENT_BYTES = 40 * 1024 * 1024
T = TypeVar("T")


class AttachmentRef(StoredObject):
    filename_override: str | None = Field(None, alias="filename", min_length=1, max_length=255)

    @field_validator("filename_override")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        return _one_line(value) if value is not None else None


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _one_line(value: str) -> str:
    problem = one_line_problem(value)
    if problem:
        raise ValueError(problem)
    return value


# An address with a display name ("Maria Souza <maria@example.com>") fits a header line; bare
# addresses are at most 254 characters (RFC 5321 §4.5.3.1.3 path limit).
Address = Annotated[str, Field(min_length=3, max_length=MAX_HEADER_LENGTH), AfterValidator(_one_line)]
# Gmail clips HTML bodies over 102 KB (https://www.spamresource.com/2022/01/what-is-gmail-clipping-and-what-to-do.html);
# five times that is far more than any real email, and still a bounded field. Resend and SES take
# up to 40 MB per email with attachments (https://resend.com/docs/api-reference/emails/send-email,
# https://docs.aws.amazon.com/ses/latest/dg/quotas.html), and a Lambda invocation at most 6 MB.
EMAIL_BODY_MAX = 512_000


class EmailContent(OperationRequest):
    """One email as callers describe it (addresses as strings, attachments by reference).

    Every address, the subject, each header and tag is one line (no CR/LF or other control
    character); only the custom headers in :data:`hub.emails.ALLOWED_HEADERS` are accepted.
    The same rules hold again in :class:`~hub.providers.outbound.OutboundEmail`."""

    model_config = ConfigDict(str_strip_whitespace=True, populate_by_name=True)

    from_: Address | None = Field(None, alias="from", description="default: the org's email_from")
    to: list[Address] = Field(min_length=1, max_length=50)
    cc: list[Address] = Field(default_factory=list, max_length=50)
    bcc: list[Address] = Field(default_factory=list, max_length=50)
    reply_to: list[Address] = Field(default_factory=list, max_length=10)
    subject: str = Field(min_length=1, max_length=MAX_HEADER_LENGTH)
    html: str | None = Field(None, max_length=EMAIL_BODY_MAX)
    text: str | None = Field(None, max_length=EMAIL_BODY_MAX)
    tags: dict[str, str] = Field(default_factory=dict, max_length=20)
    headers: dict[str, str] = Field(default_factory=dict, max_length=MAX_CUSTOM_HEADERS)

    _lists = field_validator("to", "cc", "bcc", "reply_to", mode="before")(_as_list)

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        return _one_line(value)

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        problem = headers_problem(value)
        if problem:
            raise ValueError(problem[1])
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        problem = tags_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _has_body(self) -> EmailContent:
        if not self.html and not self.text:
            raise ValueError("give html or text")
        return self


class EmailSendRequest(EmailContent):
    org_id: OrgId
    attachments: list[AttachmentRef] = Field(default_factory=list, max_length=10)
    provider: str | None = Field(None, pattern="^(resend|ses)$", description="default: Resend, then SES")
    idempotency_key: IdempotencyKey | None = None


class EmailSendBatchRequest(OperationRequest):
    org_id: OrgId
    emails: list[EmailContent] = Field(min_length=1, max_length=100)
    provider: str | None = Field(None, pattern="^(resend|ses)$")
    idempotency_key: IdempotencyKey | None = None


class EmailSent(BaseModel):
    channel: str = "email"
    provider: str
    message_id: str
    to: list[str]
    status: str = "queued"
    failed_attempts: dict[str, str] = Field(default_factory=dict, description="providers tried before, and why")


class BatchItemResult(BaseModel):
    index: int
    status: str = Field(description="queued, or refused (suppressed / opted out; nothing was sent)")
    provider: str | None = None
    message_id: str | None = None
    error: str | None = None


class EmailBatchSent(BaseModel):
    results: list[BatchItemResult]
    failed_attempts: dict[str, str] = Field(default_factory=dict)


# ----- building -------------------------------------------------------------------------------


def _check_recipients(org_id: str, content: EmailContent, settings: MessagingSettings) -> OutboundEmail:
    """Validated addresses, every recipient allowed to receive mail from this org."""
    fields: dict[str, list[str]] = {}
    for name in ("to", "cc", "bcc", "reply_to"):
        values: list[str] = getattr(content, name)
        fields[name] = [normalise_email(v, field=f"{name}[{i}]") for i, v in enumerate(values)]
    sender = content.from_ or settings.email_from
    if not sender:
        raise InvalidRequestError("from is required (or set email_from in the org's messaging settings)")
    reply_to = fields["reply_to"] or ([normalise_email(settings.email_reply_to)] if settings.email_reply_to else [])
    for name in ("to", "cc", "bcc"):
        for i, address in enumerate(fields[name]):
            state = contacts.get_channel_state(org_id, "email", address)
            refusal = contacts.refusal(state, require_opt_in=settings.require_opt_in)
            if refusal is not None:
                raise InvalidRequestError(f"{name}[{i}]: {refusal.message}", code=refusal.code)
    return OutboundEmail(
        from_address=normalise_sender(sender),
        to=fields["to"],
        cc=fields["cc"],
        bcc=fields["bcc"],
        reply_to=reply_to,
        subject=content.subject,
        html=content.html,
        text=content.text,
        tags=content.tags,
        headers=content.headers,
    )


def _attachments(org_id: str, refs: list[AttachmentRef]) -> list[EmailAttachment]:
    out: list[EmailAttachment] = []
    budget = MAX_ATTACHMENT_BYTES
    for i, ref in enumerate(refs):
        data = read_object(org_id, ref, field=f"attachments[{i}]", max_bytes=budget)
        budget -= len(data)
        out.append(
            EmailAttachment(filename=ref.filename_override or ref.filename, content=data, content_type=ref.content_type)
        )
    return out


# ----- provider fallback -------------------------------------------------------------------------


def _falls_back(exc: HubError) -> bool:
    if isinstance(exc, ProviderUnavailableError):
        return exc.code != "read_timeout"  # Resend may have taken it: retry later, same key
    return isinstance(exc, (RateLimitedError, AuthenticationError))


def _with_fallback(
    org_id: str, providers: list[str], send: Callable[[ports.EmailSender], T]
) -> tuple[str, T, dict[str, str]]:
    failed: dict[str, str] = {}
    last: HubError | None = None
    for provider in providers:
        try:
            return provider, send(ports.email_sender(org_id, provider)), failed
        except InvalidRequestError:
            raise
        except HubError as exc:
            if not _falls_back(exc):
                raise
            failed[provider] = f"{type(exc).__name__}: {exc.message}"
            logger.warning("email_provider_failed", extra={"provider": provider, "error": type(exc).__name__})
            last = exc
    assert last is not None
    raise last


def send_email(request: EmailSendRequest, context: SendContext | None = None) -> EmailSent:
    validate_org_id(request.org_id)
    settings = messaging_settings(request.org_id)
    email = _check_recipients(request.org_id, request, settings)
    attachments = _attachments(request.org_id, request.attachments)
    if attachments:
        email = email.model_copy(update={"attachments": attachments})
    key = request.idempotency_key or str(uuid.uuid4())
    providers = [request.provider] if request.provider else list(EMAIL_PROVIDERS)
    provider, sent, failed = _with_fallback(
        request.org_id, providers, lambda client: client.send_email(email, idempotency_key=key)
    )
    _record(request.org_id, sent, context)
    return EmailSent(provider=provider, message_id=sent.email_id, to=sent.to, failed_attempts=failed)


def _record(org_id: str, sent: SentEmail, context: SendContext | None) -> None:
    records.record_sent(
        org_id, sent.email_id, channel="email", provider=sent.provider, to=", ".join(sent.to), context=context
    )


def send_batch(request: EmailSendBatchRequest) -> EmailBatchSent:
    """Up to 100 emails in one Resend call (no attachments there); SES sends them one by one
    when Resend is down. A suppressed recipient refuses that email only, reported by index."""
    validate_org_id(request.org_id)
    settings = messaging_settings(request.org_id)
    results: dict[int, BatchItemResult] = {}
    ready: list[tuple[int, OutboundEmail]] = []
    for index, content in enumerate(request.emails):
        try:
            ready.append((index, _check_recipients(request.org_id, content, settings)))
        except InvalidRequestError as exc:
            if exc.code not in ("suppressed", "opted_out", "no_opt_in"):
                raise InvalidRequestError(f"emails[{index}]: {exc.message}", code=exc.code) from None
            results[index] = BatchItemResult(index=index, status="refused", error=exc.message)
    failed: dict[str, str] = {}
    if ready:
        key = request.idempotency_key or str(uuid.uuid4())
        emails = [email for _, email in ready]
        providers = [request.provider] if request.provider else list(EMAIL_PROVIDERS)
        # Resend sends them in one call; SES (no batch call) one by one under derived keys.
        provider, sent, failed = _with_fallback(
            request.org_id, providers, lambda client: client.send_batch(emails, idempotency_key=key)
        )
        for (index, _), item in zip(ready, sent, strict=True):
            _record(request.org_id, item, None)
            results[index] = BatchItemResult(index=index, status="queued", provider=provider, message_id=item.email_id)
    return EmailBatchSent(results=[results[i] for i in sorted(results)], failed_attempts=failed)
