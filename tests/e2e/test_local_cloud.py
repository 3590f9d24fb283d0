"""End to end: boot the local cloud and drive it exactly as a user would (HTTP + boto3)."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from localcloud import LocalCloud
from localcloud.sandboxes.evolution import DEMO_API_KEY as EVOLUTION_API_KEY
from localcloud.sandboxes.evolution import DEMO_INSTANCE as EVOLUTION_INSTANCE
from localcloud.sandboxes.evolution import DEMO_WEBHOOK_TOKEN as EVOLUTION_WEBHOOK_TOKEN
from tests.helpers import aws_client, sample_event, wait_until
from tests.signing import signed_headers

pytestmark = pytest.mark.e2e


@pytest.fixture
def lambda_client(cloud: LocalCloud) -> Any:
    """The way services call the hub: boto3's Lambda client at the invoke endpoint."""
    return aws_client(cloud, "lambda")


def env(cloud: LocalCloud, name: str) -> str:
    assert cloud.template is not None
    value = cloud.template.env_value(name)
    assert value
    return value


def test_posted_webhook_is_processed_by_the_consumer(cloud: LocalCloud) -> None:
    # Given Evolution's messages.upsert, as Evolution posts it, with a fresh message id
    body = json.loads(sample_event("webhook_evolution")["body"])
    body["data"]["key"]["id"] = "E2E-" + str(time.time_ns())
    # When it is posted to the API
    response = httpx.post(
        f"{cloud.api_url}/webhooks/evolution/demo",
        content=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {EVOLUTION_WEBHOOK_TOKEN}", "Content-Type": "application/json"},
        timeout=10,
    )
    # Then it is acknowledged and the consumer records the contact's inbound message
    assert response.status_code == 200, response.text
    table = env(cloud, "CONTACTS_TABLE")

    def contact() -> Any:
        item = (
            aws_client(cloud, "dynamodb")
            .get_item(TableName=table, Key={"org_id": {"S": "demo"}, "contact": {"S": "whatsapp#+5511987654321"}})
            .get("Item")
        )
        return item if item and item["last_inbound_message_id"]["S"] == body["data"]["key"]["id"] else None

    assert wait_until(contact, timeout=20, interval=0.2)["display_name"]["S"] == "Maria Silva"


def test_webhook_with_a_bad_token_is_401(cloud: LocalCloud) -> None:
    response = httpx.post(
        f"{cloud.api_url}/webhooks/evolution/demo",
        content=sample_event("webhook_evolution")["body"].encode(),
        headers={"Authorization": "Bearer nope"},
        timeout=10,
    )
    assert response.status_code == 401


def test_invoke_whatsapp_send_text_reaches_the_sandbox_as_documented(cloud: LocalCloud, lambda_client: Any) -> None:
    httpx.delete(f"{cloud.sandbox_url}/__sandbox/requests", timeout=5)
    result = lambda_client.invoke(
        FunctionName="WhatsAppSendText",
        Payload=json.dumps({"org_id": "demo", "to": "(11) 98765-4321", "text": "Olá Maria!"}),
    )
    payload = json.loads(result["Payload"].read())
    assert "FunctionError" not in result, payload
    assert payload["provider"] == "evolution"
    assert payload["to"] == "+5511987654321"
    assert payload["message_id"]

    requests = httpx.get(f"{cloud.sandbox_url}/__sandbox/requests", params={"provider": "evolution"}, timeout=5).json()
    sends = [r for r in requests if r["method"] == "POST"]
    assert len(sends) == 1
    [sent] = sends
    assert sent["path"].endswith(f"/message/sendText/{EVOLUTION_INSTANCE}")
    headers = {k.lower(): v for k, v in sent["headers"].items()}
    assert headers["apikey"] == EVOLUTION_API_KEY
    assert sent["json"] == {"number": "5511987654321", "text": "Olá Maria!"}


def test_invoke_errors_carry_the_taxonomy_class_name(lambda_client: Any) -> None:
    result = lambda_client.invoke(FunctionName="WhatsAppSendText", Payload=json.dumps({"org_id": "demo", "to": "1"}))
    assert result["FunctionError"] == "Unhandled"
    error = json.loads(result["Payload"].read())
    assert error["errorType"] == "InvalidRequestError"
    assert "text" in error["errorMessage"]


