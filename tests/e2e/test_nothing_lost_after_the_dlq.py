"""End to end, the issue's reproduction: a MercadoPago notification accepted with 200 whose
lookup fails until the DLQ, the DLQ purged, the fault cleared — MercadoPago's redelivery must
then reach the charge and the bus (it used to answer ``duplicates: 1`` with 0 events, forever)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from localcloud import LocalCloud
from tests.e2e.conftest import booted, client, fault, invoke
from tests.helpers import charge_payload, wait_until
from tests.signing import signed_headers

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    # --retry-delay 1 (every failed message back after 1 s) and a 2 s breaker: the DLQ in
    # seconds, and a cleared fault usable at once. Production waits ~90 minutes (docs/resilience.md).
    with booted(retry_delay=1, env={"BREAKER_RECOVERY_SECONDS": "2"}) as running:
        yield running


def queue_url(cloud: LocalCloud, logical_id: str) -> str:
    assert cloud.template is not None
    return str(cloud.template.resolve({"Ref": logical_id}))


def queued(cloud: LocalCloud, url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = client(cloud, "sqs").get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attributes[n]) for n in names)


def notify(cloud: LocalCloud, body: str, payment_id: str) -> dict[str, Any]:
    query = {"data.id": payment_id, "type": "payment"}
    answer = httpx.post(
        f"{cloud.api_url}/webhooks/mercadopago/demo",
        params=query,
        content=body,
        headers=signed_headers("mercadopago", body, query),  # a fresh signature, as on every delivery
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_a_mercadopago_redelivery_after_the_dlq_was_purged_reaches_the_charge_and_the_bus(cloud: LocalCloud) -> None:
    sqs = client(cloud, "sqs")
    assert cloud.template is not None
    inbound, dlq = queue_url(cloud, "InboundEventsQueue"), queue_url(cloud, "InboundEventsDLQ")
    # Given an approved MercadoPago payment for a charge
    charge_id = "C" + uuid.uuid4().hex[:20].upper()
    created = invoke(
        cloud,
        "PaymentCreateCharge",
        charge_payload(
            charge_id,
            1999,
            date.today() + timedelta(days=7),
            description="Produção de vídeo",
            providers=["mercadopago"],
        ),
    )
    payment_id = str(created["provider_charge_id"])
    httpx.post(f"{cloud.sandbox_url}/mercadopago/sandbox/payments/{payment_id}/approve", timeout=5).raise_for_status()
    body = json.dumps(
        {
            "id": int(uuid.uuid4().int % 10**10),
            "live_mode": False,
            "type": "payment",
            "date_created": "2026-11-23T10:00:00.000-03:00",
            "user_id": 123456,
            "api_version": "v1",
            "action": "payment.updated",
            "data": {"id": payment_id},
        }
    )
    tap = sqs.create_queue(QueueName=f"nothing-lost-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    tap_arn = sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = cloud.template.env_value("EVENT_BUS_NAME")
    events = client(cloud, "events")
    events.put_rule(
        Name="nothing-lost", EventBusName=bus, EventPattern=json.dumps({"detail-type": ["payment.updated"]})
    )
    events.put_targets(Rule="nothing-lost", EventBusName=bus, Targets=[{"Id": "tap", "Arn": tap_arn}])

    # and MercadoPago answering 503 to the lookup: the notification is accepted (200) ...
    fault(cloud, "mercadopago", mode="error", status=503)
    try:
        first = notify(cloud, body, payment_id)
        assert len(first["event_ids"]) == 1 and first["duplicates"] == 0
        # ... fails on every receive and lands in the DLQ, which the operator purges
        wait_until(lambda: queued(cloud, dlq) == 1 and queued(cloud, inbound) == 0, timeout=120, interval=0.5)
        sqs.purge_queue(QueueUrl=dlq)
    finally:
        httpx.delete(f"{cloud.sandbox_url}/__sandbox/faults/mercadopago", timeout=5)
    assert invoke(cloud, "PaymentStatus", {"org_id": "demo", "charge_id": charge_id})["status"] != "RECEIVED"

    # When MercadoPago redelivers the notification
    again = notify(cloud, body, payment_id)

    # Then it is processed: the charge moves and the event is on the bus, once
    assert again == {"status": "accepted", "event_ids": first["event_ids"], "duplicates": 0}
    wait_until(
        lambda: invoke(cloud, "PaymentStatus", {"org_id": "demo", "charge_id": charge_id})["status"] == "RECEIVED",
        timeout=30,
        interval=0.5,
    )
    on_bus = wait_until(
        lambda: sqs.receive_message(QueueUrl=tap, WaitTimeSeconds=1).get("Messages"), timeout=30, interval=0.5
    )
    assert [json.loads(m["Body"])["detail"]["event_id"] for m in on_bus] == first["event_ids"]
    # And a further redelivery is a duplicate: acknowledged, and skipped by the consumer (the
    # delivery ledger), so nothing more reaches the bus
    assert notify(cloud, body, payment_id)["status"] == "accepted"
    wait_until(lambda: queued(cloud, inbound) == 0, timeout=30, interval=0.5)
    assert sqs.receive_message(QueueUrl=tap, WaitTimeSeconds=1).get("Messages", []) == []
