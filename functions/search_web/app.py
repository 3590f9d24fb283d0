"""SearchWeb — one page of web results through the org's search chain and the hub's cache.

Invoked directly (boto3 ``lambda.invoke``). Payload: {"org_id", "q", "location"?, "hl"? ("pt-br"),
"gl"? ("br"), "num"? (1-100, default 10), "page"? | "start"?, "fresh"?, "manual_if_unavailable"?}
Result: {"provider", "engine", "kind": "web", "web": [...], "page", "start", "num", "next"?,
"cached", "stale", "age_seconds"?, "failed": [...]} (docs/search.md).
Errors: InvalidRequestError, ProviderUnavailableError (every engine failed, nothing cached).
"""

from hub.invocation import operation_handler
from hub.search.chain import search_web
from hub.search.requests import SearchWebRequest

handler = operation_handler("search.web", SearchWebRequest, search_web)
