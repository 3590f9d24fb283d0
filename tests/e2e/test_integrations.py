"""End to end: an operator drives an org's integration through the invoke endpoint —
connect → list → test → disable → enable → rotate — and `make dev` seeded the demo org's
integrations through the same IntegrationConnect code."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from localcloud import LocalCloud
from localcloud.demo import demo_secret_values, demo_secrets
from localcloud.sandboxes.evolution import DEMO_API_KEY, DEMO_INSTANCE, DEMO_WEBHOOK_TOKEN
from tests.e2e.conftest import fault, invoke
from tests.helpers import aws_client, sample_event

pytestmark = pytest.mark.e2e

ORG = "beta"


def invoke_error(cloud: LocalCloud, function: str, payload: dict[str, Any]) -> dict[str, Any]:
    response = aws_client(cloud, "lambda").invoke(FunctionName=function, Payload=json.dumps(payload).encode())
    body: dict[str, Any] = json.loads(response["Payload"].read())
    assert response.get("FunctionError"), body
    return body


def test_demo_integrations_were_connected_by_make_dev(cloud: LocalCloud) -> None:
    listed = invoke(cloud, "IntegrationList", {"org_id": "demo"})["integrations"]
    by_provider = {i["provider"]: i for i in listed}
    assert by_provider["evolution"]["managed"] is True
    assert by_provider["evolution"]["connected_by"] == "make dev"
    assert by_provider["evolution"]["test_result"]["ok"] is True
    assert by_provider["stripe"]["managed"] is False  # only a webhook secret: written directly
    assert DEMO_API_KEY not in json.dumps(listed)
    # the seeded token is today's demo value: Evolution's webhook is still accepted with it
    body = json.loads(sample_event("webhook_evolution")["body"])
    response = httpx.post(
        f"{cloud.api_url}/webhooks/evolution/demo",
        content=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {DEMO_WEBHOOK_TOKEN}", "Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    # every seeded secret holds exactly today's demo values (the other e2e tests rely on them)
    sm = aws_client(cloud, "secretsmanager")
    for secret in demo_secrets():
        stored = json.loads(sm.get_secret_value(SecretId=secret.secret_id())["SecretString"])
        assert stored == demo_secret_values(cloud.sandbox_url, secret.org_id)[secret.provider], secret.provider
    org = invoke(cloud, "OrgGet", {"org_id": "demo"})
    assert {"provider": "evolution", "status": "connected", "managed": True} in org["integrations"]


def test_connect_list_test_disable_enable_rotate(cloud: LocalCloud) -> None:
    credentials = {"base_url": f"{cloud.sandbox_url}/evolution", "api_key": DEMO_API_KEY, "instance": DEMO_INSTANCE}
    # bad credentials: refused, nothing stored
    error = invoke_error(
        cloud,
        "IntegrationConnect",
        {
            "org_id": ORG,
            "provider": "evolution",
            "credentials": {**credentials, "api_key": "wrong-1234567"},
            "actor": "e2e",
        },
    )
    assert error["errorType"] == "InvalidRequestError"
    assert error["errorMessage"] == "credentials: evolution refused them (401)"
    assert "wrong-1234567" not in json.dumps(error)
    assert invoke(cloud, "IntegrationList", {"org_id": ORG})["integrations"] == []

    connected = invoke(
        cloud,
        "IntegrationConnect",
        {"org_id": ORG, "provider": "evolution", "credentials": credentials, "actor": "e2e"},
    )
    assert connected["status"] == "connected" and connected["test_result"]["ok"] is True
    assert connected["webhook"]["url"] == f"{cloud.api_url}/webhooks/evolution/{ORG}"
    [listed] = invoke(cloud, "IntegrationList", {"org_id": ORG})["integrations"]
    assert listed["provider"] == "evolution" and DEMO_API_KEY not in json.dumps(listed)

    fault(cloud, "evolution", mode="error", status=503)
    try:
        failed = invoke(cloud, "IntegrationTest", {"org_id": ORG, "provider": "evolution"})
    finally:
        httpx.delete(f"{cloud.sandbox_url}/__sandbox/faults/evolution", timeout=5)
    assert failed["status"] == "error" and failed["test_result"]["ok"] is False
    assert invoke(cloud, "IntegrationTest", {"org_id": ORG, "provider": "evolution"})["status"] == "connected"

    disabled = invoke(
        cloud, "IntegrationDisable", {"org_id": ORG, "provider": "evolution", "reason": "paused", "actor": "e2e"}
    )
    assert disabled["status"] == "disabled" and disabled["changed"] is True
    sent = invoke_error(cloud, "WhatsAppSendText", {"org_id": ORG, "to": "11987654321", "text": "Oi"})
    assert sent["errorType"] == "AuthenticationError"  # refused while disabled
    enabled = invoke(cloud, "IntegrationEnable", {"org_id": ORG, "provider": "evolution", "actor": "e2e"})
    assert enabled["status"] == "connected" and enabled["changed"] is True

    rotated = invoke(
        cloud,
        "IntegrationRotate",
        {"org_id": ORG, "provider": "evolution", "credentials": {"api_key": DEMO_API_KEY}, "actor": "e2e"},
    )
    assert rotated["rotated"] == "credentials" and rotated["test_result"]["ok"] is True
    unsupported = invoke_error(cloud, "IntegrationRotate", {"org_id": ORG, "provider": "evolution", "actor": "e2e"})
    assert (
        unsupported["errorType"] == "InvalidRequestError" and "cannot issue credentials" in unsupported["errorMessage"]
    )
