"""MessagesOutboxProcess — sends queued on MessagesOutboxQueue (delayed, not dropped, over a limit).

Each SQS message: {"operation": "whatsapp.send_text"|"whatsapp.send_media"|"whatsapp.send_template"|
"sms.send"|"email.send", "request": {...with idempotency_key}}. Partial batch failures: a rate-limited
send comes back after retry_after (hub.batch); a refused one is announced as message.rejected.
"""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from hub import idempotency
from hub.batch import process_sqs_batch
from hub.messaging.outbox import send_from_outbox
from hub.observability import lambda_handler


def record_handler(record: SQSRecord) -> None:
    sent = record.attributes.get("SentTimestamp")  # always set by SQS; absent in hand-made events
    send_from_outbox(record.body, datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else None)


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    idempotency.register_lambda_context(context)
    return process_sqs_batch(event, record_handler, context)
