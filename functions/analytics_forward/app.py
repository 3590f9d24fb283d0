"""AnalyticsForward — hub bus events to each org's analytics sinks (GA4, PostHog, Mixpanel), once per sink.

SQS consumer of AnalyticsQueue (an EventBridge rule on the hub bus: the envelope as body) and
AnalyticsRetryQueue (a sink's delayed events: {"kind": "analytics.retry", "org_id", "sink",
"events"}). The batch is mapped with each org's mapping, grouped per (org, sink) and sent within
the sink's limits (hub.analytics.forward); a sink that is down delays only its own events.
Partial batch failures: a record whose mapping or ledger could not be read comes back (hub.batch).
"""

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from hub.analytics.forward import ForwardSteps
from hub.batch import process_sqs_batch
from hub.observability import lambda_handler


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    steps = ForwardSteps()

    def record_handler(record: SQSRecord) -> None:
        steps.handle(record.message_id)

    return process_sqs_batch(event, record_handler, context, steps)
