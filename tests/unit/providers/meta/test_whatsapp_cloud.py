"""WhatsAppCloudClient against the Cloud API's documented requests, answers and error bodies."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hub.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    OutcomeUnknownError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.providers.meta.whatsapp_cloud import DEFAULT_GRAPH_VERSION, WhatsAppCloudClient, WhatsAppCloudCredentials
from hub.providers.outbound import MediaMessage, TemplateButton, TemplateHeader, WhatsAppTemplate
from hub.retry import RetryPolicy
from tests.helpers import AdapterFactory, recording

CREDS = WhatsAppCloudCredentials(
    access_token=SecretStr("EAAG-secret-token"),
    phone_number_id="106540352242922",
    waba_id="102290129340398",
)
TO = "+5511987654321"
WAMID = "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjVBQjIzQzRENUU2RjdBOEI5QwA="
# https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages (200 answer)
SEND_OK = {
    "messaging_product": "whatsapp",
    "contacts": [{"input": "5511987654321", "wa_id": "5511987654321"}],
    "messages": [{"id": WAMID, "message_status": "accepted"}],
}


client_with = AdapterFactory(WhatsAppCloudClient, CREDS, attempts=3)


def capture(answer: dict[str, Any] | None = None) -> tuple[list[httpx.Request], Any]:
    seen, handler = recording(httpx.Response(200, json=answer or SEND_OK))

    return seen, handler


def meta_error(code: int, message: str, *, details: str | None = None, kind: str = "OAuthException") -> dict[str, Any]:
    """Graph error body (https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes)."""
    error: dict[str, Any] = {"message": message, "type": kind, "code": code, "fbtrace_id": "AazR5xQ2pL0"}
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return {"error": error}


# ----- request shapes --------------------------------------------------------------------


def test_send_text_posts_to_the_versioned_phone_number_with_bearer() -> None:
    seen, handler = capture()
    sent = client_with(handler).send_text(TO, "Olá!", preview_url=True)

    [request] = seen
    assert request.method == "POST"
    assert str(request.url) == f"https://graph.facebook.com/{DEFAULT_GRAPH_VERSION}/106540352242922/messages"
    assert request.headers["authorization"] == "Bearer EAAG-secret-token"
    assert json.loads(request.content) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5511987654321",
        "type": "text",
        "text": {"body": "Olá!", "preview_url": True},
    }
    assert sent.provider == "whatsapp_cloud"
    assert sent.message_id == WAMID
    assert sent.to == TO
    assert sent.status == "accepted"


def test_the_secret_can_pin_graph_version_and_base_url() -> None:
    creds = CREDS.model_copy(update={"graph_version": "v24.0", "base_url": "http://127.0.0.1:4010/whatsapp_cloud/"})
    seen, handler = capture()
    client_with(handler, creds=creds).send_text(TO, "oi")
    assert str(seen[0].url) == "http://127.0.0.1:4010/whatsapp_cloud/v24.0/106540352242922/messages"


def test_status_defaults_to_accepted_when_meta_omits_message_status() -> None:
    answer = {**SEND_OK, "messages": [{"id": WAMID}]}
    _, handler = capture(answer)
    assert client_with(handler).send_text(TO, "oi").status == "accepted"


def test_an_answer_without_message_id_is_unavailable() -> None:
    _, handler = capture({"messaging_product": "whatsapp", "contacts": [], "messages": []})
    with pytest.raises(ProviderUnavailableError, match="no message id"):
        client_with(handler).send_text(TO, "oi")


@pytest.mark.parametrize(
    ("media", "expected"),
    [
        (
            MediaMessage(media_type="image", url="https://cdn.example.com/a.jpg", caption="Foto", filename="a.jpg"),
            {"link": "https://cdn.example.com/a.jpg", "caption": "Foto"},
        ),
        (
            MediaMessage(media_type="video", url="https://cdn.example.com/v.mp4"),
            {"link": "https://cdn.example.com/v.mp4"},
        ),
        (
            MediaMessage(
                media_type="document", url="https://cdn.example.com/p.pdf", caption="Proposta", filename="p.pdf"
            ),
            {"link": "https://cdn.example.com/p.pdf", "caption": "Proposta", "filename": "p.pdf"},
        ),
        (
            MediaMessage(media_type="audio", url="https://cdn.example.com/n.ogg", filename="n.ogg"),
            {"link": "https://cdn.example.com/n.ogg"},
        ),
    ],
)
def test_send_media_body_per_type(media: MediaMessage, expected: dict[str, Any]) -> None:
    seen, handler = capture()
    client_with(handler).send_media(TO, media)
    body = json.loads(seen[0].content)
    assert body["type"] == media.media_type
    assert body[media.media_type] == expected
    assert body["messaging_product"] == "whatsapp" and body["to"] == "5511987654321"


def test_audio_with_caption_is_refused_before_any_call() -> None:
    seen, handler = capture()
    media = MediaMessage(media_type="audio", url="https://cdn.example.com/n.ogg", caption="ouça")
    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).send_media(TO, media)
    assert info.value.code == "caption_not_supported"
    assert seen == []


def test_template_components_for_header_body_and_buttons() -> None:
    template = WhatsAppTemplate(
        name="lembrete_reuniao",
        language="pt_BR",
        header=TemplateHeader(type="document", url="https://cdn.example.com/pauta.pdf", filename="pauta.pdf"),
        body_parameters=["Ana", "terça às 10h"],
        buttons=[
            TemplateButton(sub_type="url", index=0, value="reuniao/123"),
            TemplateButton(sub_type="quick_reply", index=1, value="CONFIRMAR"),
        ],
    )
    assert template.components() == [
        {
            "type": "header",
            "parameters": [
                {"type": "document", "document": {"link": "https://cdn.example.com/pauta.pdf", "filename": "pauta.pdf"}}
            ],
        },
        {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "terça às 10h"}]},
        {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "reuniao/123"}]},
        {
            "type": "button",
            "sub_type": "quick_reply",
            "index": "1",
            "parameters": [{"type": "payload", "payload": "CONFIRMAR"}],
        },
    ]

    seen, handler = capture()
    client_with(handler).send_template(TO, template)
    body = json.loads(seen[0].content)
    assert body["type"] == "template"
    assert body["template"] == {
        "name": "lembrete_reuniao",
        "language": {"code": "pt_BR"},
        "components": template.components(),
    }


def test_template_without_parameters_sends_no_components() -> None:
    seen, handler = capture()
    client_with(handler).send_template(TO, WhatsAppTemplate(name="hello_world", language="en_US"))
    assert json.loads(seen[0].content)["template"] == {"name": "hello_world", "language": {"code": "en_US"}}


def test_text_header_component() -> None:
    template = WhatsAppTemplate(name="aviso", language="pt_BR", header=TemplateHeader(type="text", text="Olá Ana"))
    assert template.components() == [{"type": "header", "parameters": [{"type": "text", "text": "Olá Ana"}]}]


def test_health_check_gets_the_phone_number_node() -> None:
    node = {
        "verified_name": "Somos",
        "display_phone_number": "+55 11 4000-0000",
        "quality_rating": "GREEN",
        "id": "106540352242922",
    }
    seen, handler = capture(node)
    client_with(handler).health_check()
    assert seen[0].method == "GET"
    assert seen[0].url.path == f"/{DEFAULT_GRAPH_VERSION}/106540352242922"
    assert "quality_rating" in seen[0].url.params["fields"]

    expired = meta_error(190, "Error validating access token: Session has expired")
    with pytest.raises(AuthenticationError):
        client_with(lambda r: httpx.Response(401, json=expired)).health_check()


def test_the_account_scope_is_the_phone_number() -> None:
    assert client_with(capture()[1]).account_scope() == "106540352242922"


# ----- errors ----------------------------------------------------------------------------


def test_throughput_limit_is_rate_limited_and_retried() -> None:
    calls: list[int] = []
    body = meta_error(130429, "(#130429) Rate limit hit", details="Cloud API message throughput has been reached.")

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(400, json=body)

    client = WhatsAppCloudClient(
        CREDS,
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        retry_policy=RetryPolicy(sleep=lambda _: None, max_total_sleep=1000),
    )
    with pytest.raises(RateLimitedError) as info:
        client.send_text(TO, "oi")
    assert info.value.code == "130429"
    assert info.value.retry_after == 60
    assert info.value.request_id == "AazR5xQ2pL0"
    assert len(calls) == 3


def test_a_retry_after_header_is_honoured() -> None:
    body = meta_error(130429, "(#130429) Rate limit hit")
    response = httpx.Response(429, json=body, headers={"Retry-After": "7"})
    error = client_with(capture()[1]).classify(response)
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 7


def test_the_business_use_case_header_gives_the_wait() -> None:
    usage = {"102290129340398": [{"type": "whatsapp", "call_count": 100, "estimated_time_to_regain_access": 5}]}
    response = httpx.Response(
        400, json=meta_error(80008, "(#80008) Rate limit"), headers={"X-Business-Use-Case-Usage": json.dumps(usage)}
    )
    error = client_with(capture()[1]).classify(response)
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 300


def test_outside_the_24_hour_window_names_the_rule_and_is_not_retried() -> None:
    calls: list[int] = []
    body = meta_error(
        131047,
        "(#131047) Re-engagement message",
        details="Message failed to send because more than 24 hours have passed since the customer last replied "
        "to this number.",
    )

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(400, json=body)

    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).send_text(TO, "oi")
    assert info.value.code == "131047"
    assert "24-hour" in info.value.message
    assert "template" in info.value.message
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (401, 190, AuthenticationError),
        (403, 10, AuthenticationError),
        (500, 131000, ProviderUnavailableError),
        (503, 2, ProviderUnavailableError),
        (400, 131026, InvalidRequestError),
        (400, 131053, InvalidRequestError),
        (400, 100, InvalidRequestError),
    ],
)
def test_documented_codes_map_to_the_taxonomy(status: int, code: int, kind: type[Exception]) -> None:
    error = client_with(capture()[1]).classify(httpx.Response(status, json=meta_error(code, f"(#{code}) x")))
    assert type(error) is kind
    assert error is not None and error.code == str(code) and error.http_status == status


@pytest.mark.parametrize("code", [132000, 132001, 132005, 132007, 132012, 132015, 132016, 132018])
def test_template_errors_are_invalid_requests_with_meta_details(code: int) -> None:
    details = "body: number of localizable_params (1) does not match the expected number of params (2)"
    body = meta_error(code, f"(#{code}) Template problem", details=details)
    with pytest.raises(InvalidRequestError) as info:
        client_with(lambda r: httpx.Response(400, json=body)).send_template(
            TO, WhatsAppTemplate(name="lembrete_reuniao", language="pt_BR", body_parameters=["Ana"])
        )
    assert info.value.code == str(code)
    assert "template" in info.value.message.lower()
    assert details in info.value.message


def test_payment_issue_waits_an_hour_instead_of_disabling_the_integration() -> None:
    body = meta_error(131042, "(#131042) Business eligibility payment issue")
    error = client_with(capture()[1]).classify(httpx.Response(400, json=body))
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 3600
    assert error.code == "131042"


def test_server_errors_without_a_graph_body_are_unavailable() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(503, text="Service Unavailable")

    with pytest.raises(ProviderUnavailableError):
        client_with(handler).send_text(TO, "oi")
    assert len(calls) == 2  # one quick retry, then fail over (hub.retry)


def test_a_gateway_error_on_a_send_is_an_unknown_outcome_sent_once() -> None:
    # A 502/504 from a proxy says nothing about whether Meta took the message: retrying it
    # could deliver it twice.
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(502, text="Bad Gateway")

    with pytest.raises(OutcomeUnknownError) as info:
        client_with(handler).send_text(TO, "oi")
    assert info.value.code == "gateway_error"
    assert len(calls) == 1


def test_errors_never_carry_the_token_or_the_text() -> None:
    body = meta_error(100, "(#100) Invalid parameter")
    with pytest.raises(InvalidRequestError) as info:
        client_with(lambda r: httpx.Response(400, json=body)).send_text(TO, "segredo do cliente")
    assert "EAAG-secret-token" not in str(info.value.to_dict())
    assert "segredo do cliente" not in str(info.value.to_dict())


def test_malformed_credentials_name_the_field_but_not_the_value() -> None:
    with pytest.raises(ConfigurationError) as info:
        WhatsAppCloudClient.parse_credentials({"access_token": "EAAG-very-secret"})
    assert "phone_number_id" in info.value.message
    assert "EAAG-very-secret" not in info.value.message
    with pytest.raises(ConfigurationError, match="graph_version"):
        WhatsAppCloudClient.parse_credentials({"access_token": "x", "phone_number_id": "1", "graph_version": "latest"})
