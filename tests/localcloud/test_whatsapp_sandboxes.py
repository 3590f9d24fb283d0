"""The WhatsApp Cloud API sandbox and the Evolution sandbox's media/template endpoints, raw and
through the adapters, served alone on a free port."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hub.errors import AuthenticationError, InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.providers.evolution.client import EvolutionClient, EvolutionCredentials
from hub.providers.meta.whatsapp_cloud import WhatsAppCloudClient, WhatsAppCloudCredentials
from hub.providers.outbound import MediaMessage, WhatsAppTemplate
from hub.retry import RetryPolicy
from localcloud.sandboxes import evolution as evolution_sandbox
from localcloud.sandboxes.evolution import BAILEYS_INSTANCE
from localcloud.sandboxes.whatsapp_cloud import (
    DEMO_ACCESS_TOKEN,
    DEMO_GRAPH_VERSION,
    DEMO_PHONE_NUMBER_ID,
    DEMO_TEMPLATES,
)
from tests.conftest import ServedSandboxes

NO_SLEEP = RetryPolicy(sleep=lambda _: None)
BEARER = {"Authorization": f"Bearer {DEMO_ACCESS_TOKEN}"}
EVO = {"apikey": evolution_sandbox.DEMO_API_KEY}
TO = "+5511987654321"
WAMID = re.compile(r"^wamid\.HBg[A-Za-z0-9+/]+=*$")


@pytest.fixture
def sandbox_url(sandboxes: ServedSandboxes) -> str:
    return sandboxes.url  # state and faults are reset around every test


def cloud(sandbox_url: str, **overrides: Any) -> WhatsAppCloudClient:
    values: dict[str, Any] = {
        "base_url": f"{sandbox_url}/whatsapp_cloud",
        "access_token": SecretStr(DEMO_ACCESS_TOKEN),
        "phone_number_id": DEMO_PHONE_NUMBER_ID,
        "graph_version": DEMO_GRAPH_VERSION,
    }
    values.update(overrides)
    return WhatsAppCloudClient(WhatsAppCloudCredentials(**values), retry_policy=NO_SLEEP)


def evolution(sandbox_url: str, instance: str = evolution_sandbox.DEMO_INSTANCE) -> EvolutionClient:
    creds = EvolutionCredentials(
        base_url=f"{sandbox_url}/evolution", api_key=SecretStr(evolution_sandbox.DEMO_API_KEY), instance=instance
    )
    return EvolutionClient(creds, retry_policy=NO_SLEEP)


def messages_url(sandbox_url: str) -> str:
    return f"{sandbox_url}/whatsapp_cloud/{DEMO_GRAPH_VERSION}/{DEMO_PHONE_NUMBER_ID}/messages"


def text_body(to: str = "5511987654321", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"body": "oi"},
    }
    body.update(overrides)
    return body


def logged(sandbox_url: str, provider: str) -> list[dict[str, Any]]:
    return list(httpx.get(f"{sandbox_url}/__sandbox/requests", params={"provider": provider}).json())


# ----- WhatsApp Cloud API: raw contract ----------------------------------------------------


def test_cloud_send_contract(sandbox_url: str) -> None:
    url = messages_url(sandbox_url)

    resp = httpx.post(url, json=text_body(), headers=BEARER)
    assert resp.status_code == 200
    body = resp.json()
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": "5511987654321", "wa_id": "5511987654321"}]
    [message] = body["messages"]
    assert message["message_status"] == "accepted"
    assert WAMID.fullmatch(message["id"])
    assert b"5511987654321" in base64.b64decode(message["id"].removeprefix("wamid."))

    resp = httpx.post(url, json=text_body(), headers={"Authorization": "Bearer wrong"})
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == 190
    assert resp.json()["error"]["type"] == "OAuthException"
    assert resp.headers["x-fb-trace-id"] == resp.json()["error"]["fbtrace_id"]

    resp = httpx.post(url, json=text_body(messaging_product="sms"), headers=BEARER)
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == 100

    resp = httpx.post(url, json=text_body(to="not-a-number"), headers=BEARER)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == 100

    media = text_body(type="audio", audio={"link": "https://cdn.example.com/n.ogg", "caption": "x"})
    del media["text"]
    resp = httpx.post(url, json=media, headers=BEARER)
    assert resp.status_code == 400 and "caption" in resp.json()["error"]["message"]

    resp = httpx.post(url, json=text_body(to="550011112222"), headers=BEARER)
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["code"] == 131026
    assert error["error_data"]["messaging_product"] == "whatsapp"

    other_number = f"{sandbox_url}/whatsapp_cloud/{DEMO_GRAPH_VERSION}/999/messages"
    resp = httpx.post(other_number, json=text_body(), headers=BEARER)
    assert resp.status_code == 400 and resp.json()["error"]["error_subcode"] == 33


def test_cloud_template_validation(sandbox_url: str) -> None:
    url = messages_url(sandbox_url)
    assert DEMO_TEMPLATES["lembrete_reuniao"].body_parameters == 2

    def template(name: str, params: list[str], language: str = "pt_BR") -> dict[str, Any]:
        body = text_body(type="template")
        del body["text"]
        components = [{"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}] if params else []
        body["template"] = {"name": name, "language": {"code": language}, "components": components}
        return body

    assert httpx.post(url, json=template("lembrete_reuniao", ["Ana", "10h"]), headers=BEARER).status_code == 200
    assert httpx.post(url, json=template("retomar_conversa", ["Ana"]), headers=BEARER).status_code == 200

    resp = httpx.post(url, json=template("lembrete_reuniao", ["Ana"]), headers=BEARER)
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["code"] == 132000
    assert error["error_data"]["details"] == (
        "body: number of localizable_params (1) does not match the expected number of params (2)"
    )

    resp = httpx.post(url, json=template("nao_existe", []), headers=BEARER)
    assert resp.json()["error"]["code"] == 132001
    resp = httpx.post(url, json=template("lembrete_reuniao", ["Ana", "10h"], language="en_US"), headers=BEARER)
    assert resp.json()["error"]["code"] == 132001


def test_cloud_phone_number_node(sandbox_url: str) -> None:
    url = f"{sandbox_url}/whatsapp_cloud/{DEMO_GRAPH_VERSION}/{DEMO_PHONE_NUMBER_ID}"
    resp = httpx.get(url, params={"fields": "quality_rating,display_phone_number"}, headers=BEARER)
    assert resp.status_code == 200
    assert resp.json() == {
        "quality_rating": "GREEN",
        "display_phone_number": "+55 11 4000-0000",
        "id": DEMO_PHONE_NUMBER_ID,
    }
    assert httpx.get(url).status_code == 400  # no token


# ----- WhatsApp Cloud API: through the adapter ---------------------------------------------


def test_cloud_adapter_against_the_sandbox(sandbox_url: str) -> None:
    client = cloud(sandbox_url)
    client.health_check()

    sent = client.send_text(TO, "Olá!")
    assert WAMID.fullmatch(sent.message_id) and sent.status == "accepted"
    doc = MediaMessage(media_type="document", url="https://cdn.example.com/p.pdf", filename="p.pdf", caption="Proposta")
    client.send_media(TO, doc)
    client.send_template(TO, WhatsAppTemplate(name="retomar_conversa", language="pt_BR", body_parameters=["Ana"]))

    [text, media, template] = [r["json"] for r in logged(sandbox_url, "whatsapp_cloud") if r["method"] == "POST"]
    assert text["text"] == {"body": "Olá!", "preview_url": False}
    assert media["document"] == {"link": "https://cdn.example.com/p.pdf", "caption": "Proposta", "filename": "p.pdf"}
    assert template["template"]["components"] == [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]

    with pytest.raises(InvalidRequestError) as info:
        client.send_template(TO, WhatsAppTemplate(name="lembrete_reuniao", language="pt_BR", body_parameters=["Ana"]))
    assert info.value.code == "132000"

    with pytest.raises(InvalidRequestError) as info:
        client.send_text("+5501987654321", "oi")  # outside the 24-hour window in the sandbox
    assert info.value.code == "131047" and "24-hour" in info.value.message

    with pytest.raises(AuthenticationError):
        cloud(sandbox_url, access_token=SecretStr("wrong")).send_text(TO, "oi")


def test_cloud_faults_map_to_the_taxonomy(sandbox_url: str) -> None:
    client = cloud(sandbox_url)
    faults = f"{sandbox_url}/__sandbox/faults/whatsapp_cloud"

    assert httpx.put(faults, json={"mode": "rate_limited", "retry_after": 0, "times": 3}).status_code == 200
    with pytest.raises(RateLimitedError) as limited:
        client.send_text(TO, "oi")
    assert limited.value.code == "130429"

    assert httpx.put(faults, json={"mode": "error", "status": 500, "times": 3}).status_code == 200
    with pytest.raises(ProviderUnavailableError) as down:
        client.send_text(TO, "oi")
    assert down.value.code == "131000"


# ----- Evolution: sendMedia / sendWhatsAppAudio / sendTemplate ----------------------------


def test_evolution_media_contract(sandbox_url: str) -> None:
    base = f"{sandbox_url}/evolution/message"
    send = f"{base}/sendMedia/{evolution_sandbox.DEMO_INSTANCE}"
    media = {
        "number": "5511999999999",
        "mediatype": "image",
        "mimetype": "image/png",
        "caption": "Foto",
        "media": "https://cdn.example.com/f.png",
        "fileName": "f.png",
    }
    resp = httpx.post(send, json=media, headers=EVO)
    assert resp.status_code == 201
    body = resp.json()
    assert body["key"]["fromMe"] is True and re.fullmatch(r"BAE5[0-9A-F]{12}", body["key"]["id"])
    assert body["messageType"] == "imageMessage"
    assert body["message"]["imageMessage"]["caption"] == "Foto"

    resp = httpx.post(send, json={**media, "mediatype": "sticker"}, headers=EVO)
    assert resp.status_code == 400
    assert resp.json()["response"]["message"] == ["mediatype is not one of enum values: image,document,video,audio"]

    resp = httpx.post(send, json={"number": "5511999999999", "mediatype": "image"}, headers=EVO)
    assert resp.json()["response"]["message"] == ['instance requires property "media"']

    resp = httpx.post(send, json={**media, "number": "550011112222"}, headers=EVO)
    assert resp.status_code == 400 and resp.json()["response"]["message"][0]["exists"] is False

    audio = f"{base}/sendWhatsAppAudio/{evolution_sandbox.DEMO_INSTANCE}"
    resp = httpx.post(audio, json={"number": "5511999999999", "audio": "https://cdn.example.com/n.ogg"}, headers=EVO)
    assert resp.status_code == 201
    assert resp.json()["message"]["audioMessage"]["ptt"] is True

    assert httpx.post(send, json=media, headers={"apikey": "wrong"}).status_code == 401


def test_evolution_template_contract(sandbox_url: str) -> None:
    send = f"{sandbox_url}/evolution/message/sendTemplate/{evolution_sandbox.DEMO_INSTANCE}"
    ok = {
        "number": "5511999999999",
        "name": "retomar_conversa",
        "language": "pt_BR",
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}],
    }
    resp = httpx.post(send, json=ok, headers=EVO)
    assert resp.status_code == 201
    assert WAMID.fullmatch(resp.json()["key"]["id"])

    resp = httpx.post(send, json={**ok, "components": []}, headers=EVO)
    assert resp.status_code == 201  # Evolution relays Meta's refusal as its answer
    assert resp.json()["code"] == 132000

    resp = httpx.post(send, json={k: v for k, v in ok.items() if k != "language"}, headers=EVO)
    assert resp.status_code == 400
    assert resp.json()["response"]["message"] == ['instance requires property "language"']

    baileys = f"{sandbox_url}/evolution/message/sendTemplate/{BAILEYS_INSTANCE}"
    resp = httpx.post(baileys, json=ok, headers=EVO)
    assert resp.status_code == 500
    assert resp.json()["response"]["message"] == "Method not available in the Baileys service"


def test_evolution_adapter_media_and_templates_against_the_sandbox(sandbox_url: str) -> None:
    client = evolution(sandbox_url)
    image = client.send_media(TO, MediaMessage(media_type="image", url="https://cdn.example.com/f.png", caption="oi"))
    assert image.status == "PENDING"
    client.send_media(TO, MediaMessage(media_type="audio", url="https://cdn.example.com/n.ogg"))
    template = WhatsAppTemplate(name="lembrete_reuniao", language="pt_BR", body_parameters=["Ana", "10h"])
    sent = client.send_template(TO, template)
    assert WAMID.fullmatch(sent.message_id)

    paths = [r["path"] for r in logged(sandbox_url, "evolution")]
    assert paths == [
        f"/message/sendMedia/{evolution_sandbox.DEMO_INSTANCE}",
        f"/message/sendWhatsAppAudio/{evolution_sandbox.DEMO_INSTANCE}",
        f"/message/sendTemplate/{evolution_sandbox.DEMO_INSTANCE}",
    ]

    with pytest.raises(InvalidRequestError) as wrong_count:
        client.send_template(TO, WhatsAppTemplate(name="lembrete_reuniao", language="pt_BR", body_parameters=["Ana"]))
    assert wrong_count.value.code == "132000"

    with pytest.raises(InvalidRequestError) as unsupported:
        evolution(sandbox_url, BAILEYS_INSTANCE).send_template(TO, template)
    assert unsupported.value.code == "templates_not_supported"


def test_evolution_find_messages_contract_and_the_adapter_finding_its_send(sandbox_url: str) -> None:
    # Given: two texts to one number and one to another, sent through the adapter
    since = datetime.now(UTC) - timedelta(seconds=1)
    client = evolution(sandbox_url)
    first = client.send_text("+5511987654321", "primeiro")
    client.send_text("+5511987654321", "segundo")
    client.send_text("+5521999998888", "outro contato")
    url = f"{sandbox_url}/evolution/chat/findMessages/{evolution_sandbox.DEMO_INSTANCE}"
    # When: the chat is read, one message a page
    page = httpx.post(
        url,
        json={"where": {"key": {"remoteJid": "5511987654321@s.whatsapp.net"}}, "page": 2, "offset": 1},
        headers={"apikey": evolution_sandbox.DEMO_API_KEY},
    ).json()["messages"]
    # Then: Evolution's envelope, newest first, that chat only
    assert (page["total"], page["pages"], page["currentPage"]) == (2, 2, 2)
    assert [r["key"]["id"] for r in page["records"]] == [first.message_id]
    assert page["records"][0]["message"] == {"conversation": "primeiro"}
    denied = httpx.post(url, json={}, headers={"apikey": "wrong"})
    assert denied.status_code == 401
    # And the adapter finds exactly the send it looks for, and nothing for a text never sent
    found = client.find_sent("+5511987654321", since, ("conversation",), "primeiro")
    assert found is not None and found.message_id == first.message_id
    assert client.find_sent("+5511987654321", since, ("conversation",), "nunca enviado") is None
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert client.find_sent("+5511987654321", later, ("conversation",), "primeiro") is None
