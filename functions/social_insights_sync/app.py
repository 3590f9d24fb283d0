"""SocialInsightsSync — every morning (06:00 Brasília) and on demand: account and post metrics of
every connected social account (LinkedIn, Instagram, Facebook Pages, YouTube) for the days after
its cursor up to yesterday, stored in SocialTable (latest) and the GeneratedContentBucket
(history); ``social.insights.synced`` per account (hub.social.insights, docs/social.md "Insights").

Also invoked directly: {"org_id"?, "network"? (needs org_id), "account"? (needs network),
"until"?: "yyyy-mm-dd" (default and latest: yesterday), "now"?: ISO-8601}.
Result: {"until", "accounts": [{org_id, network, account, status, days, posts, through, error?,
retry_after?}], "failed": {"org/network": error}, "not_supported": [...], "truncated"}.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from hub.invocation import parse_request
from hub.observability import lambda_handler
from hub.social.insights import InsightsSyncRequest, sync_insights


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # A schedule's event is EventBridge's envelope: it carries no request fields.
    payload = {} if event.get("source") == "aws.events" else event
    return sync_insights(parse_request(InsightsSyncRequest, payload)).model_dump(mode="json")
