"""Hostile input to the messaging and AI operations: every string bounded, email headers one
line and allow-listed, media links public https only. Each refusal is an InvalidRequestError
naming the field, raised while the request is validated (before any provider is called)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from hub import urls
from hub.ai.embeddings import EmbeddingsRequest
from hub.ai.images import ImageRequest
from hub.ai.models import MAX_PROMPT_CHARS, LlmRequest
from hub.ai.spend import UsageReportRequest
from hub.errors import InvalidRequestError
from hub.invocation import parse_request
from hub.messaging.contacts import ConsentUpdateRequest
from hub.messaging.email import EmailSendBatchRequest, EmailSendRequest
from hub.messaging.notify import ChannelSendRequest, NotificationContent, NotifyContactRequest, _subject
from hub.messaging.records import MessageStatusRequest
from hub.messaging.sms import SmsSendRequest
from hub.messaging.whatsapp import SendMediaRequest, SendTemplateRequest, SendTextRequest
from hub.providers.outbound import EmailAttachment, OutboundEmail
from tests.helpers import sample_event

# Taken before tests/conftest.py replaces it with a fake for every test.
REAL_RESOLVE_HOST = urls.resolve_host
MB = "x" * (1024 * 1024)
PHONE = "+5511987654321"
CONTENT = {"to": "maria@example.com", "subject": "Proposta", "text": "Olá"}
EMAIL = {"org_id": "demo", **CONTENT}
MEDIA = {"org_id": "demo", "to": PHONE, "media_type": "image"}


def refused(model: type[BaseModel], payload: dict[str, Any]) -> str:
    """The message of the InvalidRequestError the payload gets (the handlers' own parser)."""
    with pytest.raises(InvalidRequestError) as info:
        parse_request(model, payload)
    assert info.value.code == "validation_error"
    return info.value.message


# ----- every string has a bound ------------------------------------------------------------------

ONE_MB_FIELDS: list[tuple[type[BaseModel], dict[str, Any], str]] = [
    (SendTextRequest, {"org_id": "demo", "to": MB, "text": "Oi"}, "to"),
    (SendTextRequest, {"org_id": "demo", "to": PHONE, "text": MB}, "text"),
    (SendTextRequest, {"org_id": "demo", "to": PHONE, "text": "Oi", "contact_name": MB}, "contact_name"),
    (SendMediaRequest, {**MEDIA, "media": {"bucket": "b", "key": MB}}, "media.key"),
    (SendMediaRequest, {**MEDIA, "media": {"url": "https://cdn.example.com/a.png"}, "caption": MB}, "caption"),
    (SendTemplateRequest, {"org_id": "demo", "to": PHONE, "template": {"name": "x", "language": MB}}, "language"),
    (
        SendTemplateRequest,
        {"org_id": "demo", "to": PHONE, "template": {"name": "x", "language": "pt_BR", "body_parameters": [MB]}},
        "template.body_parameters.0",
    ),
    (SmsSendRequest, {"org_id": "demo", "to": PHONE, "body": MB}, "body"),
    (EmailSendRequest, {**EMAIL, "subject": MB}, "subject"),
    (EmailSendRequest, {**EMAIL, "to": [MB]}, "to.0"),
    (EmailSendRequest, {**EMAIL, "html": MB}, "html"),
    (EmailSendRequest, {**EMAIL, "tags": {"campaign": MB}}, "tags.campaign"),
    (EmailSendRequest, {**EMAIL, "attachments": [{"bucket": "b", "key": "demo/a.pdf", "filename": MB}]}, "filename"),
    (EmailSendBatchRequest, {"org_id": "demo", "emails": [CONTENT, {**CONTENT, "text": MB}]}, "emails.1.text"),
    (
        NotifyContactRequest,
        {"org_id": "demo", "contact": {"name": MB, "phone": PHONE}, "message": {"text": "Oi"}},
        "contact.name",
    ),
    (
        NotifyContactRequest,
        {"org_id": "demo", "contact": {"phone": PHONE}, "message": {"text": "Oi"}, "requester": {"service": MB}},
        "requester.service",
    ),
    (
        ConsentUpdateRequest,
        {"org_id": "demo", "channel": "sms", "address": PHONE, "status": "opted_in", "source": MB},
        "source",
    ),
    (
        ConsentUpdateRequest,
        {"org_id": "demo", "channel": "email", "address": MB, "status": "opted_in", "source": "site"},
        "address",
    ),
    (MessageStatusRequest, {"org_id": "demo", "message_id": MB}, "message_id"),
    (LlmRequest, {"org_id": "demo", "messages": [{"role": "user", "content": "Oi"}], "task": MB}, "task"),
    (LlmRequest, {"org_id": "demo", "messages": [{"role": "user", "content": "Oi"}], "model": MB}, "model"),
    (ImageRequest, {"org_id": "demo", "prompt": MB}, "prompt"),
    (ImageRequest, {"org_id": "demo", "prompt": "a cat", "model": MB}, "model"),
    (EmbeddingsRequest, {"org_id": "demo", "texts": ["a"], "model": MB}, "model"),
    (EmbeddingsRequest, {"org_id": "demo", "texts": ["a", "b" * (8_192 * 8 + 1)]}, "texts.1"),
    (EmbeddingsRequest, {"org_id": "demo", "texts": ["a"], "idempotency_key": MB}, "idempotency_key"),
    (SendTextRequest, {"org_id": "demo", "to": PHONE, "text": "Oi", "idempotency_key": MB}, "idempotency_key"),
]


@pytest.mark.parametrize(("model", "payload", "field"), ONE_MB_FIELDS)
def test_a_one_megabyte_field_is_refused_naming_the_field(
    model: type[BaseModel], payload: dict[str, Any], field: str
) -> None:
    message = refused(model, payload)
    assert field in message
    assert MB[:100] not in message  # the value is never echoed


@pytest.mark.parametrize(
    ("model", "payload"),
    [
        (SendTextRequest, {"org_id": " demo ", "to": PHONE, "text": "Oi"}),
        (SmsSendRequest, {"org_id": "demo\n", "to": PHONE, "body": "Oi"}),
        (MessageStatusRequest, {"org_id": "Demo", "message_id": "SM1"}),
        (
            ConsentUpdateRequest,
            {"org_id": " demo", "channel": "sms", "address": PHONE, "status": "opted_in", "source": "x"},
        ),
        (EmailSendRequest, {**EMAIL, "org_id": "demo "}),
        (LlmRequest, {"org_id": "demo\t", "messages": [{"role": "user", "content": "Oi"}]}),
        (UsageReportRequest, {"org_id": " demo", "start": "2026-11-01", "end": "2026-11-30"}),
    ],
)
def test_org_ids_are_taken_exactly_as_sent_even_where_other_fields_are_stripped(
    model: type[BaseModel], payload: dict[str, Any]
) -> None:
    assert "org_id" in refused(model, payload)


def test_unknown_fields_and_overlong_lists_are_refused() -> None:
    assert "extra" in refused(SmsSendRequest, {"org_id": "demo", "to": PHONE, "body": "Oi", "media_url": "x"}).lower()
    assert "start" in refused(UsageReportRequest, {"org_id": "demo", "end": "2026-11-30"})
    messages = [{"role": "user", "content": "Oi"}] * 1001
    assert "messages" in refused(LlmRequest, {"org_id": "demo", "messages": messages})
    assert "texts" in refused(EmbeddingsRequest, {"org_id": "demo", "texts": ["a"] * 2049})
    template = {"name": "x", "language": "pt_BR", "body_parameters": ["a"] * 101}
    assert "body_parameters" in refused(SendTemplateRequest, {"org_id": "demo", "to": PHONE, "template": template})


def test_prompts_may_be_as_big_as_the_models_read_but_not_bigger() -> None:
    # A whole document in one message is legitimate: 1 MB of prompt is accepted.
    big = parse_request(LlmRequest, {"org_id": "demo", "messages": [{"role": "user", "content": MB}]})
    assert len(big.messages[0].content) == len(MB)
    half = "x" * (MAX_PROMPT_CHARS // 2)
    too_much = {"org_id": "demo", "system": half, "messages": [{"role": "user", "content": half + "x"}]}
    assert "prompt" in refused(LlmRequest, too_much)


# ----- email: allowed headers, one line everywhere ------------------------------------------------


@pytest.mark.parametrize("name", ["Bcc", "bcc", "Cc", "To", "From", "Subject", "Reply-To", "Content-Type"])
def test_headers_the_hub_sets_itself_are_refused_naming_them(name: str) -> None:
    message = refused(EmailSendRequest, {**EMAIL, "headers": {name: "spy@example.com"}})
    assert "headers" in message and repr(name) in message


def test_only_the_documented_custom_headers_are_accepted() -> None:
    message = refused(EmailSendRequest, {**EMAIL, "headers": {"X-Mailer": "hub"}})
    assert "'X-Mailer' is not allowed" in message and "List-Unsubscribe" in message
    allowed = {
        "List-Unsubscribe": "<https://somosprodutora.com.br/sair?u=1>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "X-Entity-Ref-ID": "lead-4711",
        "In-Reply-To": "<abc@mail.example.com>",
        "References": "<abc@mail.example.com>",
    }
    assert parse_request(EmailSendRequest, {**EMAIL, "headers": allowed}).headers == allowed


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"subject": "Proposta\r\nBcc: spy@example.com"}, "subject"),
        ({"subject": "Proposta\nBcc: spy@example.com"}, "subject"),
        ({"subject": "Proposta\u2028Bcc: spy@example.com"}, "subject"),
        ({"from": "Somos\r\nBcc: spy@example.com <contato@somosprodutora.com.br>"}, "from"),
        ({"to": ["maria@example.com\r\nBcc: spy@example.com"]}, "to.0"),
        ({"cc": ["ana@example.com", "joao@example.com\nBcc: spy@example.com"]}, "cc.1"),
        ({"reply_to": "vendas@example.com\r\nBcc: spy@example.com"}, "reply_to.0"),
        ({"headers": {"X-Entity-Ref-ID": "ok\r\nBcc: spy@example.com"}}, "headers"),
        ({"headers": {"List-Unsubscribe\r\nBcc": "x"}}, "headers"),
        ({"tags": {"campaign": "nov\r\nBcc: spy@example.com"}}, "tags"),
    ],
)
def test_line_breaks_are_refused_in_every_header_field(overrides: dict[str, Any], field: str) -> None:
    message = refused(EmailSendRequest, {**EMAIL, **overrides})
    assert field in message
    assert "spy@example.com" not in message


