"""UsageReport — an org's AI spend per provider/model for a period, in USD and BRL.

Payload: {"org_id", "start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}
Result: {"org_id", "start", "end", "lines": [{provider, model, calls, input_tokens,
output_tokens, cost_usd, cost_brl}], "total_usd", "total_brl", "usd_brl_rate"}
"""

from datetime import date
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from hub.ai.spend import usage_report
from hub.invocation import parse_request
from hub.observability import lambda_handler
from hub.orgs import require_org


class UsageReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org_id: str
    start: date
    end: date


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_request(UsageReportRequest, event)
    report = usage_report(require_org(request.org_id), request.start, request.end)
    return report.model_dump(mode="json")
