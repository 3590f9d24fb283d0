"""SesClient over boto3 sesv2: the MIME message it builds, the SendEmail call (moto), and the
mapping of SES's documented errors (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html)
to the hub's error taxonomy (botocore Stubber and fake clients)."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber
from moto import mock_aws

from hub.errors import (
    AuthenticationError,
    InvalidRequestError,
    OutcomeUnknownError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.providers.outbound import EmailAttachment, OutboundEmail
from hub.providers.ses.client import DAILY_QUOTA_RETRY_AFTER, SesClient, SesCredentials
from hub.retry import RetryPolicy

DOMAIN = "somosprodutora.com.br"
PDF = b"%PDF-1.4 proposta \x00\xff" * 40
NO_RETRY = RetryPolicy(max_attempts=1, sleep=lambda _: None)


def outbound(**overrides: Any) -> OutboundEmail:
    values: dict[str, Any] = {
        "from_address": f"Somos Produtora <contato@{DOMAIN}>",
        "to": ["cliente@example.com", "Maria Souza <maria@example.com>"],
        "subject": "Sua proposta de orçamento",
        "html": "<p>Olá, segue a proposta.</p>",
    }
    values.update(overrides)
    return OutboundEmail(**values)


def every_field(**overrides: Any) -> OutboundEmail:
    """A proposal using every field a message has: text and HTML, cc, bcc, reply-to, a header,
    tags and an attachment."""
    values: dict[str, Any] = {
        "text": "Olá, segue a proposta.",
        "cc": ["socio@example.com"],
        "bcc": ["arquivo@somosprodutora.com.br"],
        "reply_to": ["vendas@somosprodutora.com.br"],
        "headers": {"X-Entity-Ref-ID": "lead-42"},
        "tags": {"category": "proposal", "lead_id": "lead-42"},
        "attachments": [EmailAttachment(filename="proposta.pdf", content=PDF, content_type="application/pdf")],
    }
    values.update(overrides)
    return outbound(**values)


class Spy:
    """Records the kwargs of each send_email and delegates to the real (moto) client."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.sends: list[dict[str, Any]] = []

    def send_email(self, **kwargs: Any) -> Any:
        self.sends.append(kwargs)
        return self.client.send_email(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


@pytest.fixture
def moto_ses() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("sesv2", region_name="us-east-1")
        client.create_email_identity(EmailIdentity=DOMAIN)
        yield client


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_send_email_sends_simple_content_with_headers_attachments_reply_to_and_tags() -> None:
    # The exact SendEmail request (botocore's Stubber also validates it against the sesv2 model).
    ses = boto3.client("sesv2", region_name="us-east-1")
    stubber = Stubber(ses)
    expected = {
        "FromEmailAddress": f"Somos Produtora <contato@{DOMAIN}>",
        "Destination": {
            "ToAddresses": ["cliente@example.com", "Maria Souza <maria@example.com>"],
            "CcAddresses": ["socio@example.com"],
            "BccAddresses": ["arquivo@somosprodutora.com.br"],
        },
        "ReplyToAddresses": ["vendas@somosprodutora.com.br"],
        "Content": {
            "Simple": {
                "Subject": {"Data": "Sua proposta de orçamento", "Charset": "UTF-8"},
                "Body": {
                    "Text": {"Data": "Olá, segue a proposta.", "Charset": "UTF-8"},
                    "Html": {"Data": "<p>Olá, segue a proposta.</p>", "Charset": "UTF-8"},
                },
                "Headers": [{"Name": "X-Entity-Ref-ID", "Value": "lead-42"}],
                "Attachments": [
                    {
                        "FileName": "proposta.pdf",
                        "RawContent": PDF,
                        "ContentType": "application/pdf",
                        "ContentDisposition": "ATTACHMENT",
                        "ContentTransferEncoding": "BASE64",  # SES's default, SEVEN_BIT, would break a PDF
                    }
                ],
            }
        },
        "EmailTags": [{"Name": "category", "Value": "proposal"}, {"Name": "lead_id", "Value": "lead-42"}],
        "ConfigurationSetName": "hub-events",
    }
    stubber.add_response("send_email", {"MessageId": "0100018c-simple"}, expected)
    stubber.activate()
    client = SesClient(SesCredentials(configuration_set="hub-events"), ses=ses, retry_policy=NO_RETRY)
    message = every_field()

    sent = client.send_email(message, idempotency_key="proposal/lead-42")

    stubber.assert_no_pending_responses()  # the request matched `expected` exactly
    assert (sent.provider, sent.email_id, sent.to) == ("ses", "0100018c-simple", message.to)


def test_simple_content_is_accepted_by_the_sesv2_api(moto_ses: Any) -> None:
    spy = Spy(moto_ses)
    message = outbound(text="Olá", attachments=[EmailAttachment(filename="proposta.pdf", content=PDF)])
    sent = SesClient(SesCredentials(), ses=spy, retry_policy=NO_RETRY).send_email(message, idempotency_key="k")
    assert sent.email_id and "Simple" in spy.sends[0]["Content"]
    assert "Raw" not in spy.sends[0]["Content"]


def test_html_only_and_text_only_bodies(moto_ses: Any) -> None:
    spy = Spy(moto_ses)
    client = SesClient(SesCredentials(), ses=spy, retry_policy=NO_RETRY)
    client.send_email(outbound(), idempotency_key="a")
    client.send_email(outbound(html=None, text="só texto"), idempotency_key="b")
    html_only, text_only = (s["Content"]["Simple"]["Body"] for s in spy.sends)
    assert html_only == {"Html": {"Data": "<p>Olá, segue a proposta.</p>", "Charset": "UTF-8"}}
    assert text_only == {"Text": {"Data": "só texto", "Charset": "UTF-8"}}
    assert "EmailTags" not in spy.sends[0] and "ConfigurationSetName" not in spy.sends[0]
    assert "ReplyToAddresses" not in spy.sends[0]
    assert "Headers" not in spy.sends[0]["Content"]["Simple"]


def test_attachment_type_is_guessed_from_the_filename(moto_ses: Any) -> None:
    spy = Spy(moto_ses)
    message = outbound(
        attachments=[
            EmailAttachment(filename="foto.png", content=b"\x89PNG"),
            EmailAttachment(filename="dados", content=b"\x00\x01"),
        ]
    )
    SesClient(SesCredentials(), ses=spy, retry_policy=NO_RETRY).send_email(message, idempotency_key="k")
    attachments = spy.sends[0]["Content"]["Simple"]["Attachments"]
    assert [a["ContentType"] for a in attachments] == ["image/png", "application/octet-stream"]
    assert [a["RawContent"] for a in attachments] == [b"\x89PNG", b"\x00\x01"]


def test_non_ascii_display_names_are_encoded_in_the_envelope(moto_ses: Any) -> None:
    # SES takes 7-bit ASCII addresses; a Unicode display name goes as an RFC 2047 encoded word.
    spy = Spy(moto_ses)
    message = outbound(to=["João Souza <joao@example.com>"], reply_to=["Atendimento Produção <at@example.com>"])
    SesClient(SesCredentials(), ses=spy, retry_policy=NO_RETRY).send_email(message, idempotency_key="k")
    [to] = spy.sends[0]["Destination"]["ToAddresses"]
    [reply_to] = spy.sends[0]["ReplyToAddresses"]
    assert to.isascii() and to.startswith("=?utf-8?") and to.endswith("<joao@example.com>")
    assert reply_to.isascii() and reply_to.endswith("<at@example.com>")
    decoded = email.message_from_string(f"To: {to}\n\n", policy=email.policy.default)["To"]
    assert decoded == "João Souza <joao@example.com>"


# ----- the raw MIME message, kept only for what Content.Simple cannot carry ----------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"headers": {"X-Entity-Ref-ID": "pedido-ção"}},  # not printable ASCII (MessageHeader.Value)
        {"headers": {"References": " ".join(f"<m{i}@example.com>" for i in range(52))}},  # 925 > 870 characters
        {"attachments": [EmailAttachment(filename="orçamento.pdf", content=PDF)]},  # FileName encoding undocumented
        {"attachments": [EmailAttachment(filename="a.bin", content=b"x", content_type="application/" + "x" * 80)]},
    ],
)
def test_what_simple_content_cannot_carry_goes_as_a_raw_mime_message(moto_ses: Any, overrides: dict[str, Any]) -> None:
    spy = Spy(moto_ses)
    SesClient(SesCredentials(), ses=spy, retry_policy=NO_RETRY).send_email(outbound(**overrides), idempotency_key="k")
    assert list(spy.sends[0]["Content"]) == ["Raw"]


