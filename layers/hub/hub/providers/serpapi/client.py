"""SerpAPI: Google web, Maps and News results behind the hub's WebSearch port.

The provider's API facts this module relies on, with their doc links: README.md. The api_key
travels in the query string: never logged (the base logs the path only), never in an error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import httpx
from pydantic import Field, SecretStr

from hub.config import get_settings
from hub.errors import HubError, InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.providers.base.client import ProviderClient, ProviderCredentials
from hub.resilience.ratelimit import LimitRule
from hub.search.models import (
    ENGINES,
    MAX_LINK,
    MAX_RESULTS,
    MAX_SHORT,
    MAX_SNIPPET,
    MAX_TITLE,
    Engine,
    GpsCoordinates,
    NewsResult,
    PlaceResult,
    SearchResults,
    WebResult,
    clip,
    count,
    number,
    parse_instant,
)
from hub.usage.meter import Billing

# ----- the SerpAPI adapter ----------------------------------------------------------------------

PROVIDER = "serpapi"

# A live search takes seconds (SerpAPI fetches Google then parses); the base still caps any wait
# at the Lambda's remaining time.
SEARCH_TIMEOUT_SECONDS = 30.0
# 429 "Your account has run out of searches": nothing to retry until the plan renews or is
# upgraded (https://serpapi.com/api-status-and-error-codes).
EXHAUSTED_RETRY_AFTER_SECONDS = 3600.0


# Searches a month of each plan (https://serpapi.com/pricing): an org's secret names its plan,
# or its exact ``monthly_searches`` (which wins: plans and their sizes change).
PLAN_SEARCHES: dict[str, int] = {"free": 100, "developer": 5_000, "production": 15_000}
MONTHLY_RULE = "searches_per_month"


class SerpApiCredentials(ProviderCredentials):
    api_key: SecretStr
    plan: Literal["free", "developer", "production"] | None = None
    monthly_searches: int | None = Field(None, ge=1, le=10_000_000)


class SerpApiClient(ProviderClient):
    provider: ClassVar[str] = "serpapi"
    credentials_model: ClassVar[type[ProviderCredentials]] = SerpApiCredentials
    # Searches only read: a lost answer is retried or failed over, never an unknown outcome.
    writes_have_effects: ClassVar[bool] = False

    # Google web, Maps and News (https://serpapi.com/search-api).
    kinds: ClassVar[frozenset[Engine]] = frozenset(ENGINES)

    credentials: SerpApiCredentials

    def auth_headers(self) -> dict[str, str]:
        # SerpAPI authenticates by the api_key query parameter only (no header:
        # https://github.com/serpapi/public-roadmap/issues/784); see _params.
        return {}

    def limit_rules(self, overrides: Mapping[str, Any] | None) -> tuple[LimitRule, ...]:
        """The monthly searches quota is the org's plan when its secret says which (counted for
        the org's account across every instance: hub.resilience.ratelimit)."""
        rules = super().limit_rules(overrides)
        monthly = self.credentials.monthly_searches or PLAN_SEARCHES.get(self.credentials.plan or "")
        if not monthly:
            return rules
        return tuple(dataclasses.replace(r, limit=monthly) if r.name == MONTHLY_RULE else r for r in rules)

    def _params(self, **params: Any) -> dict[str, Any]:
        return {
            **{k: v for k, v in params.items() if v is not None},
            "api_key": self.credentials.api_key.get_secret_value(),
        }

    def classify(self, response: httpx.Response) -> HubError | None:
        # 401 invalid key / 403 deleted account -> AuthenticationError, 400 -> InvalidRequestError,
        # 429 -> RateLimitedError, 500/503 -> ProviderUnavailableError: the base mapping.
        error = super().classify(response)
        if isinstance(error, RateLimitedError) and "run out of searches" in error.message.lower():
            # The same 429 means "over the hourly throughput" or "no searches left this month".
            return error.recast(
                RateLimitedError,
                retry_after=max(error.retry_after, EXHAUSTED_RETRY_AFTER_SECONDS),
                code="searches_exhausted",
            )
        return error

    # https://serpapi.com/search-api, /maps-local-results, /google-news-api
    def search(
        self,
        engine: Engine,
        q: str,
        *,
        location: str | None = None,
        hl: str | None = None,
        gl: str | None = None,
        ll: str | None = None,
        num: int = 10,
        start: int = 0,
        no_cache: bool = False,
    ) -> SearchResults:
        """GET /search: one page of ``engine``'s results for ``q``, at most ``num`` of them."""
        if engine not in self.kinds:
            raise InvalidRequestError(f"engine: serpapi has no {engine!r} engine", code="engine_unsupported")
        num = max(1, min(num, MAX_RESULTS))
        params: dict[str, Any] = {"engine": engine, "q": q, "hl": hl, "gl": gl}
        if engine == "google":
            params.update(location=location, num=num, start=start or None)
        elif engine == "google_maps":
            params.update(type="search", ll=ll, start=start or None)
        if no_cache:
            params["no_cache"] = "true"
        response = self.request(
            "GET",
            "/search",
            params=self._params(**params),
            timeout=SEARCH_TIMEOUT_SECONDS,
            operation="search",
            billing=Billing(1, "search"),  # one plan search (hub.usage.prices)
        )
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise ProviderUnavailableError("serpapi answered 200 without a JSON object", provider=self.provider)
        found = payload.get("search_metadata")
        metadata: dict[str, Any] = found if isinstance(found, dict) else {}
        # https://serpapi.com/search-errors: a 200 whose status is Success may carry "error" with
        # empty results ("Google hasn't returned any results for this query."): no results.
        if metadata.get("status") == "Error":
            # An error inside a 200: scrubbed like every answer's error (the key is in the query),
            # before it is cut short, so no prefix of the key survives the cut.
            failed = self.scrub(ProviderUnavailableError(str(payload.get("error") or "status Error")))
            raise ProviderUnavailableError(
                f"serpapi search failed: {failed.message[:300]}", provider=self.provider, code="search_error"
            )
        results = SearchResults(
            provider=self.provider, engine=engine, search_id=clip(metadata.get("id"), MAX_SHORT), start=start
        )
        if engine == "google":
            results.web = _web_results(payload.get("organic_results"), num)
            page = len(_items(payload.get("organic_results")))
        elif engine == "google_maps":
            results.places = _place_results(payload.get("local_results"), num)
            page = len(_items(payload.get("local_results")))
        else:
            # Google News answers its whole result set at once (no start/num:
            # https://serpapi.com/google-news-api): a page is a slice of it.
            everything = _news_results(payload.get("news_results"), MAX_RESULTS)
            results.news = everything[start : start + num]
            if len(everything) > start + num:
                results.next_start = start + num
            page = 0
        # https://serpapi.com/search-api: serpapi_pagination.next (a URL carrying the next page's
        # start) is there when Google has a next page.
        pagination = payload.get("serpapi_pagination")
        following = pagination.get("next") if isinstance(pagination, dict) else None
        if page and isinstance(following, str) and following:
            results.next_start = _next_start(following, start + page)
        return results

    # https://serpapi.com/account-api: free, not counted against the plan's searches.
    def searches_left(self) -> int | None:
        """GET /account.json: the searches left this month (plan and extra credits,
        ``total_searches_left``), for the chain's quota status; None when SerpAPI does not say."""
        body = self.json_object(
            self.request(
                "GET",
                "/account.json",
                params=self._params(),
                timeout=get_settings().health_check_timeout,
                operation="account",
            )
        )
        return count(body.get("total_searches_left"))

    # https://serpapi.com/account-api: free, not counted against the plan's searches.
    def health_check(self) -> None:
        """GET /account.json: the key works and the plan has searches left."""
        response = self.request(
            "GET", "/account.json", params=self._params(), timeout=get_settings().health_check_timeout
        )
        body = response.json()
        left = body.get("total_searches_left") if isinstance(body, dict) else None
        if isinstance(left, int) and left <= 0:
            raise RateLimitedError(
                "serpapi: the plan has no searches left this month",
                provider=self.provider,
                retry_after=EXHAUSTED_RETRY_AFTER_SECONDS,
                code="searches_exhausted",
            )


