"""POST /webhooks/evolution/{org_id}: authenticated, archived, validated, deduped, enqueued."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.aws.conftest import HubAws
from tests.aws.inbound_queue import bus_events, consume, counted_aws_calls, take_queued
from tests.helpers import FakeLambdaContext, api_event, load_function, sample_event

TOKEN = "whk-token-123"
SECRET = {"base_url": "https://evo.test", "api_key": "evo-key", "instance": "somos-principal", "webhook_token": TOKEN}


@pytest.fixture
def receiver(hub_aws: HubAws) -> Any:
    hub_aws.put_secret("acme", "evolution", SECRET)
    return load_function("webhook_evolution")


def payload(message_id: str = "3EB0C431C26A1916E2E8", **data: Any) -> dict[str, Any]:
    body = json.loads(sample_event("webhook_evolution")["body"])
    body["data"]["key"]["id"] = message_id
    body["data"].update(data)
    return body


def post(receiver: Any, body: str | bytes, *, token: str | None = TOKEN, org: str = "acme") -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    event = api_event(
        "POST",
        f"/webhooks/evolution/{org}",
        resource="/webhooks/evolution/{org_id}",
        path_parameters={"org_id": org},
        body=body if isinstance(body, str) else body.decode("utf-8", "replace"),
        headers=headers,
    )
    response: dict[str, Any] = receiver.handler(event, FakeLambdaContext("WebhookEvolution"))
    return response


def test_valid_message_is_archived_enqueued_and_acknowledged(receiver: Any, hub_aws: HubAws) -> None:
    # Given a signed-in Evolution delivery
    raw = json.dumps(payload(), ensure_ascii=False)
    # When it is posted
    response = post(receiver, raw)
    # Then 200 and one normalised event on the queue
    assert response["statusCode"] == 200, response["body"]
    assert json.loads(response["body"])["duplicates"] == 0
    [message] = hub_aws.queue_messages("INBOUND_EVENTS_QUEUE_URL")
    event = json.loads(message["Body"])
    assert event["type"] == "message.received"
    assert event["org_id"] == "acme"
    assert event["data"]["from_address"] == "+5511987654321"
    # And once the consumer took it (it writes the archive the message carries before it
    # processes the event), the exact bytes are archived without the token and without the
    # instance API key Evolution puts in every body
    assert consume(hub_aws) == {"batchItemFailures": []}
    [key] = hub_aws.archived_keys()
    assert event["raw_ref"] == key
    archived = json.loads(
        hub_aws.client("s3").get_object(Bucket=hub_aws.env["WEBHOOK_ARCHIVE_BUCKET"], Key=key)["Body"].read()
    )
    apikey = payload()["apikey"]
    assert archived["body"] == raw.replace(f'"apikey": "{apikey}"', '"apikey": "[redacted]"')
    assert archived["redacted"] == ["apikey"]
    assert "authorization" not in archived["headers"]
    assert TOKEN not in json.dumps(archived)
    assert apikey not in json.dumps(archived)
    # and neither credential ever travelled through the queue
    assert TOKEN not in json.dumps(message) and apikey not in json.dumps(message)


def test_a_warm_receiver_acknowledges_with_one_aws_call(
    receiver: Any, hub_aws: HubAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub.config import get_settings

    # Given a warm receiver (the org and its secret are cached after a first delivery, as
    # deployed: the tests' default is not to cache secrets)
    monkeypatch.setenv("SECRETS_CACHE_SECONDS", "300")
    get_settings.cache_clear()
    assert post(receiver, json.dumps(payload("WARM-1")))["statusCode"] == 200
    # When the next delivery arrives
    with counted_aws_calls() as calls:
        response = post(receiver, json.dumps(payload("WARM-2")))
    # Then the provider's 200 costs one SendMessage: no S3 write, no DynamoDB write in its way
    assert response["statusCode"] == 200
    assert dict(calls) == {"SendMessage": 1}


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_bad_or_missing_token_is_401_with_no_side_effect(receiver: Any, hub_aws: HubAws, token: str | None) -> None:
    response = post(receiver, json.dumps(payload()), token=token)
    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"] == "unauthorized"
    assert hub_aws.queue_messages("INBOUND_EVENTS_QUEUE_URL") == []
    assert hub_aws.archived_keys() == []


def test_rotated_token_is_accepted_during_rotation(hub_aws: HubAws) -> None:
    hub_aws.put_secret("acme", "evolution", {**SECRET, "webhook_token": "new", "previous_webhook_token": TOKEN})
    receiver = load_function("webhook_evolution")
    assert post(receiver, json.dumps(payload()), token=TOKEN)["statusCode"] == 200
    assert post(receiver, json.dumps(payload("OTHER-ID")), token="new")["statusCode"] == 200


def test_malformed_json_is_400_naming_the_problem_and_archived(receiver: Any, hub_aws: HubAws) -> None:
    response = post(receiver, '{"event": "messages.upsert", ')
    assert response["statusCode"] == 400
    body = json.loads(response["body"])
    assert body["error"] == "malformed_json"
    assert "JSON" in body["message"]
    assert hub_aws.queue_messages("INBOUND_EVENTS_QUEUE_URL") == []
    assert len(hub_aws.archived_keys()) == 1  # authenticated input is never lost


def test_invalid_payload_is_400_naming_the_field(receiver: Any, hub_aws: HubAws) -> None:
    body = payload()
    del body["data"]["key"]["id"]
    response = post(receiver, json.dumps(body))
    assert response["statusCode"] == 400
    assert "key.id" in json.loads(response["body"])["message"]
    assert hub_aws.queue_messages("INBOUND_EVENTS_QUEUE_URL") == []


def test_duplicate_delivery_produces_one_event(receiver: Any, hub_aws: HubAws) -> None:
    # Given a delivery whose event the consumer put on the bus
    tap = hub_aws.bus_tap("dup-tap", {"detail-type": ["message.received"]})
    raw = json.dumps(payload())
    first = post(receiver, raw)
    assert consume(hub_aws) == {"batchItemFailures": []}
    # When the provider delivers it again
    second = post(receiver, raw)
    # Then it is acknowledged, and the consumer (the delivery ledger) skips it: one event on the bus
    assert first["statusCode"] == second["statusCode"] == 200
    assert consume(hub_aws) == {"batchItemFailures": []}
    assert hub_aws.queue_messages("INBOUND_EVENTS_QUEUE_URL") == []
    assert [e["detail"]["event_id"] for e in bus_events(hub_aws, tap)] == json.loads(first["body"])["event_ids"]
    # and both raw requests are archived (each delivery is kept, as received)
    assert len(hub_aws.archived_keys()) == 2


def test_concurrent_duplicates_produce_one_event(receiver: Any, hub_aws: HubAws) -> None:
    tap = hub_aws.bus_tap("concurrent-tap", {"detail-type": ["message.received"]})
    raw = json.dumps(payload("CONCURRENT-1"))
    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = [r["statusCode"] for r in pool.map(lambda _: post(receiver, raw), range(5))]
    assert statuses == [200] * 5
    # However many copies were enqueued while none was delivered, the bus sees one event
    assert 1 <= len(hub_aws.queue_messages("INBOUND_EVENTS_QUEUE_URL")) <= 5
    assert consume(hub_aws) == {"batchItemFailures": []}
    assert len(bus_events(hub_aws, tap)) == 1


def test_unknown_org_is_404(receiver: Any, hub_aws: HubAws) -> None:
    assert post(receiver, json.dumps(payload()), org="nobody")["statusCode"] == 404
    assert post(receiver, json.dumps(payload()), org="Bad Org!")["statusCode"] == 404
    assert hub_aws.archived_keys() == []


def test_oversized_body_is_413(receiver: Any, hub_aws: HubAws, monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.config import get_settings

    monkeypatch.setenv("WEBHOOK_MAX_BODY_BYTES", "100")
    get_settings.cache_clear()
    assert post(receiver, json.dumps(payload()))["statusCode"] == 413


def test_failed_enqueue_is_503_and_the_retry_then_succeeds(
    receiver: Any, hub_aws: HubAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub.config import get_settings

    raw = json.dumps(payload("RETRY-ME"))
    monkeypatch.setenv("INBOUND_EVENTS_QUEUE_URL", hub_aws.env["INBOUND_EVENTS_QUEUE_URL"] + "-missing")
    get_settings.cache_clear()
    assert post(receiver, raw)["statusCode"] == 503
    # The provider retries once the queue is back: the event is not lost, nor deduped away.
    monkeypatch.setenv("INBOUND_EVENTS_QUEUE_URL", hub_aws.env["INBOUND_EVENTS_QUEUE_URL"])
    get_settings.cache_clear()
    assert post(receiver, raw)["statusCode"] == 200
    assert len(hub_aws.queue_messages("INBOUND_EVENTS_QUEUE_URL")) == 1


def test_an_event_is_not_processed_until_its_archive_is_written(
    receiver: Any, hub_aws: HubAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub.config import get_settings

    tap = hub_aws.bus_tap("archive-tap", {"detail-type": ["message.received"]})
    # Given a delivery accepted while the archive bucket is unavailable (its message carries the archive)
    monkeypatch.setenv("WEBHOOK_ARCHIVE_BUCKET", "no-such-bucket")
    get_settings.cache_clear()
    assert post(receiver, json.dumps(payload("ARCHIVE-LATER")))["statusCode"] == 200
    batch = hub_aws.as_sqs_event(hub_aws.env["INBOUND_EVENTS_QUEUE_URL"], take_queued(hub_aws))
    consumer = load_function("inbound_events_process")
    # When the consumer cannot write the archive
    assert len(consumer.handler(batch, FakeLambdaContext("InboundEventsProcess"))["batchItemFailures"]) == 1
    # Then nothing was processed: no bus event, no delivery mark
    assert bus_events(hub_aws, tap) == []
    # And once the bucket is back, the redelivered record archives it and then processes it
    monkeypatch.setenv("WEBHOOK_ARCHIVE_BUCKET", hub_aws.env["WEBHOOK_ARCHIVE_BUCKET"])
    get_settings.cache_clear()
    assert consumer.handler(batch, FakeLambdaContext("InboundEventsProcess")) == {"batchItemFailures": []}
    [key] = hub_aws.archived_keys()
    [delivered] = bus_events(hub_aws, tap)
    assert delivered["detail"]["raw_ref"] == key


def test_failed_archive_of_a_request_too_large_to_carry_is_503_and_nothing_enqueued(
    receiver: Any, hub_aws: HubAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub.config import get_settings

    # Given a message too large to carry its archive in the queue message (> 256 KiB): the
    # receiver archives it to S3 first, and S3 is unavailable
    monkeypatch.setenv("WEBHOOK_ARCHIVE_BUCKET", "no-such-bucket")
    get_settings.cache_clear()
    big = payload("BIG-1", message={"conversation": "x" * 300_000})
    # Then 503 (the provider retries) and nothing is enqueued
    assert post(receiver, json.dumps(big))["statusCode"] == 503
    assert hub_aws.queue_messages("INBOUND_EVENTS_QUEUE_URL") == []


def test_a_request_too_large_to_carry_is_archived_first_then_enqueued(receiver: Any, hub_aws: HubAws) -> None:
    big = payload("BIG-2", message={"conversation": "x" * 300_000})
    assert post(receiver, json.dumps(big))["statusCode"] == 200
    [key] = hub_aws.archived_keys()  # written by the receiver itself (claim check)
    [message] = hub_aws.queue_messages("INBOUND_EVENTS_QUEUE_URL")
    assert json.loads(message["Body"])["raw_ref"] == key
    assert consume(hub_aws) == {"batchItemFailures": []}


def test_own_messages_are_acknowledged_without_an_event(receiver: Any, hub_aws: HubAws) -> None:
    body = payload(key={"remoteJid": "5511987654321@s.whatsapp.net", "fromMe": True, "id": "MINE"})
    response = post(receiver, json.dumps(body))
    assert response["statusCode"] == 200
    assert hub_aws.queue_messages("INBOUND_EVENTS_QUEUE_URL") == []


def test_unreachable_secrets_manager_is_503_so_the_provider_retries(
    receiver: Any, hub_aws: HubAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import reset_hub_caches

    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:9")
    reset_hub_caches()
    response = post(receiver, json.dumps(payload()))
    assert response["statusCode"] == 503
    assert json.loads(response["body"])["error"] == "credentials_unavailable"
    assert hub_aws.archived_keys() == []