def test_the_raw_mime_message_keeps_every_field(moto_ses: Any) -> None:
    spy = Spy(moto_ses)
    creds = SesCredentials(configuration_set="hub-events")
    client = SesClient(creds, ses=spy, retry_policy=NO_RETRY)
    message = every_field(headers={"X-Entity-Ref-ID": "lead-42-ção"})  # a header SES Simple cannot carry

    sent = client.send_email(message, idempotency_key="proposal/lead-42")

    call = spy.sends[0]
    assert call["FromEmailAddress"] == f"Somos Produtora <contato@{DOMAIN}>"
    assert call["Destination"] == {
        "ToAddresses": ["cliente@example.com", "Maria Souza <maria@example.com>"],
        "CcAddresses": ["socio@example.com"],
        "BccAddresses": ["arquivo@somosprodutora.com.br"],
    }
    assert "ReplyToAddresses" not in call  # a header of the raw message
    assert call["EmailTags"] == [{"Name": "category", "Value": "proposal"}, {"Name": "lead_id", "Value": "lead-42"}]
    assert call["ConfigurationSetName"] == "hub-events"
    assert "proposal/lead-42" not in repr(call)  # SES has no idempotency key
    assert sent.provider == "ses" and sent.email_id and sent.to == message.to

    raw = call["Content"]["Raw"]["Data"]
    assert b"\r\n" in raw  # SMTP line endings
    assert all(byte < 128 for byte in raw)  # non-ASCII text is encoded, never raw 8-bit
    mime = parse(raw)
    assert mime["Subject"] == "Sua proposta de orçamento"
    assert mime["From"] == f"Somos Produtora <contato@{DOMAIN}>"
    assert mime["To"] == "cliente@example.com, Maria Souza <maria@example.com>"
    assert mime["Cc"] == "socio@example.com"
    assert mime["Reply-To"] == "vendas@somosprodutora.com.br"
    assert mime["X-Entity-Ref-ID"] == "lead-42-ção"
    assert mime["Bcc"] is None  # blind copies stay in the envelope only
    assert mime["Date"]
    body = mime.get_body(preferencelist=("plain",))
    html = mime.get_body(preferencelist=("html",))
    assert body is not None and body.get_content().strip() == "Olá, segue a proposta."
    assert html is not None and html.get_content().strip() == "<p>Olá, segue a proposta.</p>"
    attachments = list(mime.iter_attachments())
    assert len(attachments) == 1
    assert attachments[0].get_filename() == "proposta.pdf"
    assert attachments[0].get_content_type() == "application/pdf"
    assert attachments[0].get_content() == PDF


