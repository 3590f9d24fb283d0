"""End to end: hub bus events forwarded to the demo org's GA4, PostHog and Mixpanel sandboxes by
the booted local cloud (the template's rule → AnalyticsQueue → AnalyticsForward → the real adapters)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from localcloud import LocalCloud
from tests.conftest import register_test_orgs
from tests.e2e.conftest import booted, client, fault, invoke
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e

MAPPING = {
    "sinks": ["posthog", "mixpanel", "ga4"],
    "events": [
        {
            "type": "payment.received",
            "name": "payment_received",
            "names": {"ga4": "purchase"},
            "properties": {
                "value_cents": "data.amount_cents",
                "method": "data.method",
                "payer": "data.customer_email",
            },
        }
    ],
}
PAYER = "maria.silva@example.com.br"
SINK_PATHS = {"posthog": "/batch/", "mixpanel": "/import", "ga4": "/mp/collect"}


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    # A down sink's events come back after 1 s instead of 30 (ANALYTICS_RETRY_DELAY_SECONDS), and
    # failed records after 1 s (retry_delay), so the outage test does not wait minutes.
    with booted(retry_delay=1, env={"ANALYTICS_RETRY_DELAY_SECONDS": "1"}) as running:
        assert running.template is not None
        register_test_orgs(running.aws_url, str(running.template.env_value("ORGS_TABLE")))
        invoke(running, "AnalyticsMappingSet", {"org_id": "demo", "mapping": MAPPING, "updated_by": "e2e"})
        yield running


def payment_event(amount_cents: int, event_id: str | None = None) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "org_id": "demo",
        "provider": "asaas",
        "type": "payment.received",
        "dedupe_key": f"evt_{uuid.uuid4().hex}",
        "occurred_at": now,
        "received_at": now,
        "data": {
            "payment_id": "pay_080225913252",
            "amount_cents": amount_cents,
            "method": "pix",
            "customer_email": PAYER,
        },
        "raw_ref": "raw/asaas/demo/e2e.json",
    }


def publish(cloud: LocalCloud, *details: dict[str, Any]) -> None:
    assert cloud.template is not None
    bus = str(cloud.template.env_value("EVENT_BUS_NAME"))
    answer = client(cloud, "events").put_events(
        Entries=[
            {"Source": "integrations-hub", "DetailType": d["type"], "Detail": json.dumps(d), "EventBusName": bus}
            for d in details
        ]
    )
    assert answer["FailedEntryCount"] == 0


def logged(cloud: LocalCloud, provider: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = httpx.get(
        f"{cloud.sandbox_url}/__sandbox/requests", params={"provider": provider}, timeout=5
    ).json()
    return [e for e in entries if e["path"] == SINK_PATHS[provider]]


def delivered(cloud: LocalCloud, provider: str) -> list[int]:
    """The amounts (value_cents) each accepted request carried to ``provider``, in order."""
    amounts: list[int] = []
    for entry in logged(cloud, provider):
        if entry["fault"] or not entry["status"] or entry["status"] >= 300:
            continue
        body = entry["json"]
        if provider == "posthog":
            amounts += [e["properties"]["value_cents"] for e in body["batch"]]
        elif provider == "mixpanel":
            amounts += [e["properties"]["value_cents"] for e in body]
        else:
            amounts += [e["params"]["value_cents"] for e in body["events"]]
    return amounts


def queue_drained(cloud: LocalCloud, logical_id: str) -> bool:
    assert cloud.template is not None
    url = str(cloud.template.ref_resource(logical_id))
    attributes = client(cloud, "sqs").get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return all(int(v) == 0 for v in attributes.values())


def test_a_hub_event_reaches_each_sink_once_without_the_payers_email(cloud: LocalCloud) -> None:
    httpx.delete(f"{cloud.sandbox_url}/__sandbox/requests", timeout=5)
    first = payment_event(4711)

    # When a payment is published on the hub bus
    publish(cloud, first)

    # Then each of the org's sinks gets it through its own API, under its mapped name
    for provider in SINK_PATHS:
        wait_until(lambda p=provider: delivered(cloud, p) == [4711], timeout=30)
    [ga4] = logged(cloud, "ga4")
    assert [e["name"] for e in ga4["json"]["events"]] == ["purchase"]
    [posthog] = logged(cloud, "posthog")
    assert posthog["json"]["batch"][0]["event"] == "payment_received"
    # And the payer's email (not allowed by the mapping) reached none of them
    for provider in SINK_PATHS:
        assert PAYER not in json.dumps(logged(cloud, provider))

    # When the same hub event is published again (a replay), followed by another payment
    publish(cloud, first)
    publish(cloud, payment_event(4712))
    for provider in SINK_PATHS:
        wait_until(lambda p=provider: 4712 in delivered(cloud, p), timeout=30)
    wait_until(lambda: queue_drained(cloud, "AnalyticsQueue"), timeout=30)

    # Then the replay was sent to no sink a second time
    for provider in SINK_PATHS:
        assert sorted(delivered(cloud, provider)) == [4711, 4712], provider


def test_a_sink_that_is_down_gets_its_events_later_without_holding_up_the_others(cloud: LocalCloud) -> None:
    httpx.delete(f"{cloud.sandbox_url}/__sandbox/requests", timeout=5)
    # Given PostHog answering 503 to everything
    fault(cloud, "posthog", mode="error", status=503)
    try:
        # When a payment is published
        publish(cloud, payment_event(5150))

        # Then Mixpanel and GA4 get it while PostHog keeps failing
        for provider in ("mixpanel", "ga4"):
            wait_until(lambda p=provider: delivered(cloud, p) == [5150], timeout=30)
        wait_until(lambda: logged(cloud, "posthog"), timeout=30)
        assert delivered(cloud, "posthog") == []
    finally:
        # When PostHog is back
        httpx.delete(f"{cloud.sandbox_url}/__sandbox/faults/posthog", timeout=5)

    # Then it gets the event from the retry queue, once, and nobody else gets it again
    wait_until(lambda: delivered(cloud, "posthog") == [5150], timeout=60)
    wait_until(lambda: queue_drained(cloud, "AnalyticsRetryQueue"), timeout=30)
    assert delivered(cloud, "posthog") == [5150]
    assert delivered(cloud, "mixpanel") == [5150] and delivered(cloud, "ga4") == [5150]
