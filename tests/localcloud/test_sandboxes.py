from __future__ import annotations

import json
import re
import time
from typing import Any

import httpx
import pytest

from localcloud.sandboxes import evolution as evolution_sandbox

pytestmark = pytest.mark.e2e  # boots a LocalCloud

HEADERS = {"apikey": evolution_sandbox.DEMO_API_KEY}


@pytest.fixture
def cloud(start_cloud: Any) -> Any:
    return start_cloud(serve_api=False, serve_lambda=False)


def test_demo_secrets_follow_the_sandbox_port(cloud: Any) -> None:
    secret = cloud.client("secretsmanager").get_secret_value(SecretId="fixhub/demo/evolution")  # SECRETS_PREFIX
    assert json.loads(secret["SecretString"]) == {
        "base_url": f"{cloud.sandbox_url}/evolution",
        "api_key": evolution_sandbox.DEMO_API_KEY,
        "instance": evolution_sandbox.DEMO_INSTANCE,
        "webhook_token": evolution_sandbox.DEMO_WEBHOOK_TOKEN,
    }


def test_evolution_send_text_contract(cloud: Any) -> None:
    base = f"{cloud.sandbox_url}/evolution"
    send = f"{base}/message/sendText/{evolution_sandbox.DEMO_INSTANCE}"

    resp = httpx.post(send, json={"number": "5511999999999", "text": "oi"}, headers={"apikey": "wrong"})
    assert resp.status_code == 401
    assert resp.json() == {"status": 401, "error": "Unauthorized", "response": {"message": "Unauthorized"}}

    resp = httpx.post(f"{base}/message/sendText/ghost", json={"number": "5511999999999", "text": "oi"}, headers=HEADERS)
    assert resp.status_code == 404
    assert resp.json() == {
        "status": 404,
        "error": "Not Found",
        "response": {"message": ['The "ghost" instance does not exist']},
    }

    before = int(time.time())
    resp = httpx.post(send, json={"number": "5511999999999", "text": "olá", "delay": 1200}, headers=HEADERS)
    assert resp.status_code == 201
    body = resp.json()
    assert body["key"]["remoteJid"] == "5511999999999@s.whatsapp.net"
    assert body["key"]["fromMe"] is True
    assert re.fullmatch(r"BAE5[0-9A-F]{12}", body["key"]["id"])
    assert body["status"] == "PENDING"
    assert body["message"] == {"conversation": "olá"}
    assert body["messageType"] == "conversation"
    assert body["contextInfo"] is None and body["pushName"] == "" and body["source"] == "unknown"
    assert isinstance(body["messageTimestamp"], int) and body["messageTimestamp"] >= before
    assert re.fullmatch(r"[0-9a-f-]{36}", body["instanceId"])

    resp = httpx.post(send, json={"number": "5511999999999", "textMessage": {"text": "v1"}}, headers=HEADERS)
    assert resp.status_code == 400
    assert resp.json() == {
        "status": 400,
        "error": "Bad Request",
        "response": {"message": ['instance requires property "text"']},
    }

    resp = httpx.post(send, json={"number": "550011112222", "text": "oi"}, headers=HEADERS)
    assert resp.status_code == 400
    assert resp.json() == {
        "status": 400,
        "error": "Bad Request",
        "response": {"message": [{"exists": False, "jid": "550011112222@s.whatsapp.net", "number": "550011112222"}]},
    }

    resp = httpx.get(f"{base}/instance/connectionState/{evolution_sandbox.DEMO_INSTANCE}", headers=HEADERS)
    assert resp.status_code == 200
    assert resp.json() == {"instance": {"instanceName": evolution_sandbox.DEMO_INSTANCE, "state": "open"}}


def test_sandbox_faults_and_request_log(cloud: Any) -> None:
    control = f"{cloud.sandbox_url}/__sandbox"
    send = f"{cloud.sandbox_url}/evolution/message/sendText/{evolution_sandbox.DEMO_INSTANCE}"
    msg = {"number": "5511999999999", "text": "oi"}

    def fault(**spec: Any) -> None:
        assert httpx.put(f"{control}/faults/evolution", json=spec).status_code == 200

    fault(mode="down")
    with pytest.raises(httpx.TransportError):
        httpx.post(send, json=msg, headers=HEADERS)

    fault(mode="slow", delay_seconds=0.6)
    start = time.monotonic()
    assert httpx.post(send, json=msg, headers=HEADERS).status_code == 201
    assert time.monotonic() - start >= 0.6
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(send, json=msg, headers=HEADERS, timeout=0.2)

    fault(mode="rate_limited", retry_after=7)
    resp = httpx.post(send, json=msg, headers=HEADERS)
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "7"
    assert resp.json()["status"] == 429

    fault(mode="error", status=503, times=1)
    resp = httpx.post(send, json=msg, headers=HEADERS)
    assert resp.status_code == 503
    assert resp.json() == {
        "status": 503,
        "error": "Service Unavailable",
        "response": {"message": ["Service Unavailable"]},
    }
    assert httpx.post(send, json=msg, headers=HEADERS).status_code == 201  # times=1 used up

    fault(mode="down")
    assert httpx.delete(f"{control}/faults/evolution").status_code == 204
    assert httpx.post(send, json=msg, headers=HEADERS).status_code == 201
    assert httpx.put(f"{control}/faults/evolution", json={"mode": "sideways"}).status_code == 400

    log = httpx.get(f"{control}/requests", params={"provider": "evolution"}).json()
    assert len(log) == 7
    first = log[0]
    assert first["provider"] == "evolution"
    assert first["method"] == "POST"
    assert first["path"] == f"/message/sendText/{evolution_sandbox.DEMO_INSTANCE}"
    assert first["json"] == msg
    assert first["headers"]["Apikey"] == evolution_sandbox.DEMO_API_KEY
    assert first["fault"] == "down" and first["status"] is None
    assert [e["fault"] for e in log] == ["down", "slow", "slow", "rate_limited", "error", None, None]
    assert [e["status"] for e in log[3:]] == [429, 503, 201, 201]
    assert httpx.delete(f"{control}/requests").status_code == 204
    assert httpx.get(f"{control}/requests").json() == []
