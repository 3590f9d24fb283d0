"""AnalyticsMappingSet — replace an org's analytics mapping (docs/observability.md "Analytics sinks").

Invoked directly (boto3 ``lambda.invoke``). Payload: {"org_id", "mapping": {"sinks": ["posthog", …],
"events": [{"type", "where"?, "name", "names"?, "sinks"?, "properties"?}], "distinct_id"?,
"allow_pii"?}, "updated_by"?}
Result: {"org_id", "mapping", "updated_at", "updated_by"}
Errors: InvalidRequestError naming the field (a name a sink would refuse, a sink that is not an
AnalyticsSink provider, allow_pii naming no mapped property), ProviderUnavailableError.
"""

from hub.analytics.mapping import AnalyticsMappingSetRequest, analytics_mapping_set
from hub.invocation import operation_handler

handler = operation_handler("analytics.mapping_set", AnalyticsMappingSetRequest, analytics_mapping_set)
