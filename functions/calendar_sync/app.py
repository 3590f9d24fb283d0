"""CalendarSync — CalendarSyncQueue (FIFO, one group per org + calendar): one incremental sync
per message (syncToken; 410 -> full resync), changes published as calendar.event.* on the bus.

Message: {"org_id", "calendar_id", "reason", "at"}. Partial batch failures (Powertools FIFO
processor): a failed sync fails the rest of its calendar's group, others go on — docs/calendar.md.
"""

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from hub.calendar.sync import process_batch
from hub.observability import lambda_handler


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_batch(event, context)
