"""AnalyticsMappingGet — an org's analytics mapping (docs/observability.md "Analytics sinks").

Invoked directly (boto3 ``lambda.invoke``). Payload: {"org_id"}
Result: {"org_id", "mapping", "updated_at", "updated_by"}; an org without one gets the empty
mapping (nothing is forwarded).
Errors: InvalidRequestError, ProviderUnavailableError.
"""

from hub.analytics.mapping import AnalyticsMappingGetRequest, analytics_mapping_get
from hub.invocation import operation_handler

handler = operation_handler("analytics.mapping_get", AnalyticsMappingGetRequest, analytics_mapping_get)
