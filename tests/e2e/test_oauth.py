"""End to end: an operator connects an org's Google and Facebook accounts through the local
cloud's API (``/oauth/{provider}/start`` → the provider's consent page, a sandbox → the hub's
callback), as a browser follows the redirects."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from localcloud import LocalCloud
from tests.e2e.conftest import client

pytestmark = pytest.mark.e2e

ACTOR = "ana@somosprodutora.com.br"


def secret(cloud: LocalCloud, org_id: str, provider: str) -> dict[str, Any] | None:
    sm = client(cloud, "secretsmanager")
    try:
        value: dict[str, Any] = json.loads(sm.get_secret_value(SecretId=f"hub/{org_id}/{provider}")["SecretString"])
    except sm.exceptions.ResourceNotFoundException:
        return None
    return value


def record(cloud: LocalCloud, org_id: str, provider: str) -> dict[str, Any]:
    table = cloud.template.env_value("INTEGRATIONS_TABLE") if cloud.template else None
    item = client(cloud, "dynamodb").get_item(
        TableName=table, Key={"org_id": {"S": org_id}, "provider": {"S": provider}}
    )
    return item.get("Item", {})


def browse(cloud: LocalCloud, provider: str, org_id: str) -> httpx.Response:
    """The operator's browser: start, follow every redirect to the callback's page."""
    return httpx.get(
        f"{cloud.api_url}/oauth/{provider}/start",
        params={"org_id": org_id, "actor": ACTOR},
        follow_redirects=True,
        timeout=30,
    )


def test_google_connects_through_the_local_cloud_and_a_replay_is_refused(cloud: LocalCloud) -> None:
    page = browse(cloud, "google", "beta")

    assert page.status_code == 200, page.text
    assert "You can close this tab" in page.text
    [start, authorize, callback] = [*page.history, page]
    assert start.status_code == 302 and authorize.status_code == 302
    assert authorize.url.path == "/google/o/oauth2/v2/auth"
    assert callback.url.path == "/oauth/google/callback"
    stored = secret(cloud, "beta", "google")
    assert stored is not None and stored["access_token"] and stored["refresh_token"]
    assert "https://www.googleapis.com/auth/calendar.events" in stored["scopes"]
    item = record(cloud, "beta", "google")
    assert item["status"]["S"] == "connected" and item["connected_by"]["S"] == ACTOR
    assert {s["S"] for s in item["scopes"]["L"]} == set(stored["scopes"])

    replay = httpx.get(str(callback.url), timeout=30)

    assert replay.status_code == 400
    assert secret(cloud, "beta", "google") == stored


def test_facebook_stores_the_long_lived_token_obtained_right_after_the_callback(cloud: LocalCloud) -> None:
    httpx.delete(f"{cloud.sandbox_url}/__sandbox/requests", timeout=5)

    page = browse(cloud, "facebook", "beta")

    assert page.status_code == 200, page.text
    counters = httpx.get(f"{cloud.sandbox_url}/facebook/_sandbox/oauth", timeout=5).json()
    assert (counters["codes_exchanged"], counters["long_lived_exchanges"]) == (1, 1)
    stored = secret(cloud, "beta", "facebook")
    assert stored is not None
    assert datetime.fromisoformat(stored["expires_at"]) > datetime.now(UTC) + timedelta(days=59)


def test_a_tampered_state_stores_nothing(cloud: LocalCloud) -> None:
    start = httpx.get(f"{cloud.api_url}/oauth/canva/start", params={"org_id": "other", "actor": ACTOR}, timeout=30)
    assert start.status_code == 302
    authorize = httpx.get(start.headers["location"], timeout=30)
    assert authorize.status_code == 302
    callback = httpx.URL(authorize.headers["location"])
    forged = callback.copy_set_param("state", callback.params["state"][::-1])

    page = httpx.get(str(forged), timeout=30)

    assert page.status_code == 400
    assert secret(cloud, "other", "canva") is None
