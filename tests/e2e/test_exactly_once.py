"""The issue's reproduction, as a user drives the local cloud: Evolution answers after the
hub stopped waiting (it did send the message); the same idempotency key again must find that
message, not send a second one."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from localcloud import LocalCloud
from localcloud.sandboxes import evolution as evolution_sandbox
from tests.e2e.conftest import client, fault

pytestmark = pytest.mark.e2e

NUMBER = "5511987651234"


@pytest.fixture(autouse=True)
def no_faults(cloud: LocalCloud) -> Iterator[None]:
    yield
    httpx.delete(f"{cloud.sandbox_url}/__sandbox/faults/evolution", timeout=5)


def invoke(cloud: LocalCloud, payload: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    response = client(cloud, "lambda").invoke(FunctionName="WhatsAppSendText", Payload=json.dumps(payload).encode())
    return bool(response.get("FunctionError")), json.loads(response["Payload"].read())


def messages_at_evolution(cloud: LocalCloud, text: str) -> list[dict[str, Any]]:
    answer = httpx.post(
        f"{cloud.sandbox_url}/evolution/chat/findMessages/{evolution_sandbox.DEMO_INSTANCE}",
        json={"where": {"key": {"remoteJid": f"{NUMBER}@s.whatsapp.net"}}},
        headers={"apikey": evolution_sandbox.DEMO_API_KEY},
        timeout=5,
    ).json()
    return [r for r in answer["messages"]["records"] if r["message"].get("conversation") == text]


def test_a_slow_send_answered_as_unknown_is_found_again_not_resent(cloud: LocalCloud) -> None:
    text = f"Seu pedido {uuid.uuid4().hex[:8]} saiu para entrega"
    payload = {"org_id": "demo", "to": f"+{NUMBER}", "text": text, "idempotency_key": f"K-{uuid.uuid4().hex}"}
    # Given: Evolution takes longer than the hub waits (HTTP_READ_TIMEOUT, 10 s), then sends
    fault(cloud, "evolution", mode="slow", delay_seconds=12, times=1)
    # When
    failed, first = invoke(cloud, payload)
    # Then: an unknown outcome, naming the key
    assert failed and first["errorType"] == "OutcomeUnknownError", first

    # When: Evolution has sent it, and the caller asks again with the same key
    deadline = time.monotonic() + 30
    while not messages_at_evolution(cloud, text):
        assert time.monotonic() < deadline, "Evolution never stored the slow message"
        time.sleep(0.2)
    failed, second = invoke(cloud, payload)
    # Then: the message Evolution sent is the answer, and it was sent once
    assert not failed, second
    [sent] = messages_at_evolution(cloud, text)
    assert second["message_id"] == sent["key"]["id"]
    log = httpx.get(f"{cloud.sandbox_url}/__sandbox/requests", params={"provider": "evolution"}, timeout=5).json()
    sends = [r for r in log if "/message/sendText/" in r["path"] and text in json.dumps(r)]
    assert len(sends) == 1
