"""InboundEventsProcess — consumes normalised webhook events from the inbound queue.

Partial batch failures: only the failed records return to the queue (after a delay that
depends on the error, see hub.batch) and reach the DLQ after maxReceiveCount.
"""

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from hub.batch import process_sqs_batch
from hub.events import HubEvent
from hub.inbound import process_inbound_event
from hub.observability import lambda_handler


def record_handler(record: SQSRecord) -> None:
    process_inbound_event(HubEvent.model_validate_json(record.body))


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_sqs_batch(event, record_handler, context)
