"""The raw archive keeps what providers sent, minus the credentials they put in bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from hub.webhooks.archive import archive_raw, redact_json_keys
from hub.webhooks.ingress import process_archived
from hub.webhooks.models import RawWebhook
from hub.webhooks.replay import load_archived
from hub.webhooks.specs import webhook_providers, webhook_spec
from tests.helpers import raw_webhook, sample_event

RECEIVED = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)

APIKEY = "B6D711FCDE4D4FD5936544120E713976"


class MemoryStorage:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}

    def put_bytes(self, bucket: str, key: str, data: bytes, **_: Any) -> None:
        self.objects[(bucket, key)] = data

    def get_bytes(self, bucket: str, key: str) -> bytes:
        return self.objects[(bucket, key)]


@pytest.fixture
def storage(monkeypatch: pytest.MonkeyPatch) -> MemoryStorage:
    monkeypatch.setenv("WEBHOOK_ARCHIVE_BUCKET", "archive")
    from hub.config import get_settings

    get_settings.cache_clear()
    return MemoryStorage()


def evolution_request(body: bytes) -> RawWebhook:
    headers = {"content-type": "application/json", "authorization": "Bearer t"}
    return raw_webhook("evolution", body, headers, received_at=RECEIVED)


def test_an_archived_evolution_webhook_has_no_apikey_and_still_normalises(
    storage: MemoryStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Evolution's webhook body, which carries the instance API key
    body = sample_event("webhook_evolution")["body"].encode()
    assert APIKEY.encode() in body
    # When it is archived
    key = archive_raw(evolution_request(body), storage)  # type: ignore[arg-type]
    # Then the stored object has no API key, and says what it redacted
    stored = storage.objects[("archive", key)]
    assert APIKEY.encode() not in stored
    document = json.loads(stored)
    assert json.loads(document["body"])["apikey"] == "[redacted]"
    assert document["redacted"] == ["apikey"]
    # and everything else is the bytes received
    assert document["body"] == body.decode().replace(APIKEY, "[redacted]")
    # And a replay of it still produces the event
    monkeypatch.setattr("hub.webhooks.ingress.split_delivered", lambda events: (list(events), 0))
    monkeypatch.setattr("hub.webhooks.ingress.enqueue", lambda events: None)
    replayed = load_archived(key, storage)  # type: ignore[arg-type]
    result = process_archived(webhook_spec("evolution"), replayed, key)
    assert result.status_code == 200, result.body
    assert len(result.body["event_ids"]) == 1


def test_stripe_client_secrets_are_not_archived(storage: MemoryStorage) -> None:
    body = json.dumps(
        {
            "id": "evt_1",
            "type": "payment_intent.succeeded",
            "data": {"object": {"id": "pi_1", "client_secret": "pi_1_secret_abc"}},
        }
    ).encode()
    request = raw_webhook("stripe", body, {"stripe-signature": "t=1,v1=x"}, received_at=RECEIVED)
    key = archive_raw(request, storage)  # type: ignore[arg-type]
    assert b"pi_1_secret_abc" not in storage.objects[("archive", key)]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"apikey":"k","data":{"apikey" : "k2"}}', b'{"apikey":"[redacted]","data":{"apikey" : "[redacted]"}}'),
        # a key mentioned inside text is not a member: left alone
        (b'{"text":"my \\"apikey\\": \\"x\\""}', b'{"text":"my \\"apikey\\": \\"x\\""}'),
        # an escaped quote inside the secret
        (b'{"apikey": "a\\"b", "n": 1.10}', b'{"apikey": "[redacted]", "n": 1.10}'),
        # a body cut short (archived before it is parsed) is redacted too
        (b'{"event": "x", "apikey": "k", ', b'{"event": "x", "apikey": "[redacted]", '),
        # other members, numbers and spacing stay byte for byte
        (b'{ "apikeys": "k", "x": 1e2 }', b'{ "apikeys": "k", "x": 1e2 }'),
    ],
)
def test_redaction_changes_only_the_credential_values(body: bytes, expected: bytes) -> None:
    assert redact_json_keys(body, ["apikey"])[0] == expected


def test_every_receiver_declares_its_redaction() -> None:
    # What each provider's body can carry (docs/webhooks: archive): only Evolution's apikey and
    # Stripe's client_secret are credentials; the others carry identifiers, not secrets.
    declared = {provider: webhook_spec(provider).archive_redact for provider in webhook_providers()}
    assert declared["evolution"] == ("apikey",)
    assert declared["stripe"] == ("client_secret",)