def test_the_shared_aws_client_is_used_by_default(moto_ses: Any) -> None:
    sent = SesClient(SesCredentials(), retry_policy=NO_RETRY).send_email(outbound(), idempotency_key="k")
    assert sent.email_id


def test_a_region_in_the_secret_gets_its_own_client(moto_ses: Any) -> None:
    client = SesClient(SesCredentials(region="sa-east-1"), retry_policy=NO_RETRY)
    assert client.ses.meta.region_name == "sa-east-1"
    assert client.breaker_scope() == "ses#sa-east-1"


def test_the_secrets_default_sender_fills_a_missing_from(moto_ses: Any) -> None:
    spy = Spy(moto_ses)
    creds = SesClient.parse_credentials({"from_address": f"Somos <no-reply@{DOMAIN}>"})
    SesClient(creds, ses=spy, retry_policy=NO_RETRY).send_email(outbound(from_address=""), idempotency_key="k")
    assert spy.sends[0]["FromEmailAddress"] == f"Somos <no-reply@{DOMAIN}>"


def test_a_non_ascii_sender_name_is_encoded_for_ses(moto_ses: Any) -> None:
    spy = Spy(moto_ses)
    client = SesClient(SesCredentials(), ses=spy, retry_policy=NO_RETRY)
    client.send_email(outbound(from_address=f"João da Produção <joao@{DOMAIN}>"), idempotency_key="k")
    sender = spy.sends[0]["FromEmailAddress"]
    assert sender.isascii() and sender.startswith("=?utf-8?") and sender.endswith(f"<joao@{DOMAIN}>")
    decoded = email.message_from_string(f"From: {sender}\n\n", policy=email.policy.default)["From"]
    assert decoded == f"João da Produção <joao@{DOMAIN}>"


