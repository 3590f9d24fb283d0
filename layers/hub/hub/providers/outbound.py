"""What outbound messaging adapters take and return, shared by every channel's providers.

WhatsApp (Evolution API, Cloud API), SMS (Twilio) and email (Resend, SES) adapters speak
these models, so the messaging layer can route one request to any provider of a channel.
Adapters receive already-validated values (E.164 phones, fetched attachments, presigned
media URLs); validating the caller's request is the messaging layer's job.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hub.emails import headers_problem, one_line_problem, tags_problem
from hub.errors import InvalidRequestError
from hub.requests import DEFAULT_MAX_STRING
from hub.urls import PublicHttpsUrl

Channel = Literal["whatsapp", "sms", "email"]
MediaType = Literal["image", "video", "audio", "document"]

# Template names: lowercase letters, digits and underscores (WhatsApp Manager's rule).
TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
# Template languages: https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates/supported-languages
TEMPLATE_LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2}|_[A-Za-z]{4})?$")
TEMPLATE_BODY_MAX = 1024


class SentMessage(BaseModel):
    """A provider accepted a WhatsApp or SMS message."""

    provider: str
    message_id: str = Field(description="the provider's id of the message (wamid, Evolution key id, Twilio SID)")
    to: str = Field(description="E.164")
    status: str | None = Field(None, description="the provider's initial status, verbatim")


class SentEmail(BaseModel):
    """A provider accepted one email."""

    provider: str
    email_id: str = Field(description="the provider's id (Resend email id, SES MessageId)")
    to: list[str]


class MediaMessage(BaseModel):
    """A media message: the URL the provider downloads from (public or presigned)."""

    model_config = ConfigDict(frozen=True)

    media_type: MediaType
    url: str
    mimetype: str | None = None
    filename: str | None = None
    caption: str | None = None


def _valid_template_text(value: str, *, field: str) -> str:
    # Meta rejects template parameters with newlines, tabs or more than 4 consecutive spaces
    # (error 132018); refuse them here with a clear message instead of after a round trip.
    if not value.strip():
        raise ValueError(f"{field} must not be empty")
    if "\n" in value or "\t" in value or "     " in value:
        raise ValueError(f"{field} must not contain newlines, tabs or more than 4 consecutive spaces")
    return value


class TemplateHeader(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=DEFAULT_MAX_STRING)

    type: Literal["text", "image", "video", "document"]
    text: str | None = Field(None, max_length=60)
    # Fetched by the provider: public https only (hub.urls).
    url: PublicHttpsUrl | None = Field(None, description="media link for image/video/document headers")
    filename: str | None = Field(None, max_length=240)

    def model_post_init(self, context: Any) -> None:
        if self.type == "text" and not self.text:
            raise ValueError("a text header needs text")
        if self.type != "text" and not self.url:
            raise ValueError(f"a {self.type} header needs url")
        if self.text is not None:
            _valid_template_text(self.text, field="header.text")


class TemplateButton(BaseModel):
    """A dynamic button parameter: a URL suffix or a quick-reply payload."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=DEFAULT_MAX_STRING)

    sub_type: Literal["url", "quick_reply"]
    index: int = Field(ge=0, le=9)
    value: str = Field(min_length=1, max_length=2000)


