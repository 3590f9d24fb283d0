"""Hostile input through the real function handlers (moto + respx): a Bcc smuggled in a header,
a line break in a subject or address, a media link into the provider's own network. Each is an
InvalidRequestError naming the field, and no provider is ever called."""

from __future__ import annotations

import json
from typing import Any

import pytest
import respx

from hub import urls
from hub.errors import InvalidRequestError
from tests.aws.conftest import HubAws
from tests.helpers import FakeLambdaContext, load_function

EVO = {"base_url": "https://evo.test", "api_key": "evo-key", "instance": "somos-principal"}
EVO_MEDIA = "https://evo.test/message/sendMedia/somos-principal"
EVO_TEMPLATE = "https://evo.test/message/sendTemplate/somos-principal"
EVO_SENT = {"key": {"remoteJid": "5511987654321@s.whatsapp.net", "fromMe": True, "id": "BAE5F00D"}, "status": "PENDING"}
RESEND_SEND = "https://api.resend.com/emails"
FROM = "Somos Produtora <contato@somosprodutora.com.br>"
PHONE = "+5511987654321"
EMAIL = {"org_id": "demo", "to": "maria@example.com.br", "subject": "Proposta", "text": "Olá"}


@pytest.fixture
def aws(hub_aws: HubAws) -> HubAws:
    hub_aws.put_secret("demo", "evolution", EVO)
    hub_aws.put_secret("demo", "resend", {"api_key": "re_test_key"})
    hub_aws.put_secret("demo", "ses", {})
    hub_aws.put_secret("demo", "messaging", {"email_from": FROM})
    hub_aws.client("ses").verify_domain_identity(Domain="somosprodutora.com.br")
    return hub_aws


def ses_sent(aws: HubAws) -> int:
    return int(aws.client("ses").get_send_quota()["SentLast24Hours"])


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"headers": {"Bcc": "spy@example.com"}}, "headers"),
        ({"headers": {"bcc": "spy@example.com", "X-Entity-Ref-ID": "lead-1"}}, "headers"),
        ({"subject": "Proposta\r\nBcc: spy@example.com"}, "subject"),
        ({"from": "Somos\r\nBcc: spy@example.com <contato@somosprodutora.com.br>"}, "from"),
        ({"to": ["maria@example.com.br\r\nBcc: spy@example.com"]}, "to.0"),
        ({"text": "x" * (1024 * 1024)}, "text"),
    ],
)
def test_email_send_refuses_header_injection_and_calls_no_provider(
    aws: HubAws, overrides: dict[str, Any], field: str
) -> None:
    send = load_function("email_send")
    with respx.mock(assert_all_called=False) as mock:
        resend = mock.post(RESEND_SEND).respond(200, json={"id": "e-1"})
        with pytest.raises(InvalidRequestError) as info:
            send.handler({**EMAIL, **overrides, "idempotency_key": "hostile-1"}, FakeLambdaContext())
        assert resend.call_count == 0
    assert field in info.value.message
    assert ses_sent(aws) == 0
    # The refused request burnt nothing: the same key sends a clean email.
    with respx.mock(assert_all_called=False) as mock:
        resend = mock.post(RESEND_SEND).respond(200, json={"id": "e-1"})
        clean = {**EMAIL, "headers": {"X-Entity-Ref-ID": "lead-1"}, "idempotency_key": "hostile-1"}
        assert send.handler(clean, FakeLambdaContext())["provider"] == "resend"
        assert json.loads(resend.calls.last.request.content)["headers"] == {"X-Entity-Ref-ID": "lead-1"}


def test_a_batch_with_a_smuggled_bcc_sends_nothing(aws: HubAws) -> None:
    emails = [
        {"to": "maria@example.com.br", "subject": "Novidades", "html": "<p>Oi</p>"},
        {"to": "joao@example.com.br", "subject": "Novidades", "html": "<p>Oi</p>", "headers": {"Bcc": "spy@x.com"}},
    ]
    with respx.mock(assert_all_called=False) as mock:
        batch = mock.post(f"{RESEND_SEND}/batch").respond(200, json={"data": [{"id": "a"}, {"id": "b"}]})
        with pytest.raises(InvalidRequestError, match=r"emails\.1\.headers"):
            load_function("email_send_batch").handler({"org_id": "demo", "emails": emails}, FakeLambdaContext())
        assert batch.call_count == 0
    assert ses_sent(aws) == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "https://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:22/",
        "https://127.0.0.1:22/",
        "http://10.0.0.5/x.png",
        "https://10.0.0.5/x.png",
        "https://[fd00:ec2::254]/latest/meta-data/",
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://ops:secret@cdn.example.com/x.png",
    ],
)
def test_whatsapp_media_links_into_private_networks_never_reach_the_provider(aws: HubAws, url: str) -> None:
    send = load_function("whatsapp_send_media")
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(EVO_MEDIA).respond(201, json=EVO_SENT)
        with pytest.raises(InvalidRequestError, match=r"media\.url"):
            send.handler(
                {"org_id": "demo", "to": PHONE, "media_type": "image", "media": {"url": url}}, FakeLambdaContext()
            )
        assert route.call_count == 0


def test_a_name_that_resolves_to_a_private_address_is_refused_and_a_public_one_is_sent(
    aws: HubAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = {"rebind.attacker.example": ["10.0.0.5"], "cdn.agency.example": ["93.184.215.14"]}
    monkeypatch.setattr(urls, "resolve_host", lambda host: answers[host])
    send = load_function("whatsapp_send_media")
    payload: dict[str, Any] = {"org_id": "demo", "to": PHONE, "media_type": "image"}
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(EVO_MEDIA).respond(201, json=EVO_SENT)
        with pytest.raises(InvalidRequestError, match=r"media\.url: .*public address"):
            send.handler({**payload, "media": {"url": "https://rebind.attacker.example/a.png"}}, FakeLambdaContext())
        assert route.call_count == 0
        send.handler({**payload, "media": {"url": "https://cdn.agency.example/a.png"}}, FakeLambdaContext())
        assert route.call_count == 1
        assert json.loads(route.calls.last.request.content)["media"] == "https://cdn.agency.example/a.png"


def test_a_template_header_link_into_a_private_network_never_reaches_the_provider(aws: HubAws) -> None:
    template = {
        "name": "proposta",
        "language": "pt_BR",
        "header": {"type": "document", "url": "https://10.0.0.5/p.pdf"},
    }
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(EVO_TEMPLATE).respond(201, json=EVO_SENT)
        with pytest.raises(InvalidRequestError, match=r"template\.header\.url"):
            load_function("whatsapp_send_template").handler(
                {"org_id": "demo", "to": PHONE, "template": template}, FakeLambdaContext()
            )
        assert route.call_count == 0
