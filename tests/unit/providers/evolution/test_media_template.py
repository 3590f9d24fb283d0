"""EvolutionClient media and template sends, and messages.update status webhooks (Evolution API v2)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hub.errors import InvalidRequestError, ProviderUnavailableError
from hub.providers.evolution.client import EvolutionClient, EvolutionCredentials
from hub.providers.evolution.webhook import normalise_evolution_webhook
from hub.providers.outbound import MediaMessage, WhatsAppTemplate
from tests.helpers import AdapterFactory, recording

CREDS = EvolutionCredentials(base_url="https://evo.example.com", api_key=SecretStr("evo-key"), instance="principal")
TO = "+5511987654321"
WAMID = "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjVBQjIzQzRENUU2RjdBOEI5QwA="


def stored(message_id: str = "3EB0A9F3C1D2E4F5A6B7", message_type: str = "imageMessage") -> dict[str, Any]:
    """Evolution's 201 answer: the stored message (key, status PENDING)."""
    return {
        "key": {"remoteJid": "5511987654321@s.whatsapp.net", "fromMe": True, "id": message_id},
        "pushName": "",
        "status": "PENDING",
        "message": {message_type: {"url": "https://mmg.whatsapp.net/x"}},
        "messageType": message_type,
        "messageTimestamp": 1763850000,
        "instanceId": "9d6c3e1f-0000-4000-8000-000000000001",
        "source": "unknown",
    }


client_with = AdapterFactory(EvolutionClient, CREDS, attempts=3)


def capture(status: int = 201, answer: dict[str, Any] | None = None) -> tuple[list[httpx.Request], Any]:
    seen, handler = recording(httpx.Response(status, json=answer if answer is not None else stored()))

    return seen, handler


# ----- sendMedia / sendWhatsAppAudio ------------------------------------------------------


def test_send_media_posts_the_v2_flat_body() -> None:
    seen, handler = capture()
    media = MediaMessage(
        media_type="document",
        url="https://files.example.com/p/proposta.pdf?sig=abc",
        mimetype="application/pdf",
        filename="Proposta.pdf",
        caption="Segue a proposta",
    )
    sent = client_with(handler).send_media(TO, media)

    [request] = seen
    assert str(request.url) == "https://evo.example.com/message/sendMedia/principal"
    assert request.headers["apikey"] == "evo-key"
    assert json.loads(request.content) == {
        "number": "5511987654321",
        "mediatype": "document",
        "mimetype": "application/pdf",
        "caption": "Segue a proposta",
        "media": "https://files.example.com/p/proposta.pdf?sig=abc",
        "fileName": "Proposta.pdf",
    }
    assert sent.provider == "evolution"
    assert sent.message_id == "3EB0A9F3C1D2E4F5A6B7"
    assert sent.status == "PENDING"


def test_send_media_derives_file_name_and_mimetype_from_the_url() -> None:
    seen, handler = capture()
    client_with(handler).send_media(TO, MediaMessage(media_type="image", url="https://cdn.example.com/img/foto.png"))
    body = json.loads(seen[0].content)
    assert body == {
        "number": "5511987654321",
        "mediatype": "image",
        "media": "https://cdn.example.com/img/foto.png",
        "mimetype": "image/png",
        "fileName": "foto.png",
    }


def test_audio_goes_to_send_whatsapp_audio() -> None:
    seen, handler = capture(answer=stored(message_type="audioMessage"))
    sent = client_with(handler).send_media(TO, MediaMessage(media_type="audio", url="https://cdn.example.com/n.ogg"))
    assert str(seen[0].url) == "https://evo.example.com/message/sendWhatsAppAudio/principal"
    assert json.loads(seen[0].content) == {"number": "5511987654321", "audio": "https://cdn.example.com/n.ogg"}
    assert sent.message_id == "3EB0A9F3C1D2E4F5A6B7"


def test_audio_with_caption_is_refused_before_any_call() -> None:
    seen, handler = capture()
    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).send_media(
            TO, MediaMessage(media_type="audio", url="https://cdn.example.com/n.ogg", caption="ouça")
        )
    assert info.value.code == "caption_not_supported"
    assert seen == []


# ----- sendTemplate ---------------------------------------------------------------------

TEMPLATE = WhatsAppTemplate(name="lembrete_reuniao", language="pt_BR", body_parameters=["Ana", "terça às 10h"])


def test_send_template_posts_name_language_and_components() -> None:
    seen, handler = capture(answer=stored(message_id=WAMID, message_type="conversation"))
    sent = client_with(handler).send_template(TO, TEMPLATE)
    assert str(seen[0].url) == "https://evo.example.com/message/sendTemplate/principal"
    assert json.loads(seen[0].content) == {
        "number": "5511987654321",
        "name": "lembrete_reuniao",
        "language": "pt_BR",
        "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "terça às 10h"}]}
        ],
    }
    assert sent.message_id == WAMID


@pytest.mark.parametrize(
    ("status", "body"),
    [
        # Baileys throws a plain Error (whatsapp.baileys.service.ts templateMessage).
        (
            500,
            {
                "status": 500,
                "error": "Internal Server Error",
                "response": {"message": "Method not available in the Baileys service"},
            },
        ),
        # The Evolution channel throws BadRequestException.
        (
            400,
            {
                "status": 400,
                "error": "Bad Request",
                "response": {"message": ["Method not available on Evolution Channel"]},
            },
        ),
    ],
)
def test_instances_without_the_official_api_cannot_send_templates(status: int, body: dict[str, Any]) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(status, json=body)

    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).send_template(TO, TEMPLATE)
    assert info.value.code == "templates_not_supported"
    assert "does not support template" in info.value.message
    assert len(calls) == 1  # not retried as a server error


