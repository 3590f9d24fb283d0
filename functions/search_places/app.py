"""SearchPlaces — one page of places (Maps) through the org's search chain and the hub's cache.

Invoked directly (boto3 ``lambda.invoke``). Payload: {"org_id", "q", "ll"? ("@lat,lng,14z"),
"hl"? ("pt-br"), "gl"? ("br"), "num"? (1-100, default 10), "page"? | "start"? (needs ll),
"fresh"?, "manual_if_unavailable"?}
Result: {"provider", "engine", "kind": "places", "places": [...], "page", "start", "num", "next"?,
"cached", "stale", "age_seconds"?, "failed": [...]} (docs/search.md).
Errors: InvalidRequestError, ProviderUnavailableError (every engine failed, nothing cached).
"""

from hub.invocation import operation_handler
from hub.search.chain import search_places
from hub.search.requests import SearchPlacesRequest

handler = operation_handler("search.places", SearchPlacesRequest, search_places)
