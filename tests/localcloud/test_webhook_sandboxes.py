"""The sandboxes' webhook and key endpoints enforce the providers' published contracts, and the
adapters' WebhookRegistrar / CredentialRotator work against them (served on a free port).

Evolution: webhookSchema (evolution-api src/api/integrations/event/webhook/webhook.schema.ts);
Asaas: https://docs.asaas.com/docs/create-new-webhook-via-api; Resend:
https://resend.com/docs/api-reference/webhooks/create-webhook and api-keys/create-api-key;
Twilio: https://www.twilio.com/docs/usage/api/keys.
"""

from __future__ import annotations

import base64
import importlib
from typing import Any

import httpx
import pytest

from hub.errors import AuthenticationError, InvalidRequestError
from hub.providers.asaas.client import AsaasClient
from hub.providers.evolution.client import EvolutionClient
from hub.providers.resend.client import ResendClient
from hub.providers.twilio.client import TwilioClient
from hub.retry import RetryPolicy
from localcloud.sandboxes import asaas, evolution, resend, twilio
from tests.conftest import ServedSandboxes

NO_RETRY = RetryPolicy(max_attempts=1, sleep=lambda _: None)
HUB = "http://127.0.0.1:3000/webhooks/{}/demo"
TOKEN = "Hk2vN8qXw4LpR7tY1zJ9cB3mF6dS0aGe"


def adapter(cls: Any, sandboxes: ServedSandboxes, provider: str) -> Any:
    (demo,) = importlib.import_module(f"localcloud.sandboxes.{provider}").DEMO_SECRETS
    return cls(cls.parse_credentials(demo.build(f"{sandboxes.url}/{provider}")), retry_policy=NO_RETRY)


# ----- Evolution --------------------------------------------------------------------------------


def evolution_set(sandboxes: ServedSandboxes, webhook: Any, key: str = evolution.DEMO_API_KEY) -> httpx.Response:
    return httpx.post(
        f"{sandboxes.url}/evolution/webhook/set/{evolution.DEMO_INSTANCE}",
        json={"webhook": webhook},
        headers={"apikey": key},
    )


@pytest.mark.parametrize(
    ("webhook", "problem"),
    [
        ({"url": "https://h.example.com"}, 'requires property "enabled"'),
        ({"enabled": True}, 'requires property "url"'),
        ({"enabled": "yes", "url": "https://h.example.com"}, "enabled is not of a type(s) boolean"),
        ({"enabled": True, "url": "h.example.com/x"}, 'Invalid "url" property'),
        ({"enabled": True, "url": "https://h.example.com", "events": ["MESSAGE_RECEIVED"]}, "is not one of enum"),
        ({"enabled": True, "url": "https://h.example.com", "headers": ["x"]}, "headers is not of a type(s) object"),
    ],
)
def test_evolution_refuses_a_webhook_outside_its_schema_in_its_error_format(
    sandboxes: ServedSandboxes, webhook: dict[str, Any], problem: str
) -> None:
    response = evolution_set(sandboxes, webhook)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Bad Request" and any(problem in m for m in body["response"]["message"])


def test_evolution_keeps_one_webhook_per_instance_and_all_events_when_none_are_listed(
    sandboxes: ServedSandboxes,
) -> None:
    assert evolution_set(sandboxes, {"enabled": True, "url": "https://h.example.com"}, key="wrong").status_code == 401
    first = evolution_set(sandboxes, {"enabled": True, "url": "https://h.example.com/a"}).json()
    second = evolution_set(sandboxes, {"enabled": False, "url": "https://h.example.com/b", "events": []}).json()
    assert first["id"] == second["id"] and len(first["events"]) == len(evolution.WEBHOOK_EVENTS)
    assert second["events"] == [] and second["enabled"] is False
    found = httpx.get(
        f"{sandboxes.url}/evolution/webhook/find/{evolution.DEMO_INSTANCE}", headers={"apikey": evolution.DEMO_API_KEY}
    )
    assert found.json()["url"] == "https://h.example.com/b"
    assert sandboxes["evolution"].webhook_delivery(evolution.DEMO_INSTANCE, "MESSAGES_UPSERT", {}) is None


