"""Webhook registration through the providers' APIs, end to end: the demo org's adapter points the
provider's (sandboxed) webhook at the hub's route; the fields the registration answered are stored
in the org's secret, as IntegrationConnect does; the delivery the provider then sends is accepted
by the hub's real receiver, and one carrying the token the org held before is refused."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from hub.errors import InvalidRequestError
from hub.providers import ports
from hub.providers.base.webhook import WebhookRegistration
from localcloud.sandboxes import asaas, evolution, meta, resend
from tests.aws.conftest import HubAws
from tests.conftest import ServedSandboxes, reset_hub_caches
from tests.helpers import FakeLambdaContext, api_event, load_function, resent, sample_event

TOKEN = "Hk2vN8qXw4LpR7tY1zJ9cB3mF6dS0aGe"  # what the hub generated for this registration


def hub_route(provider: str) -> str:
    return f"https://hub.example.com/Prod/webhooks/{provider}/demo"


def store(hub_aws: HubAws, provider: str, registration: WebhookRegistration) -> dict[str, Any]:
    """Merge the registration's fields into the org's secret (a new version), as the integration
    operations do; the previous secret is returned."""
    secrets = hub_aws.client("secretsmanager")
    secret_id = f"hub/demo/{provider}"
    before: dict[str, Any] = json.loads(secrets.get_secret_value(SecretId=secret_id)["SecretString"])
    secrets.put_secret_value(SecretId=secret_id, SecretString=json.dumps({**before, **registration.secret_fields}))
    reset_hub_caches()  # a fresh container reads the new version
    return before


def receive(provider: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    request = resent(sample_event(f"webhook_{provider}"), headers=headers, body=body.decode("utf-8"))
    response: dict[str, Any] = load_function(f"webhook_{provider}").handler(request, FakeLambdaContext())
    return response


def sample_body(provider: str) -> Any:
    return json.loads(sample_event(f"webhook_{provider}")["body"])


def test_evolution_delivers_to_the_registered_url_with_the_registered_token(
    sandboxed: ServedSandboxes, hub_aws: HubAws
) -> None:
    # Given the demo org's Evolution instance pointed at the hub with a fresh token
    registrar = ports.for_org(ports.WebhookRegistrar, "demo", "evolution")
    registration = registrar.register_webhook(hub_route("evolution"), TOKEN)
    before = store(hub_aws, "evolution", registration)
    sandbox = sandboxed["evolution"]
    assert sandbox.webhooks[before["instance"]]["url"] == hub_route("evolution")

    # When the instance receives a message, Evolution posts it to the registered webhook
    message = sample_body("evolution")
    delivery = sandbox.webhook_delivery(before["instance"], "MESSAGES_UPSERT", message["data"])
    assert delivery is not None
    url, headers, body = delivery
    assert url == hub_route("evolution")

    # Then the hub's receiver accepts it
    accepted = receive("evolution", headers, body)
    assert accepted["statusCode"] == 200, accepted["body"]
    assert json.loads(accepted["body"])["event_ids"]
    # … and refuses the token the org held before the registration replaced it
    stale = receive("evolution", {**headers, "Authorization": f"Bearer {before['webhook_token']}"}, body)
    assert stale["statusCode"] == 401
    # Events the hub did not subscribe to are never sent
    assert sandbox.webhook_delivery(before["instance"], "PRESENCE_UPDATE", {}) is None


def test_asaas_delivers_with_the_registered_access_token(sandboxed: ServedSandboxes, hub_aws: HubAws) -> None:
    registrar = ports.for_org(ports.WebhookRegistrar, "demo", "asaas")
    registration = registrar.register_webhook(hub_route("asaas"), TOKEN)
    before = store(hub_aws, "asaas", registration)
    assert registration.provider_webhook_id in sandboxed["asaas"].webhooks

    (delivery,) = sandboxed["asaas"].webhook_delivery(sample_body("asaas"))
    url, headers, body = delivery
    assert url == hub_route("asaas") and headers["asaas-access-token"] == TOKEN

    accepted = receive("asaas", headers, body)
    assert accepted["statusCode"] == 200, accepted["body"]
    stale = receive("asaas", {**headers, "asaas-access-token": before["webhook_token"]}, body)
    assert stale["statusCode"] == 401

    # Re-registering (a rotation) updates the same webhook with the new token
    again = registrar.register_webhook(hub_route("asaas"), TOKEN[::-1], existing_id=registration.provider_webhook_id)
    assert again.provider_webhook_id == registration.provider_webhook_id
    assert len(sandboxed["asaas"].webhooks) == 1
    (delivery,) = sandboxed["asaas"].webhook_delivery(sample_body("asaas"))
    assert delivery[1]["asaas-access-token"] == TOKEN[::-1]


def test_resend_signs_deliveries_with_the_secret_it_issued(sandboxed: ServedSandboxes, hub_aws: HubAws) -> None:
    registrar = ports.for_org(ports.WebhookRegistrar, "demo", "resend")
    registration = registrar.register_webhook(hub_route("resend"), TOKEN)
    before = store(hub_aws, "resend", registration)
    assert registration.secret_fields["webhook_secret"] != before["webhook_secret"]

    (delivery,) = sandboxed["resend"].webhook_delivery(sample_body("resend"))
    url, headers, body = delivery
    assert url == hub_route("resend")

    accepted = receive("resend", headers, body)
    assert accepted["statusCode"] == 200, accepted["body"]

    # The same delivery signed with the secret the org held before is refused
    store(hub_aws, "resend", WebhookRegistration(None, {"webhook_secret": before["webhook_secret"]}))
    refused = receive("resend", headers, body)
    assert refused["statusCode"] == 401


@pytest.mark.parametrize("provider", ["evolution", "asaas", "resend"])
def test_a_target_that_is_not_http_is_refused_by_the_sandbox_as_by_the_provider(
    sandboxed: ServedSandboxes, provider: str
) -> None:
    # The adapter refuses it first; the sandbox enforces the same contract on a raw call
    base = f"{sandboxed.url}/{provider}"
    calls = {
        "evolution": lambda: httpx.post(
            f"{base}/webhook/set/{evolution.DEMO_INSTANCE}",
            json={"webhook": {"enabled": True, "url": "ftp://x.example.com", "events": ["MESSAGES_UPSERT"]}},
            headers={"apikey": evolution.DEMO_API_KEY},
        ),
        "asaas": lambda: httpx.post(
            f"{base}/v3/webhooks",
            json={
                "name": "x",
                "url": "ftp://x.example.com",
                "email": "a@b.co",
                "sendType": "SEQUENTIALLY",
                "events": ["PAYMENT_RECEIVED"],
            },
            headers={"access_token": asaas.DEMO_API_KEY},
        ),
        "resend": lambda: httpx.post(
            f"{base}/webhooks",
            json={"endpoint": "ftp://x.example.com", "events": ["email.sent"]},
            headers={"Authorization": f"Bearer {resend.DEMO_API_KEY}"},
        ),
    }
    response = calls[provider]()
    assert 400 <= response.status_code < 500
    assert "url" in response.text.lower() or "endpoint" in response.text.lower()


def test_meta_verifies_the_callback_with_the_hub_during_the_subscription_then_delivers_signed(
    sandboxed: ServedSandboxes, hub_aws: HubAws
) -> None:
    # Given Meta's verification request reaching the hub's real GET route while the call runs
    receiver = load_function("webhook_meta")
    verified: list[dict[str, str]] = []

    def hub_answers(url: str, params: dict[str, str]) -> tuple[int, str]:
        verified.append(params)
        event = api_event(
            "GET",
            "/webhooks/meta/demo",
            resource="/webhooks/meta/{org_id}",
            path_parameters={"org_id": "demo"},
            query=params,
        )
        response = receiver.handler(event, FakeLambdaContext("WebhookMeta"))
        return response["statusCode"], response["body"]

    sandbox = sandboxed["meta"]
    sandbox.verify_callback = hub_answers

    # When the demo org's app subscribes the hub's route
    registration = ports.for_org(ports.WebhookRegistrar, "demo", "meta").register_webhook(hub_route("meta"), TOKEN)

    # Then Meta verified the callback with the hub once per object, and holds the subscriptions
    assert [p["hub.verify_token"] for p in verified] == [meta.DEMO_VERIFY_TOKEN] * 3
    assert set(sandbox.subscriptions) == {"whatsapp_business_account", "instagram", "page"}
    assert dict(registration.secret_fields) == {}
    # … and what it then posts, signed with the app secret, is accepted
    delivery = sandbox.webhook_delivery(sample_body("meta"))
    assert delivery is not None
    url, headers, body = delivery
    assert url == hub_route("meta")
    accepted = receive("meta", headers, body)
    assert accepted["statusCode"] == 200, accepted["body"]


def test_meta_refuses_the_subscription_when_the_hub_does_not_answer_the_challenge(
    sandboxed: ServedSandboxes, hub_aws: HubAws
) -> None:
    # The hub's GET route not answering the challenge (unreachable, or another verify token stored)
    sandboxed["meta"].verify_callback = lambda url, params: (403, "forbidden")
    with pytest.raises(InvalidRequestError) as info:
        ports.for_org(ports.WebhookRegistrar, "demo", "meta").register_webhook(hub_route("meta"), TOKEN)
    assert "2200" in info.value.message
    assert sandboxed["meta"].subscriptions == {}
