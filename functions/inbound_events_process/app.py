"""InboundEventsProcess — consumes normalised webhook events from the inbound queue.

Partial batch failures: only the failed records return to the queue (after a delay that
depends on the error, see hub.batch) and reach the DLQ after maxReceiveCount. A batch's
archives, claims, bus publications and delivery marks are batched (hub.inbound.InboundBatch).
"""

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from hub.inbound import process_inbound_batch
from hub.observability import lambda_handler


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_inbound_batch(event, context)