def test_health_reflects_sandbox_faults(cloud: LocalCloud) -> None:
    healthy = httpx.get(f"{cloud.api_url}/health/integrations", params={"org_id": "demo"}, timeout=15).json()
    assert healthy["status"] == "healthy", healthy
    httpx.put(f"{cloud.sandbox_url}/__sandbox/faults/evolution", json={"mode": "error", "status": 503}, timeout=5)
    try:
        degraded = httpx.get(
            f"{cloud.api_url}/health/integrations", params={"org_id": "demo", "live": "true"}, timeout=15
        ).json()
    finally:
        httpx.delete(f"{cloud.sandbox_url}/__sandbox/faults/evolution", timeout=5)
    assert degraded["status"] == "degraded"
    assert degraded["services"]["evolution"]["error"].startswith("ProviderUnavailableError")


@pytest.fixture(scope="module")
def bus_tap(cloud: LocalCloud) -> str:
    """An SQS queue subscribed to every event on the hub's EventBridge bus."""
    sqs, events = aws_client(cloud, "sqs"), aws_client(cloud, "events")
    url = sqs.create_queue(QueueName="e2e-bus-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = env(cloud, "EVENT_BUS_NAME")
    events.put_rule(Name="e2e-tap", EventBusName=bus, EventPattern=json.dumps({"source": ["integrations-hub"]}))
    events.put_targets(Rule="e2e-tap", EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])
    return str(url)


def tapped(cloud: LocalCloud, tap: str, settle: float = 3.0) -> list[dict[str, Any]]:
    """Everything on the bus so far (waits until nothing new arrives for `settle` seconds)."""
    sqs = aws_client(cloud, "sqs")
    seen: list[dict[str, Any]] = []
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < settle:
        batch = sqs.receive_message(QueueUrl=tap, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        for message in batch:
            seen.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=tap, ReceiptHandle=message["ReceiptHandle"])
        if batch:
            quiet_since = time.monotonic()
    return seen


def signed_stripe(body: bytes) -> dict[str, str]:
    return signed_headers("stripe", body.decode())


def stripe_event(event_id: str) -> bytes:
    body = json.loads(sample_event("webhook_stripe")["body"])
    body["id"] = event_id
    return json.dumps(body).encode()


def test_signed_stripe_event_reaches_the_bus_exactly_once(cloud: LocalCloud, bus_tap: str) -> None:
    tapped(cloud, bus_tap, settle=1.0)  # drain earlier tests' events
    # Given a Stripe event signed with the org's endpoint secret
    once, thrice = stripe_event(f"evt_e2e_once_{time.time_ns()}"), stripe_event(f"evt_e2e_thrice_{time.time_ns()}")
    url = f"{cloud.api_url}/webhooks/stripe/demo"
    # When it is posted once, and another is posted three times concurrently
    assert httpx.post(url, content=once, headers=signed_stripe(once), timeout=10).status_code == 200
    with ThreadPoolExecutor(max_workers=3) as pool:
        statuses = list(
            pool.map(
                lambda _: httpx.post(url, content=thrice, headers=signed_stripe(thrice), timeout=10).status_code,
                range(3),
            )
        )
    assert statuses == [200, 200, 200]
    # Then each appears on the bus exactly once
    on_bus = wait_until(
        lambda: (lambda seen: seen if len(seen) >= 2 else None)(tapped(cloud, bus_tap)), timeout=20, interval=0.2
    )
    dedupe_keys = sorted(e["detail"]["dedupe_key"] for e in on_bus if e["detail"]["provider"] == "stripe")
    assert dedupe_keys == sorted([json.loads(once)["id"], json.loads(thrice)["id"]])
    assert {e["detail-type"] for e in on_bus} == {"payment.confirmed"}


def test_forged_stripe_event_is_401_and_never_reaches_the_bus(cloud: LocalCloud, bus_tap: str) -> None:
    body = stripe_event(f"evt_e2e_forged_{time.time_ns()}")
    headers = signed_stripe(body)
    tampered = body.replace(b"evt_e2e_forged", b"evt_e2e_FORGED")
    assert httpx.post(f"{cloud.api_url}/webhooks/stripe/demo", content=tampered, headers=headers).status_code == 401
    assert [e for e in tapped(cloud, bus_tap, settle=2.0) if "FORGED" in e["detail"]["dedupe_key"]] == []


def test_unknown_provider_is_404_and_known_ones_still_route(cloud: LocalCloud) -> None:
    unknown = httpx.post(f"{cloud.api_url}/webhooks/pagarme/demo", content=b"{}", timeout=10)
    assert unknown.status_code == 404
    assert "pagarme" in unknown.json()["message"]
    # The literal route wins over the catch-all: a known provider still reaches its receiver.
    known = httpx.post(f"{cloud.api_url}/webhooks/stripe/demo", content=b"{}", timeout=10)
    assert known.status_code == 401


