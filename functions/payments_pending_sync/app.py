"""PaymentsPendingSync — every 15 minutes: PagBank charges still pending after
PAGBANK_PENDING_AFTER_SECONDS are looked up (GET /orders/{id}), so a lost notification still
confirms the payment (hub.payments.pending).

Also invoked directly: {"now"?: ISO-8601}. Result: {"checked", "applied": ["org/charge"], "failed": {...}}
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from hub.invocation import parse_request
from hub.observability import lambda_handler
from hub.payments.pending import PendingSyncRequest, sync_pending


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # A schedule's event is EventBridge's envelope: it carries no request fields.
    payload = {} if event.get("source") == "aws.events" else event
    return sync_pending(parse_request(PendingSyncRequest, payload)).model_dump(mode="json")
