"""Messaging in the local cloud, driven as users drive it: NotifyContact through the Lambda
invoke endpoint, the chain run by Step Functions against the sandboxes with faults, Twilio
and Evolution webhooks through the API."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from hub.providers.twilio.webhook import compute_twilio_signature
from localcloud import LocalCloud
from localcloud.sandboxes import evolution as evolution_sandbox
from localcloud.sandboxes import twilio as twilio_sandbox
from tests.e2e.conftest import client, fault, invoke, wait_status
from tests.helpers import ROOT

pytestmark = pytest.mark.e2e

PHONE = "+5511987654321"
CHANNEL_PROVIDERS = ("evolution", "twilio", "resend")


@pytest.fixture(autouse=True)
def no_faults(cloud: LocalCloud) -> Iterator[None]:
    yield
    for provider in CHANNEL_PROVIDERS:
        httpx.delete(f"{cloud.sandbox_url}/__sandbox/faults/{provider}", timeout=5)


def wait_for(cloud: LocalCloud, execution_arn: str) -> dict[str, Any]:
    sfn = client(cloud, "stepfunctions")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.3)
    raise AssertionError("the chain did not finish")


def notify(cloud: LocalCloud, notification_id: str, org_id: str = "demo", **extra: Any) -> dict[str, Any]:
    payload = {
        "org_id": org_id,
        "notification_id": notification_id,
        "contact": {"name": "Maria", "phone": "(11) 98765-4321", "email": "maria.silva@example.com.br"},
        "message": {"text": "Olá Maria! Sua reunião é amanhã às 10h.", "subject": "Lembrete de reunião"},
        "requester": {"service": "sdr-agent", "email": "sdr@somosprodutora.com.br"},
        **extra,
    }
    started = invoke(cloud, "NotifyContact", payload)
    assert started["status"] == "started", started
    return wait_for(cloud, started["execution_arn"])


def test_healthy_whatsapp_answers_first(cloud: LocalCloud) -> None:
    result = notify(cloud, "e2e-healthy")
    assert result["status"] == "SUCCEEDED", result
    output = json.loads(result["output"])
    assert output["provider"] == "whatsapp" and output["answer"]["provider"] == "evolution"
    status = invoke(cloud, "MessageStatus", {"org_id": "demo", "message_id": output["answer"]["message_id"]})
    assert status["status"] == "queued" and status["notification_id"] == "e2e-healthy"


# "Down" is a provider that says it is unavailable (503: nothing was sent). A connection reset
# after the request was sent is another case: the message may be out, so the chain stops there
# (test_a_lost_whatsapp_answer_ends_the_chain_without_an_sms).
def test_whatsapp_down_falls_back_to_sms(cloud: LocalCloud) -> None:
    fault(cloud, "evolution", mode="error", status=503)
    result = notify(cloud, "e2e-whatsapp-down")
    assert result["status"] == "SUCCEEDED", result
    output = json.loads(result["output"])
    assert output["provider"] == "sms" and output["answer"]["message_id"].startswith("SM")
    assert output["failed_attempts"]["whatsapp"]["Error"] == "ProviderUnavailableError"


def test_a_lost_whatsapp_answer_ends_the_chain_without_an_sms(cloud: LocalCloud) -> None:
    # Given: Evolution drops the connection after taking the request (the message may be out)
    fault(cloud, "evolution", mode="down")
    httpx.delete(f"{cloud.sandbox_url}/__sandbox/requests", timeout=5)
    # When
    result = notify(cloud, "e2e-whatsapp-lost")
    # Then: the run ends with the unknown outcome, and no SMS or email doubles the message
    assert result["status"] == "FAILED" and result.get("error") == "OutcomeUnknownError", result
    sent = httpx.get(f"{cloud.sandbox_url}/__sandbox/requests", timeout=5).json()
    assert [r for r in sent if r["provider"] in ("twilio", "resend")] == []


def test_whatsapp_and_sms_down_falls_back_to_email(cloud: LocalCloud) -> None:
    fault(cloud, "evolution", mode="error", status=503)
    fault(cloud, "twilio", mode="error", status=503)
    result = notify(cloud, "e2e-sms-down")
    assert result["status"] == "SUCCEEDED", result
    output = json.loads(result["output"])
    assert output["provider"] == "email" and output["answer"]["provider"] == "resend"
    assert set(output["failed_attempts"]) == {"whatsapp", "sms"}
    sent = httpx.get(f"{cloud.sandbox_url}/__sandbox/requests", params={"provider": "resend"}, timeout=5).json()
    assert any("maria.silva@example.com.br" in json.dumps(entry) for entry in sent)


def test_every_channel_down_parks_it_and_tells_the_requester(cloud: LocalCloud) -> None:
    sm = client(cloud, "secretsmanager")
    # An org exactly like the demo one, without the SES fallback: every channel can fail.
    for provider in ("evolution", "twilio", "resend", "messaging"):
        value = sm.get_secret_value(SecretId=f"hub/demo/{provider}")["SecretString"]
        sm.create_secret(Name=f"hub/noses/{provider}", SecretString=value)
    sqs, events = client(cloud, "sqs"), client(cloud, "events")
    tap = sqs.create_queue(QueueName="notify-failed-tap")["QueueUrl"]
    tap_arn = sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert cloud.template is not None
    bus = cloud.template.env_value("EVENT_BUS_NAME")
    pattern = {"detail-type": ["notification.failed"]}
    events.put_rule(Name="notify-failed", EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule="notify-failed", EventBusName=bus, Targets=[{"Id": "t", "Arn": tap_arn}])
    for provider in CHANNEL_PROVIDERS:
        fault(cloud, provider, mode="error", status=503)
    result = notify(cloud, "e2e-all-down", org_id="noses")
    assert result["status"] == "FAILED" and result.get("error") == "AllProvidersUnavailable"
    [note] = sqs.receive_message(QueueUrl=tap, WaitTimeSeconds=2)["Messages"]
    detail = json.loads(note["Body"])["detail"]
    assert detail["notification_id"] == "e2e-all-down"
    assert detail["requester"] == {"service": "sdr-agent", "user_id": None, "email": "sdr@somosprodutora.com.br"}
    assert set(detail["failed_attempts"]) == {"whatsapp", "sms", "email"}
    assert "Sua reunião" not in json.dumps(detail)  # ids and errors only, never the message


def post_twilio(cloud: LocalCloud, params: list[tuple[str, str]]) -> httpx.Response:
    url = f"{cloud.api_url}/webhooks/twilio/demo"
    signature = compute_twilio_signature(twilio_sandbox.DEMO_AUTH_TOKEN, url, params)
    return httpx.post(
        url,
        content=urlencode(params),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
        timeout=10,
    )


def message_status(cloud: LocalCloud, message_id: str, expected: str) -> dict[str, Any]:
    return wait_status(cloud, "MessageStatus", {"org_id": "demo", "message_id": message_id}, expected)


def test_twilio_status_callbacks_reach_message_status(cloud: LocalCloud) -> None:
    sent = invoke(cloud, "SmsSend", {"org_id": "demo", "to": "(11) 97777-1234", "body": "Oi"})
    base = [
        ("MessageSid", sent["message_id"]),
        ("AccountSid", twilio_sandbox.DEMO_ACCOUNT_SID),
        ("To", "+5511977771234"),
    ]
    answer = post_twilio(cloud, [*base, ("MessageStatus", "delivered")])
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/xml")
    assert "<Response" in answer.text
    message_status(cloud, sent["message_id"], "delivered")
    forged = httpx.post(
        f"{cloud.api_url}/webhooks/twilio/demo",
        content=urlencode([*base, ("MessageStatus", "failed")]),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "AAAA"},
        timeout=10,
    )
    assert forged.status_code == 401
    assert message_status(cloud, sent["message_id"], "delivered")["status"] == "delivered"


def test_a_stop_sms_reply_opts_the_contact_out_of_sms(cloud: LocalCloud) -> None:
    reply = [
        ("MessageSid", "SM" + "e" * 32),
        ("AccountSid", twilio_sandbox.DEMO_ACCOUNT_SID),
        ("From", "+5511966665555"),
        ("To", twilio_sandbox.DEMO_FROM_NUMBER),
        ("Body", "STOP"),
        ("SmsStatus", "received"),
        ("NumMedia", "0"),
    ]
    assert post_twilio(cloud, reply).status_code == 200
    deadline = time.monotonic() + 20
    while True:
        response = client(cloud, "lambda").invoke(
            FunctionName="SmsSend", Payload=json.dumps({"org_id": "demo", "to": "+5511966665555", "body": "Oi"})
        )
        body = json.loads(response["Payload"].read())
        if response.get("FunctionError"):
            assert body["errorType"] == "InvalidRequestError" and "opted out of sms" in body["errorMessage"]
            break
        assert time.monotonic() < deadline, "the STOP reply never opted the contact out"
        time.sleep(0.3)


def test_the_evolution_webhook_sample_through_the_api(cloud: LocalCloud) -> None:
    """The documented WhatsApp inbound sample is accepted (it opens the contact's window)."""
    event = json.loads((ROOT / "events" / "webhook_evolution.json").read_text())
    body = base64.b64decode(event["body"]) if event.get("isBase64Encoded") else event["body"].encode()
    answer = httpx.post(
        f"{cloud.api_url}/webhooks/evolution/demo",
        content=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {evolution_sandbox.DEMO_WEBHOOK_TOKEN}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
