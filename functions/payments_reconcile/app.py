"""PaymentsReconcile — daily (04:00 Brasília): Asaas statement and the payout bank account
(Open Finance aggregator) against the payments table; mismatches as events and a CSV in exports.

Also invoked directly: {"org_id"?, "start"?, "end"?} (default: every org with Asaas, yesterday).
Result: {"reports": [{"org_id", "start", "end", "transactions", "charges", "mismatches", "report_key",
"bank_checked"}], "failed": {org: error}}
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from hub.invocation import parse_request
from hub.observability import lambda_handler
from hub.orgs import require_org
from hub.payments.reconciliation import ReconciliationRequest, reconcile


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # A schedule's event is EventBridge's envelope: it carries no request fields.
    payload = {} if event.get("source") == "aws.events" else event
    request = parse_request(ReconciliationRequest, payload)
    if request.org_id is not None:
        require_org(request.org_id)
    return reconcile(request).model_dump(mode="json")