def _next_start(url: str, default: int) -> int:
    try:
        found = httpx.URL(url).params.get("start")
    except (httpx.InvalidURL, ValueError, TypeError):
        return default
    return int(found) if found is not None and found.isdigit() else default


def _items(value: Any) -> list[dict[str, Any]]:
    # local_results is a list on google_maps, an object {"places": [...]} in a Google local pack.
    if isinstance(value, dict):
        value = value.get("places")
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _position(item: dict[str, Any], default: int) -> int:
    position = item.get("position")
    return position if isinstance(position, int) and not isinstance(position, bool) else default


def _web_results(value: Any, num: int) -> list[WebResult]:
    found: list[WebResult] = []
    for index, item in enumerate(_items(value), start=1):
        title, link = clip(item.get("title"), MAX_TITLE), clip(item.get("link"), MAX_LINK)
        if title and link:
            found.append(
                WebResult(
                    position=_position(item, index),
                    title=title,
                    link=link,
                    snippet=clip(item.get("snippet"), MAX_SNIPPET),
                    source_engine=PROVIDER,
                )
            )
    return found[:num]


def _place_results(value: Any, num: int) -> list[PlaceResult]:
    found: list[PlaceResult] = []
    for index, item in enumerate(_items(value), start=1):
        name = clip(item.get("title"), MAX_TITLE)
        if not name:
            continue
        gps = item.get("gps_coordinates")
        coordinates = GpsCoordinates.of(gps.get("latitude"), gps.get("longitude")) if isinstance(gps, dict) else None
        # https://serpapi.com/maps-local-results: phone, website, reviews (a count) beside rating.
        found.append(
            PlaceResult(
                position=_position(item, index),
                name=name,
                address=clip(item.get("address"), MAX_SNIPPET),
                phone=clip(item.get("phone"), MAX_SHORT),
                website=clip(item.get("website"), MAX_LINK),
                rating=number(item.get("rating")),
                reviews=count(item.get("reviews")),
                gps=coordinates,
                source_engine=PROVIDER,
            )
        )
    return found[:num]


def _news_results(value: Any, num: int) -> list[NewsResult]:
    found: list[NewsResult] = []
    for index, item in enumerate(_items(value), start=1):
        # A story cluster carries its lead article as "highlight".
        article = item if item.get("link") else item.get("highlight")
        if not isinstance(article, dict):
            continue
        title, link = clip(article.get("title"), MAX_TITLE), clip(article.get("link"), MAX_LINK)
        if not (title and link):
            continue
        source = article.get("source")
        found.append(
            NewsResult(
                position=_position(item, index),
                title=title,
                link=link,
                source=clip(source.get("name") if isinstance(source, dict) else source, MAX_SHORT),
                date=clip(article.get("date"), MAX_SHORT),
                published_at=parse_instant(article.get("iso_date")),
                snippet=clip(article.get("snippet"), MAX_SNIPPET),
                source_engine=PROVIDER,
            )
        )
    return found[:num]
