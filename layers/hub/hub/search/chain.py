"""The search chain (docs/search.md "Chain and cache"): the org's engines in order, then the
hub's cache, inside one invocation.

1. The cache first: an entry younger than ``SEARCH_CACHE_FRESH_SECONDS`` answers without
   spending a search (``cached: true``, ``age_seconds``), unless the request says ``fresh``.
2. Each engine of the org's chain once, in order (``{prefix}/{org_id}/search`` ``{"chain": [...]}``,
   else ``SEARCH_CHAIN``, default serpapi → serper → brave), each within
   ``SEARCH_ENGINE_TIMEOUT_SECONDS`` and the Lambda's remaining time:

   * the caller's input refused (``InvalidRequestError``) → fail at once, no other engine;
   * down (``ProviderUnavailableError``: refused connection, timeout, 5xx, open breaker), over
     quota or 429 (``RateLimitedError``), not connected or key refused (``AuthenticationError``,
     ``ConfigurationError`` for a malformed secret), no adapter or no such capability
     (``unknown_provider`` / ``capability_unsupported``) → the next engine. Never the same
     engine twice.

3. Every engine failed: the cache entry within its TTL (``SEARCH_CACHE_TTL_SECONDS``) is served
   ``stale: true`` with its age; none → ``ProviderUnavailableError`` naming each engine's
   failure, and with ``manual_if_unavailable`` a ``search.manual_requested`` event.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from hub import bus, runtime
from hub.config import get_settings
from hub.credentials import org_settings
from hub.errors import (
    AuthenticationError,
    ConfigurationError,
    HubError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.observability import logger
from hub.providers import ports
from hub.search.cache import CachedResults, cache_key, search_cache
from hub.search.models import MAX_SHORT, MAX_SNIPPET, MAX_TITLE, SearchResults, clip
from hub.search.requests import (
    ENGINE_OF,
    Kind,
    QueryRequest,
    SearchNewsRequest,
    SearchPlacesRequest,
    SearchProfilesRequest,
    SearchRequest,
    SearchWebRequest,
)

MANUAL_REQUESTED = "search.manual_requested"
# InvalidRequestError codes that say "this engine cannot do it", not "the request is wrong".
ENGINE_UNFIT_CODES = frozenset({"unknown_provider", "capability_unsupported", "engine_unsupported"})
# Below this many seconds left in the invocation, no further engine is started.
MIN_ENGINE_SECONDS = 0.5


class SearchSettings(BaseModel):
    """An org's search settings: secret ``{prefix}/{org_id}/search`` (optional)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    chain: list[str] | None = Field(None, min_length=1, max_length=10)


def engine_chain(org_id: str) -> list[str]:
    """The org's engines in order, each once."""
    configured = org_settings(org_id, "search", SearchSettings).chain
    names = configured or get_settings().search_chain.split(",")
    return list(dict.fromkeys(name.strip() for name in names if name.strip()))


@dataclass(frozen=True)
class EngineQuery:
    """One page of one kind of search, as every engine is asked it (and the cache key)."""

    kind: Kind
    q: str
    location: str | None
    hl: str | None
    gl: str | None
    ll: str | None
    num: int
    start: int


class PageRef(BaseModel):
    page: int
    start: int


class EngineFailure(BaseModel):
    provider: str
    error: str
    code: str | None = None


class SearchAnswer(SearchResults):
    """SearchWeb/SearchNews/SearchPlaces: the engine's normalised page, and how it was got."""

    kind: Kind
    page: int
    start: int
    num: int
    next: PageRef | None = None
    cached: bool = False
    stale: bool = False
    age_seconds: int | None = None
    failed: list[EngineFailure] = Field(default_factory=list)


class Profile(BaseModel):
    position: int
    name: str
    headline: str | None = None
    url: str
    snippet: str | None = None


class ProfilesAnswer(BaseModel):
    provider: str
    engine: str
    profiles: list[Profile]
    page: int
    start: int
    num: int
    next: PageRef | None = None
    cached: bool = False
    stale: bool = False
    age_seconds: int | None = None
    failed: list[EngineFailure] = Field(default_factory=list)


def _failure(provider: str, exc: HubError) -> EngineFailure:
    return EngineFailure(provider=provider, error=type(exc).__name__, code=exc.code)


def _falls_through(exc: HubError) -> bool:
    if isinstance(exc, (ProviderUnavailableError, RateLimitedError, AuthenticationError, ConfigurationError)):
        return True
    return isinstance(exc, InvalidRequestError) and exc.code in ENGINE_UNFIT_CODES


def _ask(provider: str, org_id: str, query: EngineQuery) -> SearchResults:
    settings = get_settings()
    with runtime.deadline_within(settings.search_engine_timeout_seconds):
        engine = ports.for_org(ports.WebSearch, org_id, provider, field="chain")
        return engine.search(
            ENGINE_OF[query.kind],
            query.q,
            location=query.location,
            hl=query.hl,
            gl=query.gl,
            ll=query.ll,
            num=query.num,
            start=query.start,
        )