def test_an_unverified_sender_is_rejected_by_ses(moto_ses: Any) -> None:
    client = SesClient(SesCredentials(), retry_policy=NO_RETRY)
    with pytest.raises(InvalidRequestError) as info:
        client.send_email(outbound(from_address="vendas@not-verified.example"), idempotency_key="k")
    assert info.value.code == "MessageRejected"
    assert info.value.provider == "ses"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"html": None, "text": None}, "missing_body"),
        ({"from_address": ""}, "missing_from"),
        ({"tags": {"campaign": "black friday"}}, "invalid_tag"),
        ({"tags": {"lead.id": "42"}}, "invalid_tag"),
        ({"headers": {"Subject": "other"}}, "reserved_header"),
        ({"headers": {"bcc": "spy@example.com"}}, "reserved_header"),
        ({"headers": {"X-Entity-Ref-ID": "ok\r\nBcc: spy@example.com"}}, "invalid_header"),
        ({"headers": {"X-Note": "ok"}}, "header_not_allowed"),
    ],
)
def test_invalid_input_is_refused_before_calling_ses(overrides: dict[str, Any], code: str) -> None:
    calls: list[dict[str, Any]] = []

    class Fake:
        def send_email(self, **kwargs: Any) -> dict[str, Any]:
            calls.append(kwargs)
            return {"MessageId": "m"}

    client = SesClient(SesCredentials(), ses=Fake(), retry_policy=NO_RETRY)
    with pytest.raises(InvalidRequestError) as info:
        client.send_email(outbound(**overrides), idempotency_key="k")
    assert info.value.code == code
    assert calls == []


# ----- error mapping ---------------------------------------------------------------------------


def stubbed(code: str, status: int, message: str = "error") -> tuple[SesClient, Stubber]:
    ses = boto3.client("sesv2", region_name="us-east-1")
    stubber = Stubber(ses)
    stubber.add_client_error("send_email", service_error_code=code, service_message=message, http_status_code=status)
    stubber.activate()
    return SesClient(SesCredentials(), ses=ses, retry_policy=NO_RETRY), stubber


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("MessageRejected", 400, InvalidRequestError),
        ("MailFromDomainNotVerifiedException", 400, InvalidRequestError),
        ("BadRequestException", 400, InvalidRequestError),
        ("NotFoundException", 404, InvalidRequestError),
        ("AccountSuspendedException", 400, AuthenticationError),
        ("SendingPausedException", 400, AuthenticationError),
        ("AccessDeniedException", 403, AuthenticationError),
        ("TooManyRequestsException", 429, RateLimitedError),
        ("LimitExceededException", 400, RateLimitedError),
        ("Throttling", 400, RateLimitedError),
        ("InternalFailure", 500, ProviderUnavailableError),
        ("ServiceUnavailable", 503, ProviderUnavailableError),
    ],
)
def test_ses_errors_map_to_the_taxonomy(code: str, status: int, error: type[Exception]) -> None:
    client, stubber = stubbed(code, status, "Email address is not verified.")
    with pytest.raises(error) as info:
        client.send_email(outbound(), idempotency_key="k")
    stubber.assert_no_pending_responses()
    raised = info.value
    assert isinstance(raised, (InvalidRequestError, AuthenticationError, RateLimitedError, ProviderUnavailableError))
    assert raised.code == code
    assert raised.http_status == status
    assert raised.provider == "ses"