def test_an_attachment_filename_is_one_line() -> None:
    attachment = {"bucket": "b", "key": "demo/a.pdf", "filename": "a.pdf\r\nBcc: spy@example.com"}
    assert "filename" in refused(EmailSendRequest, {**EMAIL, "attachments": [attachment]})


def test_a_batch_names_the_email_with_the_bad_header() -> None:
    emails = [CONTENT, {**CONTENT, "headers": {"Bcc": "spy@example.com"}}]
    assert "emails.1.headers" in refused(EmailSendBatchRequest, {"org_id": "demo", "emails": emails})


# The model every adapter (Resend, SES) takes enforces the same rules, whoever builds it.
OUTBOUND = {"from_address": "Somos <contato@somosprodutora.com.br>", "to": ["maria@example.com"], "subject": "Oi"}


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"headers": {"Bcc": "spy@example.com"}}, "reserved_header"),
        ({"headers": {"X-Anything": "1"}}, "header_not_allowed"),
        ({"headers": {"In-Reply-To": "<a@b>\r\nBcc: spy@example.com"}}, "invalid_header"),
        ({"headers": {"References": "<a@b>", "references": "<c@d>"}}, "invalid_header"),
        ({"subject": "Oi\r\nBcc: spy@example.com"}, "invalid_header"),
        ({"from_address": "Somos\r\nBcc: spy@example.com <contato@somosprodutora.com.br>"}, "invalid_header"),
        ({"to": ["maria@example.com\nBcc: spy@example.com"]}, "invalid_header"),
        ({"bcc": ["x@example.com\r\nX: y"]}, "invalid_header"),
        ({"reply_to": ["x@example.com\x00"]}, "invalid_header"),
        ({"tags": {"a": "b\r\nc"}}, "invalid_tag"),
    ],
)
def test_outbound_email_refuses_what_could_add_a_header(overrides: dict[str, Any], code: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        OutboundEmail(**{**OUTBOUND, "text": "Oi", **overrides})
    assert info.value.code == code
    assert "spy@example.com" not in info.value.message


def test_outbound_attachment_filenames_are_one_line() -> None:
    with pytest.raises(InvalidRequestError) as info:
        EmailAttachment(filename="nota.pdf\r\nContent-Type: text/html", content=b"%PDF")
    assert info.value.code == "invalid_header"


def test_notify_contacts_email_subject_is_one_line() -> None:
    # Given a caller's subject with a line break, the request is refused ...
    request = {"org_id": "demo", "contact": {"email": "maria@example.com"}, "message": {"text": "Oi"}}
    bad = {**request, "message": {"text": "Oi", "subject": "Oi\r\nBcc: spy@example.com"}}
    assert "message.subject" in refused(NotifyContactRequest, bad)
    # ... and the chain's own payload is checked again at the channel step.
    chain = {"org_id": "demo", "notification_id": "n1", "provider": "email", **bad}
    assert "message.subject" in refused(ChannelSendRequest, chain)
    # Without one, the subject is the text's first line with its control characters gone.
    derived = _subject(NotificationContent(text="Lembrete\tda\x0breunião\namanhã"))
    assert derived == "Lembrete da"


# ----- media links: public https only ------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",  # plain http (and metadata)
        "https://169.254.169.254/latest/meta-data/",  # link-local: AWS/GCP/Azure metadata
        "https://127.0.0.1:22/",  # loopback
        "https://2130706433/latest",  # loopback, as a decimal number
        "https://0x7f.1/",  # loopback, as hex shorthand
        "https://10.0.0.5/file.png",  # private
        "https://192.168.1.10/file.png",  # private
        "https://172.16.0.1/file.png",  # private
        "https://100.64.0.1/file.png",  # CGNAT shared space
        "https://224.0.0.1/file.png",  # multicast
        "https://240.0.0.1/file.png",  # reserved
        "https://0.0.0.0/file.png",  # unspecified
        "https://[::1]/file.png",  # IPv6 loopback
        "https://[::]/file.png",  # IPv6 unspecified
        "https://[fd00:ec2::254]/latest/meta-data/",  # EC2 IMDS over IPv6 (unique local)
        "https://[fe80::1]/file.png",  # IPv6 link-local
        "https://[ff02::1]/file.png",  # IPv6 multicast
        "https://[::ffff:169.254.169.254]/latest/meta-data/",  # IPv4-mapped metadata
        "https://[::ffff:10.0.0.5]/file.png",  # IPv4-mapped private
        "https://[64:ff9b::a9fe:a9fe]/latest/meta-data/",  # NAT64 of the metadata address
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://localhost/file.png",
        "https://media.localhost/file.png",
        "https://user:secret@cdn.example.com/a.png",  # userinfo
        "https://cdn.example.com@10.0.0.5/a.png",  # userinfo hiding the real host
        "ftp://cdn.example.com/a.png",
        "file:///etc/passwd",
        "https://cdn.example.com/a b.png",
        "https://cdn.example.com/a.png\r\nHost: 10.0.0.5",
        "https://nowhere.invalid/a.png",  # does not resolve
        "https://cdn.example.com/" + "a" * 3000,  # too long
        "not a url",
    ],
)
def test_hostile_media_urls_are_refused_naming_the_field(url: str) -> None:
    message = refused(SendMediaRequest, {**MEDIA, "media": {"url": url}})
    assert "media.url" in message
    assert "169.254" not in message and "10.0.0.5" not in message  # never echoed


