"""SQS consumers: partial batch failures (Powertools) plus the hub's error strategies.

For a record whose handler raised:
* ``RateLimitedError`` → redelivered after its ``retry_after`` (the message's visibility
  timeout is set to it), never a sleep inside the function;
* ``ProviderUnavailableError`` → redelivered after 5 s; after the queue's maxReceiveCount
  (5) it lands in the DLQ, from which it can be redriven;
* ``AuthenticationError`` / ``InvalidRequestError`` → not retried (retrying cannot help):
  the record is consumed and the failure is logged (the integration was already disabled
  for authentication errors, see hub.resilience.integrations);
* anything else → the queue's normal visibility timeout, then the DLQ.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from hub.aws import aws_client
from hub.errors import AuthenticationError, InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.observability import logger, metrics

UNAVAILABLE_BACKOFF_SECONDS = 5
MAX_VISIBILITY_SECONDS = 12 * 3600  # SQS's ceiling


class HubBatchProcessor(BatchProcessor):
    """BatchProcessor that remembers why each record failed."""

    def __init__(self) -> None:
        # Report a wholly failed batch item by item too, so each record still gets its strategy.
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        self.failures: list[tuple[dict[str, Any], BaseException]] = []

    def _prepare(self) -> None:
        super()._prepare()
        self.failures = []

    def failure_handler(self, record: Any, exception: Any) -> Any:
        exc = exception[1]
        if isinstance(exc, BaseException):
            self.failures.append((record if isinstance(record, dict) else record.raw_event, exc))
        return super().failure_handler(record, exception)


def _delay_for(exc: BaseException) -> int | None:
    if isinstance(exc, RateLimitedError):
        return min(MAX_VISIBILITY_SECONDS, max(1, round(exc.retry_after)))
    if isinstance(exc, ProviderUnavailableError):
        return UNAVAILABLE_BACKOFF_SECONDS
    return None


@cache
def _queue_url_for(arn: str) -> str:
    _, _, _, _region, account, name = arn.split(":", 5)
    url: str = aws_client("sqs").get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
    return url


def _queue_url(record: dict[str, Any]) -> str:
    # GetQueueUrl (cached) works on the local cloud and on AWS alike.
    return _queue_url_for(record["eventSourceARN"])


def process_sqs_batch(
    event: dict[str, Any], record_handler: Callable[[SQSRecord], Any], context: Any
) -> PartialItemFailureResponse:
    processor = HubBatchProcessor()
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    give_up: set[str] = set()
    for record, exc in processor.failures:
        message_id = record["messageId"]
        if isinstance(exc, (AuthenticationError, InvalidRequestError)):
            # Retrying cannot fix these: consume the record instead of looping to the DLQ.
            give_up.add(message_id)
            metrics.add_metric(name="RecordRejected", unit="Count", value=1)
            logger.error("record_rejected", extra={"message_id": message_id, "error": type(exc).__name__})
            continue
        delay = _delay_for(exc)
        if delay is None:
            continue
        try:
            aws_client("sqs").change_message_visibility(
                QueueUrl=_queue_url(record), ReceiptHandle=record["receiptHandle"], VisibilityTimeout=delay
            )
        except Exception:  # noqa: BLE001 - the record is still reported failed; it only waits longer
            logger.exception("visibility_change_failed", extra={"message_id": message_id})
    failures = [f for f in response.get("batchItemFailures", []) if f["itemIdentifier"] not in give_up]
    return {"batchItemFailures": failures}
