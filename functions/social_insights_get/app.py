"""SocialInsightsGet — an account's stored metrics for a range of days (hub.social.insights,
docs/social.md "Insights").

Payload: {"org_id", "network", "account", "from": "yyyy-mm-dd", "to": "yyyy-mm-dd"} — from <= to,
at most 366 days, to not after today (Brasília).
Result: {"org_id", "network", "account", "from", "to", "through" (the account's sync cursor),
"days": [{day, metrics, synced_at}], "missing": [days without metrics], "posts": [{post_id,
metrics, synced_at}] (latest lifetime metrics of the hub's publications)}.
"""

from hub.invocation import operation_handler
from hub.social.insights import InsightsGetRequest, get_insights

handler = operation_handler("social.insights.get", InsightsGetRequest, get_insights)
