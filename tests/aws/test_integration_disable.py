"""AuthenticationError strategy: disable the org's integration, notify, audit; no retries."""

from __future__ import annotations

import json
from typing import Any

import pytest
import respx

from hub.errors import AuthenticationError
from hub.resilience.integrations import enable_integration
from tests.aws.conftest import HubAws
from tests.helpers import FakeLambdaContext, load_function

EVO = {"base_url": "https://evo.test", "api_key": "revoked", "instance": "somos-principal"}
SENT = {"key": {"remoteJid": "5511987654321@s.whatsapp.net", "fromMe": True, "id": "BAE5"}, "status": "PENDING"}


@pytest.fixture
def bus_tap(hub_aws: HubAws) -> str:
    return hub_aws.bus_tap("tap", {"source": ["integrations-hub"]})


def send(fn: Any) -> dict[str, Any]:
    result: dict[str, Any] = fn.handler({"org_id": "acme", "to": "11987654321", "text": "Oi"}, FakeLambdaContext())
    return result


def test_rejected_credentials_disable_the_integration_once(hub_aws: HubAws, bus_tap: str) -> None:
    hub_aws.put_secret("acme", "evolution", EVO)
    fn = load_function("whatsapp_send_text")
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post("https://evo.test/message/sendText/somos-principal").respond(
            401, json={"status": 401, "error": "Unauthorized", "response": {"message": "Unauthorized"}}
        )
        with pytest.raises(AuthenticationError):
            send(fn)
        # Further sends fail fast: the provider is not called again
        with pytest.raises(AuthenticationError) as info:
            send(fn)
        assert info.value.code == "integration_disabled"
        assert route.call_count == 1

    audit = hub_aws.client("dynamodb").query(
        TableName=hub_aws.env["AUDIT_TABLE"],
        KeyConditionExpression="org_id = :o",
        ExpressionAttributeValues={":o": {"S": "acme"}},
    )["Items"]
    assert [a["action"]["S"] for a in audit] == ["integration_disabled"]
    messages = hub_aws.client("sqs").receive_message(QueueUrl=bus_tap, MaxNumberOfMessages=10)["Messages"]
    notes = [json.loads(m["Body"]) for m in messages]
    kinds = sorted(n["detail-type"] for n in notes)
    assert kinds == ["audit.alert", "integration.disabled"]  # a sensitive action alerts too
    assert {n["detail"].get("provider") or n["detail"].get("integration") for n in notes} == {"evolution"}
    assert "revoked" not in json.dumps(notes)  # never the secret

    # After the operator fixes the secret and re-enables it, sends work again
    enable_integration("acme", "evolution", actor="ops@agency")
    with respx.mock() as mock:
        mock.post("https://evo.test/message/sendText/somos-principal").respond(201, json=SENT)
        assert send(fn)["message_id"] == "BAE5"


def test_other_orgs_are_not_affected(hub_aws: HubAws) -> None:
    hub_aws.put_secret("acme", "evolution", EVO)
    hub_aws.put_secret("beta", "evolution", {**EVO, "api_key": "good"})
    fn = load_function("whatsapp_send_text")
    with respx.mock() as mock:
        mock.post("https://evo.test/message/sendText/somos-principal").mock(
            side_effect=lambda request: respx.MockResponse(
                401 if request.headers["apikey"] == "revoked" else 201, json=SENT
            )
        )
        with pytest.raises(AuthenticationError):
            send(fn)
        ok = fn.handler({"org_id": "beta", "to": "11987654321", "text": "Oi"}, FakeLambdaContext())
    assert ok["message_id"] == "BAE5"