def _answer(
    query: EngineQuery, results: SearchResults, failed: list[EngineFailure], cached: CachedResults | None = None
) -> SearchAnswer:
    found = len(results.web or results.news or results.places or [])
    following = query.start + query.num
    more = found >= query.num and following <= 500 and (query.kind != "places" or query.ll is not None)
    return SearchAnswer(
        **results.model_dump(exclude={"start"}),
        kind=query.kind,
        page=query.start // query.num + 1,
        start=query.start,
        num=query.num,
        next=PageRef(page=following // query.num + 1, start=following) if more else None,
        cached=cached is not None,
        age_seconds=cached.age_seconds() if cached else None,
        failed=failed,
    )


def _request_id() -> str | None:
    value = logger.get_current_keys().get("function_request_id")
    return str(value) if value else None


def _manual_requested(org_id: str, query: EngineQuery, failed: list[EngineFailure]) -> bool:
    detail: dict[str, Any] = {
        "org_id": org_id,
        "request_id": _request_id(),
        "kind": query.kind,
        "query": {k: v for k, v in asdict(query).items() if v is not None and k != "kind"},
        "failed": [f.model_dump(exclude_none=True) for f in failed],
        "requested_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "severity": "medium",
        "action": "search by hand and answer the requester (every engine was down and nothing was cached)",
    }
    try:
        bus.put_event(MANUAL_REQUESTED, detail)
    except (HubError, ConfigurationError) as exc:  # the error below is still raised
        logger.warning("search_manual_request_not_published", extra={"error": type(exc).__name__})
        return False
    return True


def run_chain(
    org_id: str, query: EngineQuery, *, fresh: bool = False, manual_if_unavailable: bool = False
) -> SearchAnswer:
    """One page of results through the org's chain and the cache (module docstring)."""
    settings = get_settings()
    cache = search_cache()
    key = cache_key(asdict(query))
    entry = cache.get(org_id, key) if cache else None
    fresh_for = min(settings.search_cache_fresh_seconds, settings.search_cache_ttl_seconds)
    if entry is not None and not fresh and entry.age_seconds() <= fresh_for:
        return _answer(query, entry.results, [], entry)

    failed: list[EngineFailure] = []
    for provider in engine_chain(org_id):
        remaining = runtime.remaining_seconds()
        if remaining is not None and remaining - settings.retry_safety_margin < MIN_ENGINE_SECONDS:
            failed.append(EngineFailure(provider=provider, error="ProviderUnavailableError", code="no_time_left"))
            break
        try:
            results = _ask(provider, org_id, query)
        except HubError as exc:
            if not _falls_through(exc):
                raise
            logger.info(
                "search_engine_failed", extra={"provider": provider, "error": type(exc).__name__, "code": exc.code}
            )
            failed.append(_failure(provider, exc))
            continue
        if cache is not None:
            cache.put(org_id, key, results)
        return _answer(query, results, failed)

    if entry is not None:
        answer = _answer(query, entry.results, failed, entry)
        answer.cached, answer.stale = True, True
        return answer
    named = (
        "; ".join(f"{f.provider}: {f.error}" + (f" ({f.code})" if f.code else "") for f in failed) or "none configured"
    )
    published = manual_if_unavailable and _manual_requested(org_id, query, failed)
    raise ProviderUnavailableError(
        f"every search engine failed and nothing is cached: {named}",
        code="all_engines_failed",
        details={"failed": [f.model_dump(exclude_none=True) for f in failed], "manual_requested": published},
    )


# ----- the operations ----------------------------------------------------------------------


def _query(request: QueryRequest, kind: Kind, *, location: str | None = None, ll: str | None = None) -> EngineQuery:
    gl = getattr(request, "gl", None)
    return EngineQuery(kind, request.q, location, request.hl, gl, ll, request.num, request.offset())


def _run(request: SearchRequest, query: EngineQuery) -> SearchAnswer:
    return run_chain(request.org_id, query, fresh=request.fresh, manual_if_unavailable=request.manual_if_unavailable)


def search_web(request: SearchWebRequest) -> SearchAnswer:
    return _run(request, _query(request, "web", location=request.location))


def search_news(request: SearchNewsRequest) -> SearchAnswer:
    return _run(request, _query(request, "news"))


def search_places(request: SearchPlacesRequest) -> SearchAnswer:
    return _run(request, _query(request, "places", ll=request.ll))


def linkedin_profile_url(link: str) -> str | None:
    """``link`` if it is a LinkedIn member profile (https://[xx.|www.]linkedin.com/in/<slug>)."""
    try:
        parts = urlsplit(link)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not (host == "linkedin.com" or host.endswith(".linkedin.com")):
        return None
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) < 2 or segments[0] != "in":
        return None
    return f"https://{host}/in/{segments[1]}"


def _profile(position: int, title: str, url: str, snippet: str | None) -> Profile:
    # LinkedIn titles read "Name - Headline - Company | LinkedIn" (or an en dash).
    text = title.removesuffix("| LinkedIn").removesuffix("- LinkedIn").strip()
    for separator in (" - ", " \u2013 ", " | "):
        if separator in text:
            name, _, headline = text.partition(separator)
            break
    else:
        name, headline = text, ""
    return Profile(
        position=position,
        name=clip(name, MAX_SHORT) or text[:MAX_SHORT],
        headline=clip(headline, MAX_TITLE),
        url=url,
        snippet=clip(snippet, MAX_SNIPPET),
    )


def search_profiles(request: SearchProfilesRequest) -> ProfilesAnswer:
    """LinkedIn profiles: a ``site:linkedin.com/in`` web search; only profile URLs are kept."""
    answer = _run(
        request, EngineQuery("web", request.query(), None, request.hl, request.gl, None, request.num, request.offset())
    )
    profiles = []
    for result in answer.web or []:
        url = linkedin_profile_url(result.link)
        if url is not None:
            profiles.append(_profile(result.position, result.title, url, result.snippet))
    return ProfilesAnswer(
        provider=answer.provider,
        engine=answer.engine,
        profiles=profiles,
        **answer.model_dump(include={"page", "start", "num", "next", "cached", "stale", "age_seconds", "failed"}),
    )