@pytest.mark.parametrize(
    "addresses",
    [
        ["10.0.0.5"],  # a public-looking name that resolves to a private address
        ["93.184.215.14", "127.0.0.1"],  # one of several answers is loopback
        ["169.254.169.254"],
        ["::ffff:127.0.0.1"],
        ["2606:2800:21f:cb07:6820:80da:af6b:8b2c", "fd00:ec2::254"],
        [],
    ],
)
def test_a_name_is_refused_when_any_address_it_resolves_to_is_not_public(
    addresses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    looked_up: list[str] = []

    def resolve(host: str) -> list[str]:
        looked_up.append(host)
        return addresses

    monkeypatch.setattr(urls, "resolve_host", resolve)
    message = refused(SendMediaRequest, {**MEDIA, "media": {"url": "https://rebind.attacker.example/a.png"}})
    assert "media.url" in message
    assert looked_up == ["rebind.attacker.example"]


def test_public_https_links_are_accepted_and_sent_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(urls, "resolve_host", lambda host: ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
    request = parse_request(SendMediaRequest, {**MEDIA, "media": {"url": "https://CDN.Example.com/a.png?x=1"}})
    assert request.media.url == "https://cdn.example.com/a.png?x=1"
    assert urls.check_public_https_url("https://8.8.8.8/a.png") == "https://8.8.8.8/a.png"


def test_template_header_links_follow_the_same_rules() -> None:
    template = {"name": "proposta", "language": "pt_BR", "header": {"type": "document", "url": "http://10.0.0.5/p.pdf"}}
    assert "template.header.url" in refused(SendTemplateRequest, {"org_id": "demo", "to": PHONE, "template": template})
    template["header"]["url"] = "https://cdn.example.com/p.pdf"
    assert parse_request(SendTemplateRequest, {"org_id": "demo", "to": PHONE, "template": template})


def test_dns_is_looked_up_through_getaddrinfo(monkeypatch: pytest.MonkeyPatch) -> None:
    # The real resolver (replaced by a fake everywhere else in the tests) asks getaddrinfo.
    import socket

    seen: list[Any] = []

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        seen.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", 443))]

    monkeypatch.setattr(urls, "resolve_host", REAL_RESOLVE_HOST)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(ValueError, match="public address"):
        urls.check_public_https_url("https://internal.example.com/a.png")
    assert seen == ["internal.example.com"]


# ----- the documented samples still validate --------------------------------------------------------

SAMPLES: list[tuple[str, type[BaseModel]]] = [
    ("whatsapp_send_text", SendTextRequest),
    ("whatsapp_send_media", SendMediaRequest),
    ("whatsapp_send_template", SendTemplateRequest),
    ("sms_send", SmsSendRequest),
    ("email_send", EmailSendRequest),
    ("email_send_batch", EmailSendBatchRequest),
    ("notify_contact", NotifyContactRequest),
    ("notify_channel_send", ChannelSendRequest),
    ("contact_consent_set", ConsentUpdateRequest),
    ("message_status", MessageStatusRequest),
    ("llm_generate", LlmRequest),
    ("image_generate", ImageRequest),
    ("embeddings_create", EmbeddingsRequest),
    ("usage_report", UsageReportRequest),
]


@pytest.mark.parametrize(("sample", "model"), SAMPLES)
def test_the_sample_events_are_valid_requests(sample: str, model: type[BaseModel]) -> None:
    assert parse_request(model, sample_event(sample))