def test_the_evolution_adapter_registers_against_the_sandbox(sandboxes: ServedSandboxes) -> None:
    registration = adapter(EvolutionClient, sandboxes, "evolution").register_webhook(HUB.format("evolution"), TOKEN)
    record = sandboxes["evolution"].webhooks[evolution.DEMO_INSTANCE]
    assert registration.provider_webhook_id == record["id"]
    assert record["headers"] == {"Authorization": f"Bearer {TOKEN}"}
    assert record["events"] == ["MESSAGES_UPSERT", "MESSAGES_UPDATE"]


# ----- Asaas ------------------------------------------------------------------------------------


def asaas_webhook(**fields: Any) -> dict[str, Any]:
    return {
        "name": "hub",
        "url": "https://h.example.com/asaas",
        "email": "ops@example.com",
        "sendType": "SEQUENTIALLY",
        "events": ["PAYMENT_RECEIVED"],
        "authToken": TOKEN,
        **fields,
    }


def asaas_post(sandboxes: ServedSandboxes, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{sandboxes.url}/asaas/v3/webhooks", json=body, headers={"access_token": asaas.DEMO_API_KEY})


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"url": "not-a-url"}, "invalid_url"),
        ({"email": None}, "invalid_email"),
        ({"email": "nope"}, "invalid_email"),
        ({"sendType": "SOMETIMES"}, "invalid_sendType"),
        ({"events": ["PAYMENT_TELEPORTED"]}, "invalid_events"),
        ({"authToken": "short"}, "invalid_authToken"),
        ({"authToken": TOKEN[:20] + "12345" + TOKEN[20:]}, "invalid_authToken"),
        ({"authToken": asaas.DEMO_API_KEY + "x" * 10}, "invalid_authToken"),
    ],
)
def test_asaas_refuses_a_webhook_outside_its_rules(
    sandboxes: ServedSandboxes, fields: dict[str, Any], code: str
) -> None:
    response = asaas_post(sandboxes, asaas_webhook(**fields))
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == code


def test_asaas_never_answers_a_chosen_token_generates_one_when_absent_and_allows_ten(
    sandboxes: ServedSandboxes,
) -> None:
    chosen = asaas_post(sandboxes, asaas_webhook()).json()
    assert chosen["hasAuthToken"] is True and "authToken" not in chosen
    generated = asaas_post(sandboxes, asaas_webhook(authToken=None)).json()
    assert len(generated["authToken"]) >= 32
    for _ in range(asaas.MAX_WEBHOOKS - 2):
        assert asaas_post(sandboxes, asaas_webhook()).status_code == 200
    assert asaas_post(sandboxes, asaas_webhook()).status_code == 400
    missing = httpx.put(
        f"{sandboxes.url}/asaas/v3/webhooks/wh_unknown", json={}, headers={"access_token": asaas.DEMO_API_KEY}
    )
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "not_found"


def test_the_asaas_adapter_registers_and_updates_against_the_sandbox(sandboxes: ServedSandboxes) -> None:
    client = adapter(AsaasClient, sandboxes, "asaas")
    created = client.register_webhook(HUB.format("asaas"), TOKEN)
    updated = client.register_webhook(HUB.format("asaas"), TOKEN[::-1], existing_id=created.provider_webhook_id)
    stored = sandboxes["asaas"].webhooks
    assert list(stored) == [created.provider_webhook_id] == [updated.provider_webhook_id]
    assert stored[created.provider_webhook_id]["authToken"] == TOKEN[::-1]
    assert stored[created.provider_webhook_id]["email"] == asaas.DEMO_WEBHOOK_EMAIL


# ----- Resend -----------------------------------------------------------------------------------


def resend_call(sandboxes: ServedSandboxes, method: str, path: str, key: str, body: Any = None) -> httpx.Response:
    return httpx.request(method, f"{sandboxes.url}/resend{path}", json=body, headers={"Authorization": f"Bearer {key}"})


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"events": ["email.sent"]}, "endpoint"),
        ({"endpoint": "mailto:x@y.z", "events": ["email.sent"]}, "endpoint"),
        ({"endpoint": "https://h.example.com", "events": []}, "events"),
        ({"endpoint": "https://h.example.com", "events": ["email.teleported"]}, "events"),
    ],
)
def test_resend_refuses_a_webhook_outside_its_contract(sandboxes: ServedSandboxes, body: Any, problem: str) -> None:
    response = resend_call(sandboxes, "POST", "/webhooks", resend.DEMO_API_KEY, body)
    assert response.status_code == 422
    assert response.json()["name"] == "validation_error" and problem in response.json()["message"]


