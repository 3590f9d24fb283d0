"""UsageReport — an org's usage and cost for a period: AI spend per provider/model, and every
provider's calls, errors, quotas and billed cost per operation, in BRL (USD where billed in USD).

Payload: {"org_id", "start"?: "YYYY-MM-DD", "end"?: "YYYY-MM-DD"} — both dates or neither;
without them, the current month in Brasília (first to last day).
Result: {"org_id", "start", "end", "usd_brl_rate",
"lines": [{provider, model, calls, input_tokens, output_tokens, cost_usd, cost_brl}] (AI),
"total_usd", "total_brl" (AI), "months" (the Brasília months the provider counters cover),
"providers": [{provider, operation, calls, errors, errors_by_class, units, units_by_tariff,
cost_usd (null unless billed in USD), cost_brl}],
"quotas": [{provider, rule, limit, used, remaining, window_seconds, resets_at}],
"providers_total_brl", "grand_total_brl" (AI + providers)} — docs/integrations.md "Usage and cost".
"""

from hub.ai.spend import UsageReportRequest, report_usage
from hub.invocation import operation_handler

handler = operation_handler("usage.report", UsageReportRequest, report_usage)
