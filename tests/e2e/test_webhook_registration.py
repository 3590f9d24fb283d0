"""End to end: the hub's webhook registered at a provider's sandbox through its API, with the
provider calling the booted local cloud back (Meta verifies the callback during the call)."""

from __future__ import annotations

import httpx
import pytest

from hub.errors import InvalidRequestError
from hub.providers.evolution.client import EvolutionClient
from hub.providers.meta.app import MetaAppClient
from localcloud import LocalCloud
from localcloud.sandboxes import evolution, meta

pytestmark = pytest.mark.e2e

TOKEN = "Hk2vN8qXw4LpR7tY1zJ9cB3mF6dS0aGe"


def test_meta_subscribes_the_hub_after_verifying_its_callback_over_http(cloud: LocalCloud) -> None:
    # Given the demo org's Meta app (the secret make dev seeds), at the sandbox
    secret = next(s for s in meta.DEMO_SECRETS if s.org_id == "demo").build(f"{cloud.sandbox_url}/meta")
    app = MetaAppClient(MetaAppClient.parse_credentials(secret))
    callback = f"{cloud.api_url}/webhooks/meta/demo"

    # When it subscribes the hub's route: Meta's sandbox GETs the route with the verify token and
    # a challenge, and the hub's WebhookMeta answers it
    registration = app.register_webhook(callback, TOKEN)

    # Then every object is subscribed at the hub's URL
    subscriptions = httpx.get(
        f"{cloud.sandbox_url}/meta/v26.0/{meta.DEMO_APP_ID}/subscriptions",
        headers={"Authorization": f"Bearer {meta.DEMO_APP_ID}|{meta.DEMO_APP_SECRET}"},
        timeout=5,
    ).json()["data"]
    assert {s["object"]: s["callback_url"] for s in subscriptions} == {
        "whatsapp_business_account": callback,
        "instagram": callback,
        "page": callback,
    }
    assert registration.provider_webhook_id == meta.DEMO_APP_ID


def test_meta_refuses_a_callback_that_does_not_answer_with_the_verify_token(cloud: LocalCloud) -> None:
    # An org whose stored verify token is not the one sent: the hub answers 401, Meta refuses
    secret = next(s for s in meta.DEMO_SECRETS if s.org_id == "demo").build(f"{cloud.sandbox_url}/meta")
    app = MetaAppClient(MetaAppClient.parse_credentials({**secret, "verify_token": "not-the-stored-one"}))
    with pytest.raises(InvalidRequestError) as info:
        app.register_webhook(f"{cloud.api_url}/webhooks/meta/demo", TOKEN)
    assert "2200" in info.value.message


def test_evolution_points_the_instance_webhook_at_the_hub(cloud: LocalCloud) -> None:
    (secret,) = evolution.DEMO_SECRETS
    client = EvolutionClient(EvolutionClient.parse_credentials(secret.build(f"{cloud.sandbox_url}/evolution")))
    registration = client.register_webhook(f"{cloud.api_url}/webhooks/evolution/demo", TOKEN)
    found = httpx.get(
        f"{cloud.sandbox_url}/evolution/webhook/find/{evolution.DEMO_INSTANCE}",
        headers={"apikey": evolution.DEMO_API_KEY},
        timeout=5,
    ).json()
    assert found["id"] == registration.provider_webhook_id
    assert found["headers"] == {"Authorization": f"Bearer {TOKEN}"}
    assert dict(registration.secret_fields) == {"webhook_token": TOKEN}