def test_meta_refusal_relayed_in_a_201_body_is_mapped() -> None:
    # whatsapp.business.service.ts returns Meta's error object as the send's answer.
    relayed = {
        "message": "(#132000) Number of parameters does not match the expected number of params",
        "type": "OAuthException",
        "code": 132000,
        "error_data": {
            "messaging_product": "whatsapp",
            "details": "body: number of localizable_params (1) does not match the expected number of params (2)",
        },
        "fbtrace_id": "AazR5xQ2pL0",
    }
    _, handler = capture(answer=relayed)
    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).send_template(TO, TEMPLATE)
    assert info.value.code == "132000"
    assert info.value.provider == "evolution"
    assert "expected number of params (2)" in info.value.message


def test_a_201_without_key_or_error_is_unavailable() -> None:
    _, handler = capture(answer={"status": "PENDING"})
    with pytest.raises(ProviderUnavailableError, match="no message id"):
        client_with(handler).send_template(TO, TEMPLATE)


# ----- messages.update → message.status ---------------------------------------------------

RECEIVED = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def update(status: str | int | None = "DELIVERY_ACK", *, event: str = "messages.update", **data: Any) -> dict[str, Any]:
    """A v2 messages.update delivery (whatsapp.baileys.service.ts, sendDataWebhook MESSAGES_UPDATE)."""
    item = {
        "messageId": "cmhx1y2z30001abcd",  # Evolution's database id, not WhatsApp's
        "keyId": "3EB0A9F3C1D2E4F5A6B7",
        "remoteJid": "5511987654321@s.whatsapp.net",
        "fromMe": True,
        "participant": "5511987654321@s.whatsapp.net",
        "status": status,
        "instanceId": "9d6c3e1f-0000-4000-8000-000000000001",
    }
    item.update(data)
    return {
        "event": event,
        "instance": "principal",
        "data": item,
        "destination": "https://hub.example.com/webhooks/evolution/demo",
        "date_time": "2026-11-22T11:59:30.000Z",
        "sender": "5511940000000@s.whatsapp.net",
        "server_url": "https://evo.example.com",
        "apikey": "evo-key",
    }


def normalise(payload: dict[str, Any]) -> list[Any]:
    return normalise_evolution_webhook(payload, org_id="demo", received_at=RECEIVED, raw_ref="raw/u.json")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("ERROR", "failed"),
        ("PENDING", "queued"),
        ("SERVER_ACK", "sent"),
        ("DELIVERY_ACK", "delivered"),
        ("READ", "read"),
        ("PLAYED", "read"),
        # official-API instances send Meta's statuses upper-cased
        ("SENT", "sent"),
        ("DELIVERED", "delivered"),
        ("FAILED", "failed"),
        # Baileys' numeric statuses
        (0, "failed"),
        (2, "sent"),
        (3, "delivered"),
        (4, "read"),
    ],
)
def test_status_mapping(status: str | int, expected: str) -> None:
    [event] = normalise(update(status))
    assert event.type == "message.status"
    assert event.data["status"] == expected


def test_our_delivered_message_becomes_message_status() -> None:
    [event] = normalise(update("DELIVERY_ACK", event="MESSAGES_UPDATE"))
    assert event.provider == "evolution"
    assert event.data == {
        "channel": "whatsapp",
        "message_id": "3EB0A9F3C1D2E4F5A6B7",
        "status": "delivered",
        "recipient": "+5511987654321",
        "error_code": None,
        "error_message": None,
    }
    assert event.dedupe_key == "3EB0A9F3C1D2E4F5A6B7:delivered"
    assert event.occurred_at == datetime(2026, 11, 22, 11, 59, 30, tzinfo=UTC)
    assert event.raw_ref == "raw/u.json"


def test_read_and_played_are_one_transition() -> None:
    [read] = normalise(update("READ"))
    [played] = normalise(update("PLAYED"))
    assert read.event_id == played.event_id


def test_early_v2_shape_with_the_key_spread() -> None:
    payload = update("SERVER_ACK")
    payload["data"] = {
        "id": "BAE5F1A2B3C4D5E6",
        "remoteJid": "5511987654321@s.whatsapp.net",
        "fromMe": True,
        "status": "SERVER_ACK",
        "dateTime": "2024-05-01T10:00:00.000Z",
    }
    [event] = normalise(payload)
    assert event.data["message_id"] == "BAE5F1A2B3C4D5E6"
    assert event.data["status"] == "sent"


def test_lid_recipients_are_kept_without_a_phone() -> None:
    [event] = normalise(update("READ", remoteJid="123456789012345@lid"))
    assert event.data["recipient"] is None
    assert event.data["message_id"] == "3EB0A9F3C1D2E4F5A6B7"


def test_contact_messages_deletions_and_unknown_statuses_produce_no_event() -> None:
    assert normalise(update("READ", fromMe=False)) == []  # we read the contact's message
    assert normalise(update("DELETED")) == []
    assert normalise(update("SOMETHING_NEW")) == []
    assert normalise(update(None)) == []


def test_batched_updates_produce_one_event_each() -> None:
    payload = update("DELIVERY_ACK")
    second = {**payload["data"], "keyId": "3EB0FFFFFFFFFFFFFFFF", "status": "READ"}
    payload["data"] = [payload["data"], second]
    events = normalise(payload)
    assert [(e.data["message_id"], e.data["status"]) for e in events] == [
        ("3EB0A9F3C1D2E4F5A6B7", "delivered"),
        ("3EB0FFFFFFFFFFFFFFFF", "read"),
    ]
