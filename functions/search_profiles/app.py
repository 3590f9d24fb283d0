"""SearchProfiles — LinkedIn profiles through a ``site:linkedin.com/in`` web search (chain + cache).

Invoked directly (boto3 ``lambda.invoke``). Payload: {"org_id", "role", "company"?, "city"?,
"num"? (1-100, default 10), "page"? | "start"?, "hl"?, "gl"?, "fresh"?, "manual_if_unavailable"?}
Result: {"provider", "engine", "profiles": [{"position", "name", "headline"?, "url", "snippet"?}],
"page", "start", "num", "next"?, "cached", "stale", "age_seconds"?, "failed": [...]} (docs/search.md).
Errors: InvalidRequestError, ProviderUnavailableError (every engine failed, nothing cached).
"""

from hub.invocation import operation_handler
from hub.search.chain import search_profiles
from hub.search.requests import SearchProfilesRequest

handler = operation_handler("search.profiles", SearchProfilesRequest, search_profiles)
