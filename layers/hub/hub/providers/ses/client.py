"""Amazon SES (API v2) email sending through boto3, under the shared resilience rules.

The provider's API facts this module relies on, with their doc links: README.md.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from typing import Any, ClassVar, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from pydantic import Field

from hub.aws import aws_provider_client
from hub.emails import RESERVED_HEADERS  # one list: OutboundEmail refuses them first
from hub.errors import (
    AuthenticationError,
    ConfigurationError,
    HubError,
    InvalidRequestError,
    OutcomeUnknownError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.providers.base.client import ProviderClient, ProviderCredentials
from hub.providers.outbound import OutboundEmail, SentEmail

T = TypeVar("T")

# The shared clients' settings (hub.aws), for a client in a region other than the Lambda's.
REGIONAL_CONFIG = Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=3, read_timeout=10)

# https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_MessageTag.html
TAG_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas-errors.html: after a throttling
# error "wait for an interval of up to 10 minutes" -- the daily quota is a rolling 24 h window.
DAILY_QUOTA_RETRY_AFTER = 600.0
RATE_RETRY_AFTER = 1.0
# SMTP line endings; non-ASCII bodies are quoted-printable/base64 encoded, never raw 8-bit
# (https://docs.aws.amazon.com/ses/latest/dg/send-email-raw.html).
MIME_POLICY = email_policy.SMTP.clone(cte_type="7bit")

# Content.Simple limits (API_Message.html, API_MessageHeader.html, API_Attachment.html).
SIMPLE_MAX_HEADERS = 15
SIMPLE_HEADER_VALUE = re.compile(r"^[ -~]{1,870}$")
SIMPLE_CONTENT_TYPE = re.compile(r"^[!-~]{1,78}$")
CHARSET = "UTF-8"

# SES error code -> taxonomy (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html).
INVALID_REQUEST_CODES = frozenset(
    {"MessageRejected", "MailFromDomainNotVerifiedException", "BadRequestException", "NotFoundException"}
)
# Sending is disabled for the account (suspended for good, or paused -- e.g. for its bounce or
# complaint rate). Not the caller's fault, and no retry helps until someone acts in the SES
# console: AuthenticationError, like a rejected credential. It stops the chain's use of SES (the
# fallback provider sends) and, because it carries an HTTP status, ``guarded`` disables the org's
# SES integration until it is re-enabled.
SENDING_DISABLED_CODES = frozenset({"AccountSuspendedException", "SendingPausedException"})
RATE_LIMIT_CODES = frozenset(
    {"TooManyRequestsException", "LimitExceededException", "Throttling", "ThrottlingException"}
)
# The Lambda role may not send (IAM) or its session is broken.
ACCESS_CODES = frozenset(
    {
        "AccessDeniedException",
        "AccessDenied",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredTokenException",
        "SignatureDoesNotMatch",
    }
)


class SesCredentials(ProviderCredentials):
    """Configuration, not credentials: the IAM role authenticates."""

    from_address: str | None = Field(None, description="default sender when an email has none")
    configuration_set: str | None = Field(None, min_length=1, max_length=64)
    region: str | None = Field(None, min_length=1, description="SES region, if not the Lambda's")


class SesClient(ProviderClient):
    provider: ClassVar[str] = "ses"
    credentials_model: ClassVar[type[ProviderCredentials]] = SesCredentials
    idempotency_header: ClassVar[str | None] = None  # no HTTP requests; SES has no idempotency key

    credentials: SesCredentials

    def __init__(self, credentials: ProviderCredentials, *, ses: Any = None, **kwargs: Any) -> None:
        """``ses``: a boto3 ``sesv2`` client to use instead of the shared one (tests)."""
        super().__init__(credentials, **kwargs)
        self._ses = ses

    def auth_headers(self) -> dict[str, str]:
        return {}  # the IAM role signs every SDK call

    @property
    def ses(self) -> Any:
        if self._ses is None:
            region = self.credentials.region
            if region:
                # A region other than the Lambda's: a client of its own, configured like hub.aws's.
                self._ses = boto3.client("sesv2", region_name=region, config=REGIONAL_CONFIG)
            else:
                self._ses = aws_provider_client("sesv2")
        return self._ses

    def breaker_scope(self) -> str:
        return f"{self.provider}#{self.credentials.region}" if self.credentials.region else self.provider

    # ----- the SDK call under the resilience rules -----------------------------------------
    def _call(self, call: Callable[[], T], *, operation: str | None = None, cost: int = 1) -> T:
        effect = operation == "send"  # only a send can have happened without its answer

        def attempt() -> T:
            try:
                return call()
            except ClientError as exc:
                raise self.classify_client_error(exc) from None
            except BotoCoreError as exc:
                raise self.classify_botocore_error(exc, effect=effect) from None

        return self.guarded(attempt, operation=operation, cost=cost)

    def classify_client_error(self, exc: ClientError) -> HubError:
        """Map an SES error answer to the taxonomy."""
        error = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        code = str(error.get("Code") or "Unknown")
        message = str(error.get("Message") or code)[:300]
        status = meta.get("HTTPStatusCode")
        common: dict[str, Any] = {
            "provider": self.provider,
            "http_status": status,
            "code": code,
            "request_id": meta.get("RequestId"),
        }
        text = f"ses answered {code}: {message}"
        if code in RATE_LIMIT_CODES or status == 429:
            daily = "daily" in message.lower()
            retry_after = DAILY_QUOTA_RETRY_AFTER if daily else RATE_RETRY_AFTER
            return RateLimitedError(text, retry_after=retry_after, **common)
        if code in SENDING_DISABLED_CODES:
            return AuthenticationError(f"SES sending is disabled for this account: {text}", **common)
        if code in ACCESS_CODES or status in (401, 403):
            return AuthenticationError(text, **common)
        if isinstance(status, int) and status >= 500:
            return ProviderUnavailableError(text, **common)
        # INVALID_REQUEST_CODES, and any other 4xx: the message or its configuration is at fault.
        return InvalidRequestError(text, **common)

    def classify_botocore_error(self, exc: BotoCoreError, *, effect: bool = True) -> HubError:
        """``effect``: the call was a send. A send whose answer was lost (read timeout, connection
        closed after the request went out) is an unknown outcome; a read that timed out is not."""
        name = type(exc).__name__
        if effect and isinstance(exc, (ReadTimeoutError, ConnectionClosedError)):
            # SES may have taken the message: an unknown outcome, never retried or failed over.
            return OutcomeUnknownError(
                f"ses did not answer after the request was sent ({name}): it may have been sent",
                provider=self.provider,
                code="read_timeout" if isinstance(exc, ReadTimeoutError) else "connection_lost",
            )
        if isinstance(exc, ReadTimeoutError):
            # Slow, not down: not retried here (it would double the wait), counted by the breaker.
            return ProviderUnavailableError(
                f"ses did not answer in time ({name})", provider=self.provider, code="read_timeout"
            )
        if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError, ConnectionClosedError)):
            return ProviderUnavailableError(f"ses unreachable ({name})", provider=self.provider)
        if isinstance(exc, NoCredentialsError):
            return ConfigurationError("no AWS credentials for SES (the Lambda role)", provider=self.provider)
        return ProviderUnavailableError(f"ses call failed ({name})", provider=self.provider)

    # ----- sending ----------------------------------------------------------------------------
    def sender(self, email: OutboundEmail) -> str:
        """The email's sender, else the secret's default; a non-ASCII display name is
        RFC 2047-encoded, as SES requires for ``FromEmailAddress``."""
        sender = email.from_address.strip() or (self.credentials.from_address or "").strip()
        name, address = parseaddr(sender)
        if not address or "@" not in address:
            raise InvalidRequestError(
                "the email has no valid from_address and the ses secret has no default from_address",
                provider=self.provider,
                code="missing_from",
            )
        return formataddr((name, address)) if name else address

    def check(self, email: OutboundEmail) -> None:
        """What every send refuses before calling SES (OutboundEmail enforced most already)."""
        if email.html is None and email.text is None:
            raise InvalidRequestError("an email needs html or text", provider=self.provider, code="missing_body")
        for name in email.headers:
            if name.lower() in RESERVED_HEADERS:
                raise InvalidRequestError(
                    f"custom header {name!r} would replace one the adapter sets",
                    provider=self.provider,
                    code="reserved_header",
                )

    def address(self, value: str) -> str:
        """An address for SES's envelope fields: 7-bit ASCII, a non-ASCII display name
        RFC 2047-encoded (API_Destination.html)."""
        name, address = parseaddr(value)
        if not address or "@" not in address:
            raise InvalidRequestError("an email address is malformed", provider=self.provider, code="invalid_header")
        return formataddr((name, address)) if name else address

    def needs_raw(self, email: OutboundEmail) -> bool:
        """True when ``Content.Simple`` cannot carry the email as the MIME path sends it, so
        the hand-built message is kept for that email only:

        * a custom header value that is not printable ASCII or is longer than 870 characters
          (MessageHeader.Value; MIME encodes it with RFC 2047 and folds it -- a long
          ``References`` chain);
        * an attachment whose file name is not ASCII: the API reference does not say how SES
          encodes ``FileName`` in the message, while MIME writes it per RFC 2231;
        * an attachment type longer than 78 characters (Attachment.ContentType) or not ASCII.

        Size is not a reason: both contents share SES's 40 MB message limit."""
        if len(email.headers) > SIMPLE_MAX_HEADERS:
            return True
        if any(not SIMPLE_HEADER_VALUE.match(value) for value in email.headers.values()):
            return True
        for attachment in email.attachments:
            if not attachment.filename.isascii():
                return True
            if not SIMPLE_CONTENT_TYPE.match(self.content_type(attachment.filename, attachment.content_type)):
                return True
        return False

    @staticmethod
    def content_type(filename: str, declared: str | None) -> str:
        return declared or mimetypes.guess_type(filename)[0] or "application/octet-stream"

    def simple_content(self, email: OutboundEmail) -> dict[str, Any]:
        """``Content.Simple``: SES builds the MIME message (text and html as alternatives,
        attachments, the custom headers)."""
        body: dict[str, Any] = {}
        if email.text is not None:
            body["Text"] = {"Data": email.text, "Charset": CHARSET}
        if email.html is not None:
            body["Html"] = {"Data": email.html, "Charset": CHARSET}
        simple: dict[str, Any] = {"Subject": {"Data": email.subject, "Charset": CHARSET}, "Body": body}
        if email.headers:
            simple["Headers"] = [{"Name": name, "Value": value} for name, value in email.headers.items()]
        if email.attachments:
            simple["Attachments"] = [
                {
                    "FileName": attachment.filename,
                    "RawContent": attachment.content,
                    "ContentType": self.content_type(attachment.filename, attachment.content_type),
                    "ContentDisposition": "ATTACHMENT",
                    # SES's default is SEVEN_BIT, which would break binary files (PDF, images).
                    "ContentTransferEncoding": "BASE64",
                }
                for attachment in email.attachments
            ]
        return simple

    def build_mime(self, email: OutboundEmail) -> bytes:
        """The raw RFC 5322 message (only where :meth:`needs_raw`): text and html as
        alternatives, attachments, Reply-To and custom headers. Bcc is left out of the headers
        (it goes in the envelope only)."""
        self.check(email)
        message = EmailMessage(policy=MIME_POLICY)
        try:
            message["From"] = self.sender(email)
            message["To"] = ", ".join(email.to)
            if email.cc:
                message["Cc"] = ", ".join(email.cc)
            if email.reply_to:
                message["Reply-To"] = ", ".join(email.reply_to)
            message["Subject"] = email.subject
            message["Date"] = formatdate(usegmt=True)
            for name, value in email.headers.items():
                message[name] = value
        except ValueError:
            # CR/LF in a header value (header injection) or an unparsable address.
            raise InvalidRequestError(
                "an email header or address is malformed", provider=self.provider, code="invalid_header"
            ) from None
        if email.text is not None and email.html is not None:
            message.set_content(email.text)
            message.add_alternative(email.html, subtype="html")
        elif email.html is not None:
            message.set_content(email.html, subtype="html")
        else:
            message.set_content(email.text or "")
        for attachment in email.attachments:
            content_type = self.content_type(attachment.filename, attachment.content_type)
            maintype, _, subtype = content_type.partition("/")
            message.add_attachment(
                attachment.content,
                maintype=maintype or "application",
                subtype=subtype or "octet-stream",
                filename=attachment.filename,
            )
        return message.as_bytes()

    def email_tags(self, email: OutboundEmail) -> list[dict[str, str]]:
        for name, value in email.tags.items():
            if not TAG_PATTERN.match(name) or not TAG_PATTERN.match(value):
                raise InvalidRequestError(
                    f"email tag {name[:40]!r}: names and values may only contain ASCII letters, digits, "
                    "_ and - (1-256 characters)",
                    provider=self.provider,
                    code="invalid_tag",
                )
        return [{"Name": name, "Value": value} for name, value in email.tags.items()]

    # https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html
    def send_email(self, email: OutboundEmail, *, idempotency_key: str) -> SentEmail:
        """sesv2 SendEmail with Simple content (Raw only where :meth:`needs_raw`).
        ``idempotency_key`` is not sent (SES has none): the messaging layer dedupes sends under
        Powertools idempotency."""
        self.check(email)
        kwargs: dict[str, Any] = {
            "FromEmailAddress": self.sender(email),
            "Destination": {
                "ToAddresses": [self.address(a) for a in email.to],
                "CcAddresses": [self.address(a) for a in email.cc],
                "BccAddresses": [self.address(a) for a in email.bcc],
            },
        }
        if self.needs_raw(email):
            # Reply-To is a header of the raw message.
            kwargs["Content"] = {"Raw": {"Data": self.build_mime(email)}}
        else:
            kwargs["Content"] = {"Simple": self.simple_content(email)}
            if email.reply_to:
                kwargs["ReplyToAddresses"] = [self.address(a) for a in email.reply_to]
        tags = self.email_tags(email)
        if tags:
            kwargs["EmailTags"] = tags
        if self.credentials.configuration_set:
            kwargs["ConfigurationSetName"] = self.credentials.configuration_set
        # Every recipient counts against SES's sending rate and daily quota.
        recipients = len(email.to) + len(email.cc) + len(email.bcc)
        # SES has no idempotency key and no lookup of sent mail: after an unknown outcome the
        # recorded one is answered again (ProviderClient.effect).
        answer = self.effect(
            lambda: self._call(lambda: self.ses.send_email(**kwargs), operation="send", cost=recipients)
        )
        message_id = answer.get("MessageId") if isinstance(answer, dict) else None
        if not message_id:
            raise ProviderUnavailableError("ses accepted the email but returned no MessageId", provider=self.provider)
        return SentEmail(provider=self.provider, email_id=str(message_id), to=list(email.to))

    def send_batch(self, emails: list[OutboundEmail], *, idempotency_key: str) -> list[SentEmail]:
        """SES has no batch call (SendBulkEmail takes one template, not different emails): one
        by one, each under its own key derived from the batch's."""
        return [self.send_email(email, idempotency_key=f"{idempotency_key}:{i}") for i, email in enumerate(emails)]

    # https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_GetAccount.html
    def health_check(self) -> None:
        """GetAccount: healthy only when the account may send (``SendingEnabled``)."""
        account = self._call(lambda: self.ses.get_account(), operation="health")
        if not account.get("SendingEnabled"):
            # Same class as a send answered SendingPausedException (see SENDING_DISABLED_CODES).
            raise AuthenticationError(
                "SES sending is disabled for this account (GetAccount.SendingEnabled is false)",
                provider=self.provider,
                code="sending_disabled",
            )
