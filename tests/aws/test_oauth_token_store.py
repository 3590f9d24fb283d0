"""SecretsTokenStore: the TokenStore every OAuth adapter refreshes through (hub.integrations.tokens)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from hub.integrations import records
from hub.integrations.tokens import SecretsTokenStore
from hub.providers.base.auth import Token
from tests.aws.conftest import HubAws

STORED = {
    "access_token": "at-1",
    "refresh_token": "rt-1",
    "expires_at": "2026-01-01T12:00:00+00:00",
    "scopes": ["a", "b"],
    "user_id": "u1",
}


def stored(hub_aws: HubAws) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(
        hub_aws.client("secretsmanager").get_secret_value(SecretId="hub/acme/google")["SecretString"]
    )
    return value


def test_a_refresh_answer_without_a_refresh_token_keeps_the_stored_one(hub_aws: HubAws) -> None:
    hub_aws.put_secret("acme", "google", STORED)
    now = time.time()

    SecretsTokenStore().save("acme", "google", Token("at-2", now + 3000, now + 3600, None))

    after = stored(hub_aws)
    assert (after["access_token"], after["refresh_token"]) == ("at-2", "rt-1")
    assert after["scopes"] == ["a", "b"] and after["user_id"] == "u1"
    assert abs(datetime.fromisoformat(after["expires_at"]).timestamp() - (now + 3600)) < 1


def test_a_rotated_refresh_token_replaces_the_stored_one_as_a_new_version(hub_aws: HubAws) -> None:
    hub_aws.put_secret("acme", "google", STORED)
    now = time.time()

    SecretsTokenStore().save("acme", "google", Token("at-2", now + 3000, now + 3600, "rt-2"))

    assert stored(hub_aws)["refresh_token"] == "rt-2"
    versions = hub_aws.client("secretsmanager").list_secret_version_ids(SecretId="hub/acme/google")["Versions"]
    assert len(versions) == 2


def test_load_refreshes_ahead_of_the_stored_expiry_and_an_invalidated_token_reads_as_expired(hub_aws: HubAws) -> None:
    hub_aws.put_secret("acme", "google", STORED)
    store = SecretsTokenStore(margin=60)

    token = store.load("acme", "google")
    assert token is not None
    expires = datetime(2026, 1, 1, 12, tzinfo=UTC).timestamp()
    assert (token.expires_at, token.refresh_at, token.refresh_token) == (expires, expires - 60, "rt-1")

    store.save("acme", "google", Token("at-1", 0.0, expires, "rt-1"))  # what invalidate() saves
    again = store.load("acme", "google")
    assert again is not None and not again.fresh(expires - 3600)
    assert store.load("acme", "nothing") is None


def test_a_refresh_updates_the_integration_record_when_there_is_one(hub_aws: HubAws) -> None:
    hub_aws.put_secret("acme", "google", STORED)
    records.update_record("acme", "google", status="connected", auth="oauth2")
    now = time.time()

    SecretsTokenStore().save("acme", "google", Token("at-2", now + 3000, now + 3600, None))

    record = records.get_record("acme", "google")
    assert record is not None and record.token_refreshed_at is not None
    assert record.token_expires_at is not None
    assert abs(record.token_expires_at.timestamp() - (now + 3600)) < 1