def test_unknown_org_is_404(cloud: LocalCloud) -> None:
    body = stripe_event(f"evt_e2e_noorg_{time.time_ns()}")
    response = httpx.post(f"{cloud.api_url}/webhooks/stripe/nobody", content=body, headers=signed_stripe(body))
    assert response.status_code == 404


def test_the_demo_orgs_are_registered_and_unknown_orgs_refused(lambda_client: Any) -> None:
    def invoke(function: str, payload: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
        result = lambda_client.invoke(FunctionName=function, Payload=json.dumps(payload))
        return result.get("FunctionError"), json.loads(result["Payload"].read())

    # `make dev` registered the demo orgs (before the tests registered theirs)
    error, demo = invoke("OrgGet", {"org_id": "demo"})
    assert error is None and demo["created_by"] == "make dev"
    assert invoke("OrgGet", {"org_id": "demo-cloud"})[0] is None
    # an org nobody registered is refused by name, before anything is written
    error, refused = invoke(
        "ContactConsentSet",
        {"org_id": "e2e-nobody", "channel": "sms", "address": "11987654321", "status": "opted_in", "source": "e2e"},
    )
    assert error == "Unhandled" and refused["errorType"] == "InvalidRequestError"
    assert "e2e-nobody" in refused["errorMessage"]
    # until it is created
    error, created = invoke("OrgCreate", {"org_id": "e2e-new", "name": "E2E"})
    assert error is None and created["created"] is True
    assert invoke("OrgCreate", {"org_id": "e2e-new", "name": "Other"})[1] == {**created, "created": False}


def test_hostile_messaging_input_is_refused_before_any_provider_request(cloud: LocalCloud, lambda_client: Any) -> None:
    httpx.delete(f"{cloud.sandbox_url}/__sandbox/requests", timeout=5)
    hostile = [
        ("WhatsAppSendMedia", {"media_type": "image", "media": {"url": "http://169.254.169.254/latest/meta-data/"}}),
        ("WhatsAppSendMedia", {"media_type": "document", "media": {"url": "https://127.0.0.1:22/x.pdf"}}),
        ("WhatsAppSendMedia", {"media_type": "image", "media": {"url": "https://10.0.0.5/x.png"}}),
        ("EmailSend", {"subject": "Oi", "text": "Oi", "headers": {"Bcc": "spy@example.com"}}),
        ("EmailSend", {"subject": "Oi\r\nBcc: spy@example.com", "text": "Oi"}),
    ]
    for function, fields in hostile:
        to = "maria.silva@example.com.br" if function == "EmailSend" else "(11) 98765-4321"
        result = lambda_client.invoke(FunctionName=function, Payload=json.dumps({"org_id": "demo", "to": to, **fields}))
        error = json.loads(result["Payload"].read())
        assert result.get("FunctionError") == "Unhandled", (function, error)
        assert error["errorType"] == "InvalidRequestError", error
    received = httpx.get(f"{cloud.sandbox_url}/__sandbox/requests", timeout=5).json()
    assert [r for r in received if r["provider"] in ("evolution", "resend")] == []


def test_media_from_our_own_bucket_still_goes_out_locally(cloud: LocalCloud, lambda_client: Any) -> None:
    """The hub presigns its own objects; locally that is http://127.0.0.1 (moto), never refused."""
    bucket = env(cloud, "GENERATED_CONTENT_BUCKET")
    aws_client(cloud, "s3").put_object(Bucket=bucket, Key="demo/images/banner.png", Body=b"\x89PNG")
    httpx.delete(f"{cloud.sandbox_url}/__sandbox/requests", timeout=5)
    payload = {"org_id": "demo", "to": "(11) 98765-4321", "media_type": "image"}
    result = lambda_client.invoke(
        FunctionName="WhatsAppSendMedia",
        Payload=json.dumps({**payload, "media": {"bucket": bucket, "key": "demo/images/banner.png"}}),
    )
    answer = json.loads(result["Payload"].read())
    assert "FunctionError" not in result, answer
    received = httpx.get(f"{cloud.sandbox_url}/__sandbox/requests", params={"provider": "evolution"}, timeout=5)
    [sent] = [r for r in received.json() if r["method"] == "POST"]
    assert sent["json"]["media"].startswith(cloud.aws_url) and "demo/images/banner.png" in sent["json"]["media"]