class WhatsAppTemplate(BaseModel):
    """An approved message template and its parameters.

    Cloud API shape: https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates
    (``template: {name, language: {code}, components: [{type: header|body|button, parameters}]}``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, str_max_length=DEFAULT_MAX_STRING)

    name: str = Field(pattern=TEMPLATE_NAME.pattern)
    language: str = Field(pattern=TEMPLATE_LANGUAGE.pattern, description="e.g. pt_BR, en_US")
    # A template's body is at most 1,024 characters with its parameters filled in (Meta's limit,
    # as BSPs document it: https://docs.bird.com/api/touchpoints-api/supported-projects/whatsapp-approved-message-templates/creating-whatsapp-message-templates/text-templates):
    # no single parameter can be longer.
    body_parameters: list[Annotated[str, Field(max_length=TEMPLATE_BODY_MAX)]] = Field(
        default_factory=list, max_length=100
    )
    header: TemplateHeader | None = None
    buttons: list[TemplateButton] = Field(default_factory=list, max_length=10)
    # The category Meta approved the template under: what a Cloud API send costs
    # (https://developers.facebook.com/docs/whatsapp/pricing); not sent to the provider.
    category: Literal["marketing", "utility", "authentication"] | None = None

    @field_validator("body_parameters")
    @classmethod
    def _check_parameters(cls, values: list[str]) -> list[str]:
        return [_valid_template_text(v, field=f"body_parameters[{i}]") for i, v in enumerate(values)]

    def components(self) -> list[dict[str, Any]]:
        """The ``components`` array of the Cloud API (also taken by Evolution's sendTemplate)."""
        components: list[dict[str, Any]] = []
        if self.header is not None:
            if self.header.type == "text":
                parameter: dict[str, Any] = {"type": "text", "text": self.header.text}
            else:
                media: dict[str, Any] = {"link": self.header.url}
                if self.header.type == "document" and self.header.filename:
                    media["filename"] = self.header.filename
                parameter = {"type": self.header.type, self.header.type: media}
            components.append({"type": "header", "parameters": [parameter]})
        if self.body_parameters:
            components.append(
                {"type": "body", "parameters": [{"type": "text", "text": text} for text in self.body_parameters]}
            )
        for button in self.buttons:
            key = "text" if button.sub_type == "url" else "payload"
            components.append(
                {
                    "type": "button",
                    "sub_type": button.sub_type,
                    "index": str(button.index),
                    "parameters": [{"type": "text" if key == "text" else "payload", key: button.value}],
                }
            )
        return components


class EmailAttachment(BaseModel):
    """An attachment already read from our storage."""

    model_config = ConfigDict(frozen=True)

    filename: str = Field(min_length=1, max_length=255)
    content: bytes
    content_type: str | None = Field(None, max_length=255)

    @model_validator(mode="after")
    def _one_line(self) -> EmailAttachment:
        # Raised as the taxonomy's error, not a ValueError: whoever builds the email (a request,
        # the NFS-e workflow) gets an InvalidRequestError, never an unhandled ValidationError.
        for name in ("filename", "content_type"):
            value = getattr(self, name)
            if value is not None and one_line_problem(value) is not None:
                raise InvalidRequestError(f"attachment {name} {one_line_problem(value)}", code="invalid_header")
        return self


class OutboundEmail(BaseModel):
    """One email, as every email adapter takes it. Addresses are already validated.

    Whoever builds one (the email functions, NotifyContact, the NFS-e workflow) gets the
    header rules of :mod:`hub.emails` enforced here, once for every adapter (Resend, SES):
    no CR/LF or other control character in any address, display name, subject, header or tag,
    and only the allowed custom headers. A violation is an InvalidRequestError; nothing is sent.
    """

    model_config = ConfigDict(frozen=True)

    from_address: str = Field(description='"Name <addr@domain>" or a bare address')
    to: list[str] = Field(min_length=1, max_length=50)
    cc: list[str] = Field(default_factory=list, max_length=50)
    bcc: list[str] = Field(default_factory=list, max_length=50)
    reply_to: list[str] = Field(default_factory=list, max_length=50)
    subject: str = Field(min_length=1, max_length=998)
    html: str | None = None
    text: str | None = None
    tags: dict[str, str] = Field(default_factory=dict, description="name -> value (ASCII letters, digits, _ and -)")
    attachments: list[EmailAttachment] = Field(default_factory=list)
    headers: dict[str, str] = Field(default_factory=dict, description="only hub.emails.ALLOWED_HEADERS")

    @model_validator(mode="after")
    def _header_safe(self) -> OutboundEmail:
        lines = {"from_address": [self.from_address], "subject": [self.subject]}
        lines.update({name: list(getattr(self, name)) for name in ("to", "cc", "bcc", "reply_to")})
        for name, values in lines.items():
            for value in values:
                problem = one_line_problem(value)
                if problem:
                    raise InvalidRequestError(f"email {name} {problem}", code="invalid_header")
        header = headers_problem(self.headers)
        if header:
            code, message = header
            raise InvalidRequestError(f"email {message}", code=code)
        problem = tags_problem(self.tags)
        if problem:
            raise InvalidRequestError(f"email {problem}", code="invalid_tag")
        return self
