"""UsageReport — an org's AI spend per provider/model for a period, in USD and BRL.

Payload: {"org_id", "start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}
Result: {"org_id", "start", "end", "lines": [{provider, model, calls, input_tokens,
output_tokens, cost_usd, cost_brl}], "total_usd", "total_brl", "usd_brl_rate"}
"""

from hub.ai.spend import UsageReportRequest, report_usage
from hub.invocation import operation_handler

handler = operation_handler("usage.report", UsageReportRequest, report_usage)
