"""SQS consumers: partial batch failures (Powertools) plus the hub's error strategies.

For a record whose handler raised:
* ``RateLimitedError`` / ``RequestInProgressError`` → redelivered after its ``retry_after``
  (the message's visibility timeout is set to it), never a sleep inside the function;
* ``AuthenticationError`` / ``InvalidRequestError`` / ``IdempotencyConflictError`` /
  ``OutcomeUnknownError`` → not retried (retrying cannot help, or must not happen blindly):
  the record is consumed and the failure is logged (the integration was already disabled for
  authentication errors, see hub.resilience.integrations);
* anything else (``ProviderUnavailableError``, an AWS service error, a bug) → redelivered
  after a backoff that grows with the message's receive count (:func:`backoff_seconds`:
  30 s, 60 s, 2 min, 4 min, 8 min, then every 15 min), and after the queue's
  ``maxReceiveCount`` it lands in the DLQ, from which it can be redriven.

The backoff is sized against the circuit breaker: a provider outage opens the breaker for
60 s (``BREAKER_RECOVERY_SECONDS``) and every call inside that window fails at once, so
redeliveries a few seconds apart would burn every receive inside one window. With
``maxReceiveCount: 10`` on the inbound queue a record waits 30+60+120+240+480+5x900 =
5 430 s (about 90 minutes, some 90 breaker windows) before the DLQ (docs/resilience.md).

Every failed record is logged with its error class and reason: WARNING when it will be
retried (with the delay and the receive count), ERROR when it is consumed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, Protocol

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from hub import errortracking
from hub.aws import aws_client
from hub.errors import (
    AuthenticationError,
    HubError,
    IdempotencyConflictError,
    InvalidRequestError,
    OutcomeUnknownError,
    RateLimitedError,
    RequestInProgressError,
)
from hub.observability import logger, metrics

BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 15 * 60
MAX_VISIBILITY_SECONDS = 12 * 3600  # SQS's ceiling
_MAX_REASON = 300
# Retrying cannot fix these, or must not happen without a person deciding (an unknown outcome).
_NOT_RETRIED: tuple[type[BaseException], ...] = (
    AuthenticationError,
    InvalidRequestError,
    IdempotencyConflictError,
    OutcomeUnknownError,
)


class BatchSteps(Protocol):
    """Work a consumer does for the whole batch around Powertools' record-by-record pass, so
    AWS calls can be batched (claims, archives, PutEvents) while each record keeps its own
    outcome and error strategy."""

    def prepare(self, records: list[dict[str, Any]]) -> None:
        """Before the records are handled. Must not raise: a per-record problem is kept and
        raised by that record's handler."""

    def finish(self, results: list[Any]) -> list[BaseException | None]:
        """After: the handler results of the records that succeeded, in order; returns for
        each the error that makes it fail after all (None: it succeeded)."""
        ...


class HubBatchProcessor(BatchProcessor):
    """BatchProcessor that remembers why each record failed, with optional batch steps."""

    def __init__(self, steps: BatchSteps | None = None) -> None:
        # Report a wholly failed batch item by item too, so each record still gets its strategy.
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        self.failures: list[tuple[dict[str, Any], BaseException]] = []
        self.steps = steps

    def process(self) -> list[tuple[Any, ...]]:
        if self.steps is None:
            return super().process()
        self.steps.prepare(list(self.records))
        entries = super().process()
        succeeded = [i for i, entry in enumerate(entries) if entry[0] == "success"]
        outcomes = self.steps.finish([entries[i][1] for i in succeeded])
        for i, exc in zip(succeeded, outcomes, strict=True):
            if exc is None:
                continue
            record = entries[i][2]
            self.success_messages.remove(record)
            data = self._to_batch_type(record=record, event_type=self.event_type, model=self.model)
            entries[i] = self.failure_handler(record=data, exception=(type(exc), exc, exc.__traceback__))
        return entries

    def _prepare(self) -> None:
        super()._prepare()
        self.failures = []

    def failure_handler(self, record: Any, exception: Any) -> Any:
        exc = exception[1]
        if isinstance(exc, BaseException):
            self.failures.append((record if isinstance(record, dict) else record.raw_event, exc))
        return super().failure_handler(record, exception)


def backoff_seconds(receive_count: int) -> int:
    """Delay before the next receive of a record that failed on its ``receive_count``-th one."""
    doublings = min(max(0, receive_count - 1), 10)
    return min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2**doublings)


def _delay_for(exc: BaseException, receive_count: int) -> int:
    if isinstance(exc, RateLimitedError | RequestInProgressError):
        return min(MAX_VISIBILITY_SECONDS, max(1, round(exc.retry_after)))
    return backoff_seconds(receive_count)


def _receive_count(record: dict[str, Any]) -> int:
    try:
        return max(1, int(record.get("attributes", {}).get("ApproximateReceiveCount", 1)))
    except (TypeError, ValueError):
        return 1


def _reason(exc: BaseException) -> str:
    """The error's own message (HubError messages never hold secrets), bounded."""
    text = exc.message if isinstance(exc, HubError) else str(exc)
    return text[:_MAX_REASON]


@cache
def _queue_url_for(arn: str) -> str:
    _, _, _, _region, account, name = arn.split(":", 5)
    url: str = aws_client("sqs").get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
    return url


def _queue_url(record: dict[str, Any]) -> str:
    # GetQueueUrl (cached) works on the local cloud and on AWS alike.
    return _queue_url_for(record["eventSourceARN"])


def process_sqs_batch(
    event: dict[str, Any], record_handler: Callable[[SQSRecord], Any], context: Any, steps: BatchSteps | None = None
) -> PartialItemFailureResponse:
    processor = HubBatchProcessor(steps)
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    give_up: set[str] = set()
    for record, exc in processor.failures:
        errortracking.report_handled(exc)  # from its level up (docs/observability.md "Errors: Sentry")
        message_id = record["messageId"]
        failure = {
            "message_id": message_id,
            "error": type(exc).__name__,
            "reason": _reason(exc),
            "code": getattr(exc, "code", None),
            "provider": getattr(exc, "provider", None),
        }
        if isinstance(exc, _NOT_RETRIED):
            # Consume the record instead of looping it to the DLQ.
            give_up.add(message_id)
            metrics.add_metric(name="RecordRejected", unit="Count", value=1)
            logger.error("record_rejected", extra=failure)
            continue
        receive_count = _receive_count(record)
        delay = _delay_for(exc, receive_count)
        logger.warning("record_failed", extra={**failure, "receive_count": receive_count, "retry_in_seconds": delay})
        try:
            aws_client("sqs").change_message_visibility(
                QueueUrl=_queue_url(record), ReceiptHandle=record["receiptHandle"], VisibilityTimeout=delay
            )
        except Exception:  # noqa: BLE001 - the record is still reported failed; it only waits longer
            logger.exception("visibility_change_failed", extra={"message_id": message_id})
    failures = [f for f in response.get("batchItemFailures", []) if f["itemIdentifier"] not in give_up]
    return {"batchItemFailures": failures}
