"""SQS consumers: rate limits and outages become delayed redeliveries, never sleeps;
requests that retrying cannot fix are consumed, not looped into the DLQ."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from hub.batch import backoff_seconds, process_sqs_batch
from hub.config import get_settings
from hub.errors import (
    InvalidRequestError,
    OutcomeUnknownError,
    ProviderUnavailableError,
    RateLimitedError,
)
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
    "unknown": OutcomeUnknownError("sent, answer lost", idempotency_key="k-1"),
}


def handler(record: SQSRecord) -> None:
    if record.body != "ok":
        raise ERRORS[record.body]


def visible_bodies(hub_aws: HubAws) -> set[str]:
    messages = (
        hub_aws.client("sqs")
        .receive_message(QueueUrl=hub_aws.env["INBOUND_EVENTS_QUEUE_URL"], MaxNumberOfMessages=10, VisibilityTimeout=0)
        .get("Messages", [])
    )
    return {m["Body"] for m in messages}


def test_each_error_gets_its_strategy(hub_aws: HubAws, caplog: pytest.LogCaptureFixture) -> None:
    event = received_event(hub_aws, ["ok", "rate", "down", "invalid", "bug", "unknown"])
    by_body = {r["body"]: r["messageId"] for r in event["Records"]}

    result = process_sqs_batch(event, handler, FakeLambdaContext())

    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    # retried later: rate limited, unavailable, unexpected; consumed: ok, invalid, unknown outcome
    assert failed == {by_body["rate"], by_body["down"], by_body["bug"]}
    # Once the receive's own 1 s visibility is over the consumed ones are visible again (the
    # Lambda mapping, not this function, deletes them), while every retried one backs off:
    # "rate" for its retry_after, "down" and "bug" for the first step of the backoff (30 s).
    deadline = time.monotonic() + 10
    visible = visible_bodies(hub_aws)
    while not {"ok", "invalid", "unknown"} <= visible and time.monotonic() < deadline:
        visible |= visible_bodies(hub_aws)
    assert {"ok", "invalid", "unknown"} <= visible
    assert not visible & {"rate", "down", "bug"}
    # and every failed record says why, with its error class
    logged = {(r.levelname, getattr(r, "error", None), getattr(r, "reason", None)) for r in caplog.records}
    assert ("WARNING", "RateLimitedError", "slow down") in logged
    assert ("WARNING", "ProviderUnavailableError", "down") in logged
    assert ("WARNING", "KeyError", "'x'") in logged
    assert ("ERROR", "InvalidRequestError", "never valid") in logged
    assert ("ERROR", "OutcomeUnknownError", "sent, answer lost") in logged


def test_backoff_grows_with_the_receive_count_and_outlasts_many_breaker_windows(
    hub_aws: HubAws, caplog: pytest.LogCaptureFixture
) -> None:
    # Given the inbound queue's redrive policy and the breaker's recovery window
    queue = hub_aws.template.raw["Resources"]["InboundEventsQueue"]["Properties"]
    max_receives = int(queue["RedrivePolicy"]["maxReceiveCount"])
    breaker_window = get_settings().breaker_recovery_seconds
    # When a record fails on every receive
    delays = [backoff_seconds(n) for n in range(1, max_receives + 1)]
    # Then each wait is longer than the last (up to minutes), none shorter than the breaker's
    # half-window, and the total before the DLQ spans many breaker windows (not 5 x 5 s)
    assert delays == sorted(delays) and delays[0] >= breaker_window / 2 and max(delays) == 15 * 60
    assert sum(delays) >= 60 * breaker_window
    # And the consumer applies the step of the record's own receive count
    event = received_event(hub_aws, ["down"])
    event["Records"][0]["attributes"]["ApproximateReceiveCount"] = "4"
    process_sqs_batch(event, handler, FakeLambdaContext())
    [record] = [r for r in caplog.records if getattr(r, "error", None) == "ProviderUnavailableError"]
    assert record.levelname == "WARNING"
    assert (getattr(record, "receive_count", None), getattr(record, "retry_in_seconds", None)) == (4, 240)


@pytest.mark.parametrize("retry_after", [0.2, 10 * 24 * 3600])
def test_delay_is_clamped_to_what_sqs_allows(hub_aws: HubAws, retry_after: float) -> None:
    ERRORS["rate"] = RateLimitedError("slow down", retry_after=retry_after)
    try:
        event = received_event(hub_aws, ["rate"])
        result = process_sqs_batch(event, handler, FakeLambdaContext())
    finally:
        ERRORS["rate"] = RateLimitedError("slow down", retry_after=30)
    assert len(result["batchItemFailures"]) == 1
