"""Every provider's documented sample, freshly signed, through its real receiver function:
accepted once, deduped when delivered again (sequentially or concurrently: the consumer's
delivery ledger publishes each event once), 401 when forged."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from localcloud.demo import demo_secret_values
from localcloud.sandboxes.meta import DEMO_VERIFY_TOKEN as META_VERIFY_TOKEN
from tests.aws.conftest import HubAws
from tests.aws.inbound_queue import bus_events, consume, mark_queued_delivered
from tests.helpers import FakeLambdaContext, api_event, load_function, resent, sample_event
from tests.signing import signed_headers

SAMPLES = {
    "evolution": ("webhook_evolution", "message.received"),
    "stripe": ("webhook_stripe", "payment.confirmed"),
    "meta": ("webhook_meta", "message.received"),
    "meta-status": ("webhook_meta_status", "message.status"),
    "meta-instagram": ("webhook_meta_instagram", "social.comment"),
    "meta-instagram-mention": ("webhook_meta_instagram_mention", "social.mention"),
    "resend": ("webhook_resend", "email.bounced"),
    "asaas": ("webhook_asaas", "payment.received"),
    "mercadopago": ("webhook_mercadopago", "payment.updated"),
    "custom": ("webhook_custom", "custom.lead.created"),
}


@pytest.fixture
def seeded(hub_aws: HubAws) -> HubAws:
    for provider, value in demo_secret_values("http://127.0.0.1:9").items():
        hub_aws.put_secret("demo", provider, value)
    return hub_aws


def deliver(sample: str, *, tamper: bool = False, headers: dict[str, str] | None = None) -> dict[str, Any]:
    event = sample_event(sample)
    provider = event["resource"].split("/")[2]
    body = event["body"]
    signed = headers or signed_headers(provider, body, event.get("queryStringParameters"))
    if tamper:
        body = body.replace("demo", "DEMO", 1) if "demo" in body else body + " "
    request = resent(event, body=body, headers=signed)
    module = load_function(f"webhook_{provider}")
    response: dict[str, Any] = module.handler(request, FakeLambdaContext(f"Webhook{provider}"))
    response["sent_headers"] = signed
    return response


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_is_accepted_once_and_then_deduped(seeded: HubAws, name: str) -> None:
    sample, expected_type = SAMPLES[name]
    first = deliver(sample)
    assert first["statusCode"] == 200, first["body"]
    events = [json.loads(m["Body"]) for m in seeded.queue_messages("INBOUND_EVENTS_QUEUE_URL")]
    assert expected_type in {e["type"] for e in events}
    assert len({e["event_id"] for e in events}) == len(events) == len(json.loads(first["body"])["event_ids"])
    # Once its events are on the bus (what the consumer records after put_events) …
    assert mark_queued_delivered(seeded) == {e["event_id"] for e in events}
    tap = seeded.bus_tap(f"dedupe-{name}", {"source": ["integrations-hub"]})
    again = deliver(sample, headers=first["sent_headers"])  # the provider's retry of the same delivery
    # … a redelivery is acknowledged and the consumer skips it (the delivery ledger): nothing
    # published again, nothing left to retry
    assert again["statusCode"] == 200
    assert consume(seeded) == {"batchItemFailures": []}
    assert bus_events(seeded, tap) == []
    assert seeded.queue_messages("INBOUND_EVENTS_QUEUE_URL") == []


@pytest.mark.parametrize("name", ["stripe", "asaas", "resend", "meta"])
def test_concurrent_redeliveries_make_one_event(seeded: HubAws, name: str) -> None:
    sample, _ = SAMPLES[name]
    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda _: deliver(sample), range(4)))
    assert [r["statusCode"] for r in responses] == [200] * 4
    # Copies may be enqueued while none is delivered yet (the consumer's delivery ledger puts
    # one on the bus, tests/aws/test_delivery.py); they are all the same events
    answered = {i for r in responses for i in json.loads(r["body"])["event_ids"]}
    queued = {json.loads(m["Body"])["event_id"] for m in seeded.queue_messages("INBOUND_EVENTS_QUEUE_URL")}
    assert queued == answered and len(queued) >= 1


@pytest.mark.parametrize("name", sorted(set(SAMPLES) - {"asaas", "evolution", "mercadopago"}))
def test_tampered_body_is_401_and_makes_no_event(seeded: HubAws, name: str) -> None:
    sample, _ = SAMPLES[name]
    response = deliver(sample, tamper=True)
    assert response["statusCode"] == 401, response["body"]
    assert seeded.queue_messages("INBOUND_EVENTS_QUEUE_URL") == []
    assert seeded.archived_keys() == []


def test_mercadopago_signature_binds_the_notified_resource(seeded: HubAws) -> None:
    # MercadoPago signs data.id (query), x-request-id and ts, not the body: a notification
    # whose signed data.id was swapped is rejected.
    event = sample_event("webhook_mercadopago")
    headers = signed_headers("mercadopago", event["body"], event["queryStringParameters"])
    forged_query = {**event["queryStringParameters"], "data.id": "123"}
    request = resent(event, headers=headers, query=forged_query)
    response = load_function("webhook_mercadopago").handler(request, FakeLambdaContext("WebhookMercadoPago"))
    assert response["statusCode"] == 401
    assert seeded.queue_messages("INBOUND_EVENTS_QUEUE_URL") == []


def meta_get(query: dict[str, str]) -> dict[str, Any]:
    module = load_function("webhook_meta")
    event = api_event(
        "GET",
        "/webhooks/meta/demo",
        resource="/webhooks/meta/{org_id}",
        path_parameters={"org_id": "demo"},
        query=query,
    )
    response: dict[str, Any] = module.handler(event, FakeLambdaContext("WebhookMeta"))
    return response


def test_meta_subscription_check_echoes_the_challenge_as_text(seeded: HubAws) -> None:
    response = meta_get({"hub.mode": "subscribe", "hub.verify_token": META_VERIFY_TOKEN, "hub.challenge": "1158201444"})
    assert response["statusCode"] == 200
    assert response["body"] == "1158201444"
    headers = response.get("headers") or {k: v[0] for k, v in response["multiValueHeaders"].items()}
    assert headers["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": META_VERIFY_TOKEN, "hub.challenge": "1"},
        {},
    ],
)
def test_meta_subscription_check_with_a_wrong_token_is_403(seeded: HubAws, query: dict[str, str]) -> None:
    assert meta_get(query)["statusCode"] == 403


def test_asaas_success_is_exactly_200(seeded: HubAws) -> None:
    # Asaas counts only HTTP 200 as delivered (not 201/202/204) and pauses after 15 failures.
    assert deliver("webhook_asaas")["statusCode"] == 200
    assert deliver("webhook_asaas")["statusCode"] == 200


def test_a_provider_without_a_receiver_is_a_json_404(hub_aws: HubAws) -> None:
    module = load_function("webhook_unknown_provider")
    response = module.handler(sample_event("webhook_unknown_provider"), FakeLambdaContext("WebhookUnknownProvider"))
    assert response["statusCode"] == 404
    assert "pagarme" in json.loads(response["body"])["message"]
    assert hub_aws.archived_keys() == []