def test_resend_webhooks_and_keys_need_a_full_access_key(sandboxes: ServedSandboxes) -> None:
    body = {"endpoint": "https://h.example.com", "events": ["email.sent"]}
    for method, path in (("POST", "/webhooks"), ("POST", "/api-keys"), ("GET", "/api-keys")):
        response = resend_call(sandboxes, method, path, resend.DEMO_SENDING_ONLY_API_KEY, body)
        assert (response.status_code, response.json()["name"]) == (401, "restricted_api_key")


def test_the_resend_adapter_registers_against_the_sandbox(sandboxes: ServedSandboxes) -> None:
    client = adapter(ResendClient, sandboxes, "resend")
    created = client.register_webhook(HUB.format("resend"), TOKEN)
    again = client.register_webhook(HUB.format("resend") + "?v=2", TOKEN, existing_id=created.provider_webhook_id)
    stored = sandboxes["resend"].webhooks
    assert list(stored) == [created.provider_webhook_id]
    assert stored[created.provider_webhook_id]["endpoint"].endswith("?v=2")
    assert (
        again.secret_fields
        == created.secret_fields
        == {"webhook_secret": stored[created.provider_webhook_id]["signing_secret"]}
    )


def test_resend_key_rotation_through_the_adapter(sandboxes: ServedSandboxes) -> None:
    # Given the org's key issued by the hub (so its id is known)
    first = adapter(ResendClient, sandboxes, "resend").issue_credentials()
    base = f"{sandboxes.url}/resend"
    old = ResendClient(ResendClient.parse_credentials({"base_url": base, **first}), retry_policy=NO_RETRY)
    # When it is rotated: a new key issued, stored, tested, then the old one revoked
    issued = old.issue_credentials()
    new = ResendClient(ResendClient.parse_credentials({"base_url": base, **issued}), retry_policy=NO_RETRY)
    new.health_check()
    new.revoke_credentials(first)
    # Then the new key works and the old one no longer does
    new.health_check()
    with pytest.raises(AuthenticationError):
        old.health_check()
    new.revoke_credentials(first)  # already gone: done


# ----- Twilio -----------------------------------------------------------------------------------


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_twilio_keys_refuse_a_standard_key_and_take_the_account_credentials(sandboxes: ServedSandboxes) -> None:
    keys = f"{sandboxes.url}/twilio/2010-04-01/Accounts/{twilio.DEMO_ACCOUNT_SID}/Keys.json"
    refused = httpx.post(
        keys, data={"FriendlyName": "x"}, headers=basic(twilio.DEMO_API_KEY_SID, twilio.DEMO_API_KEY_SECRET)
    )
    assert (refused.status_code, refused.json()["code"]) == (401, 20003)
    too_long = httpx.post(
        keys, data={"FriendlyName": "x" * 65}, headers=basic(twilio.DEMO_ACCOUNT_SID, twilio.DEMO_AUTH_TOKEN)
    )
    assert too_long.status_code == 400
    created = httpx.post(
        keys, data={"FriendlyName": "x"}, headers=basic(twilio.DEMO_ACCOUNT_SID, twilio.DEMO_AUTH_TOKEN)
    )
    assert created.status_code == 201 and created.json()["sid"].startswith("SK") and created.json()["secret"]


def test_twilio_key_rotation_through_the_adapter(sandboxes: ServedSandboxes) -> None:
    (demo,) = twilio.DEMO_SECRETS
    secret = {
        **demo.build(f"{sandboxes.url}/twilio"),
        "api_key_sid": twilio.DEMO_API_KEY_SID,
        "api_key_secret": twilio.DEMO_API_KEY_SECRET,
    }
    old = TwilioClient(TwilioClient.parse_credentials(secret), retry_policy=NO_RETRY)
    issued = old.issue_credentials()
    new = TwilioClient(TwilioClient.parse_credentials({**secret, **issued}), retry_policy=NO_RETRY)
    new.health_check()
    new.revoke_credentials(secret)
    new.health_check()
    with pytest.raises(AuthenticationError):
        old.health_check()
    with pytest.raises(InvalidRequestError):
        new.revoke_credentials({**secret, **issued})  # never the key in use
