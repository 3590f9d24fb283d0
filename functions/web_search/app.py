"""WebSearch — one page of Google web, Maps or News results through the org's search provider.

Invoked directly (boto3 ``lambda.invoke``). Payload: {"org_id", "engine": "google" | "google_maps"
| "google_news", "q", "location"?, "hl"?, "gl"?, "ll"?, "num"? (1-100, default 10), "start"?,
"no_cache"?, "provider"?: "serpapi"}
Result: {"provider", "engine", "search_id", "start", "next_start"?, "web" | "places" | "news": [...]}
(the normalised model of hub.search.models, docs/search.md "Engines")
Errors: InvalidRequestError, AuthenticationError, RateLimitedError, ProviderUnavailableError.
"""

from hub.invocation import operation_handler
from hub.search.web import WebSearchRequest, search_web

handler = operation_handler("web.search", WebSearchRequest, search_web)
