"""SQS consumers: rate limits and outages become delayed redeliveries, never sleeps;
requests that retrying cannot fix are consumed, not looped into the DLQ."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from hub.batch import process_sqs_batch
from hub.errors import InvalidRequestError, ProviderUnavailableError, RateLimitedError
from tests.aws.conftest import HubAws
from tests.helpers import FakeLambdaContext


def received_event(hub_aws: HubAws, bodies: list[str]) -> dict[str, Any]:
    return hub_aws.sqs_event(hub_aws.env["INBOUND_EVENTS_QUEUE_URL"], bodies)


ERRORS: dict[str, Exception] = {
    "ok": RuntimeError("unused"),
    "rate": RateLimitedError("slow down", retry_after=30),
    "down": ProviderUnavailableError("down"),
    "invalid": InvalidRequestError("never valid"),
    "bug": KeyError("x"),
}


def handler(record: SQSRecord) -> None:
    if record.body != "ok":
        raise ERRORS[record.body]


def test_each_error_gets_its_strategy(hub_aws: HubAws) -> None:
    event = received_event(hub_aws, ["ok", "rate", "down", "invalid", "bug"])
    by_body = {r["body"]: r["messageId"] for r in event["Records"]}

    result = process_sqs_batch(event, handler, FakeLambdaContext())

    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    # retried later: rate limited, unavailable, unexpected; consumed: ok and invalid
    assert failed == {by_body["rate"], by_body["down"], by_body["bug"]}
    time.sleep(2)  # the receive's own 1 s visibility is over
    visible = {
        m["Body"]
        for m in hub_aws.client("sqs")
        .receive_message(QueueUrl=hub_aws.env["INBOUND_EVENTS_QUEUE_URL"], MaxNumberOfMessages=10)
        .get("Messages", [])
    }
    # "rate" waits 30 s and "down" 5 s; the unexpected one uses the normal visibility (1 s here)
    assert "rate" not in visible
    assert "down" not in visible
    assert "bug" in visible


@pytest.mark.parametrize("retry_after", [0.2, 10 * 24 * 3600])
def test_delay_is_clamped_to_what_sqs_allows(hub_aws: HubAws, retry_after: float) -> None:
    ERRORS["rate"] = RateLimitedError("slow down", retry_after=retry_after)
    try:
        event = received_event(hub_aws, ["rate"])
        result = process_sqs_batch(event, handler, FakeLambdaContext())
    finally:
        ERRORS["rate"] = RateLimitedError("slow down", retry_after=30)
    assert len(result["batchItemFailures"]) == 1