def test_sending_rate_throttling_retries_soon_and_daily_quota_waits() -> None:
    client, _ = stubbed("TooManyRequestsException", 429, "Maximum sending rate exceeded.")
    with pytest.raises(RateLimitedError) as rate:
        client.send_email(outbound(), idempotency_key="k")
    assert rate.value.retry_after == 1.0

    client, _ = stubbed("Throttling", 400, "Daily message quota exceeded.")
    with pytest.raises(RateLimitedError) as daily:
        client.send_email(outbound(), idempotency_key="k")
    assert daily.value.retry_after == DAILY_QUOTA_RETRY_AFTER == 600.0


def test_throttling_is_retried_under_the_shared_policy() -> None:
    ses = boto3.client("sesv2", region_name="us-east-1")
    stubber = Stubber(ses)
    stubber.add_client_error("send_email", service_error_code="TooManyRequestsException", http_status_code=429)
    stubber.add_response("send_email", {"MessageId": "0100018c-ok"})
    stubber.activate()
    sleeps: list[float] = []
    client = SesClient(SesCredentials(), ses=ses, retry_policy=RetryPolicy(max_attempts=3, sleep=sleeps.append))
    assert client.send_email(outbound(), idempotency_key="k").email_id == "0100018c-ok"
    assert sleeps == [1.0]


class Failing:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc
        self.calls = 0

    def send_email(self, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        raise self.exc


def test_connection_failures_are_provider_unavailable_and_retried() -> None:
    fake = Failing(EndpointConnectionError(endpoint_url="https://email.us-east-1.amazonaws.com"))
    client = SesClient(SesCredentials(), ses=fake, retry_policy=RetryPolicy(max_attempts=3, sleep=lambda _: None))
    with pytest.raises(ProviderUnavailableError):
        client.send_email(outbound(), idempotency_key="k")
    assert fake.calls == 2  # one quick retry, then fail over (hub.retry)


def test_a_read_timeout_is_an_unknown_outcome_never_retried() -> None:
    # SES may have taken the message; sending again could duplicate it.
    fake = Failing(ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com"))
    client = SesClient(SesCredentials(), ses=fake, retry_policy=RetryPolicy(max_attempts=3, sleep=lambda _: None))
    with pytest.raises(OutcomeUnknownError) as info:
        client.send_email(outbound(), idempotency_key="k")
    assert info.value.code == "read_timeout"
    assert fake.calls == 1


# ----- health ----------------------------------------------------------------------------------


def test_health_check_requires_sending_enabled() -> None:
    ses = boto3.client("sesv2", region_name="us-east-1")
    stubber = Stubber(ses)
    stubber.add_response("get_account", {"SendingEnabled": True, "ProductionAccessEnabled": True})
    stubber.add_response("get_account", {"SendingEnabled": False, "ProductionAccessEnabled": True})
    stubber.activate()
    client = SesClient(SesCredentials(), ses=ses, retry_policy=NO_RETRY)
    client.health_check()
    with pytest.raises(AuthenticationError) as info:
        client.health_check()
    assert info.value.code == "sending_disabled"


def test_secret_is_configuration_only() -> None:
    creds = SesClient.parse_credentials({"configuration_set": "hub-events", "region": "us-east-1", "extra": 1})
    assert isinstance(creds, SesCredentials)
    assert (creds.configuration_set, creds.region, creds.from_address) == ("hub-events", "us-east-1", None)
    assert SesClient(creds).auth_headers() == {}
