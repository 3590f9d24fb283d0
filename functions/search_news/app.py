"""SearchNews — one page of news through the org's search chain and the hub's cache.

Invoked directly (boto3 ``lambda.invoke``). Payload: {"org_id", "q", "hl"? ("pt-br"), "gl"? ("br"),
"num"? (1-100, default 10), "page"? | "start"?, "fresh"?, "manual_if_unavailable"?}
Result: {"provider", "engine", "kind": "news", "news": [...], "page", "start", "num", "next"?,
"cached", "stale", "age_seconds"?, "failed": [...]} (docs/search.md).
Errors: InvalidRequestError, ProviderUnavailableError (every engine failed, nothing cached).
"""

from hub.invocation import operation_handler
from hub.search.chain import search_news
from hub.search.requests import SearchNewsRequest

handler = operation_handler("search.news", SearchNewsRequest, search_news)
