"""ConsoleReplayJob — runs the console's replay jobs (hub.console.replay), one page per
ConsoleJobsQueue message: {"job_id", "page", "cursor"}; each page enqueues the next. A page that
fails comes back with backoff (hub.batch) and lands in ConsoleJobsDLQ after 5 receives: its job
stays ``running`` until that message is redriven (the console's DLQ screen), which resumes it."""

import json
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from hub.batch import process_sqs_batch
from hub.console.replay import run_page
from hub.observability import lambda_handler


def record_handler(record: SQSRecord) -> str:
    return run_page(json.loads(record.body))


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_sqs_batch(event, record_handler, context)
