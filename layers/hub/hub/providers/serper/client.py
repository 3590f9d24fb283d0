"""Serper.dev: Google web, News and Places results behind the hub's WebSearch port.

The provider's API facts this module relies on, with their doc links: README.md. The key
travels in the ``X-API-KEY`` header (scrubbed from errors like every credential header).
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
from pydantic import SecretStr

from hub.config import get_settings
from hub.errors import HubError, InvalidRequestError, RateLimitedError
from hub.providers.base.client import ProviderClient, ProviderCredentials
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
)
from hub.usage.meter import Billing

PROVIDER = "serper"
# Serper answers in about a second or two; the base still caps any wait at the remaining time.
SEARCH_TIMEOUT_SECONDS = 15.0
# Out of credits: nothing to retry until the org buys a pack (then an operator resets the quota).
EXHAUSTED_RETRY_AFTER_SECONDS = 3600.0
# Brazil and Brazilian Portuguese unless the caller asks otherwise (the agency's market).
DEFAULT_GL, DEFAULT_HL = "br", "pt-br"
# https://serper.dev/ (pricing): a query costs 1 credit, 2 when it asks for more than 10 results.
CREDITS_ABOVE_TEN = 2
# Where each engine goes (https://serper.dev/playground): /places by text, /maps around ``ll``.
PATHS: dict[str, str] = {"google": "/search", "google_news": "/news", "google_maps": "/places"}
RESULT_KEYS: dict[str, str] = {"google": "organic", "google_news": "news", "google_maps": "places"}


class SerperCredentials(ProviderCredentials):
    api_key: SecretStr


def credits_for(num: int) -> int:
    return CREDITS_ABOVE_TEN if num > 10 else 1


class SerperClient(ProviderClient):
    provider: ClassVar[str] = PROVIDER
    credentials_model: ClassVar[type[ProviderCredentials]] = SerperCredentials
    # Searches only read: a lost answer is retried or failed over, never an unknown outcome.
    writes_have_effects: ClassVar[bool] = False
    kinds: ClassVar[frozenset[Engine]] = frozenset(ENGINES)

    credentials: SerperCredentials

    def auth_headers(self) -> dict[str, str]:
        return {"X-API-KEY": self.credentials.api_key.get_secret_value()}

    def classify(self, response: httpx.Response) -> HubError | None:
        # 403 {"message": "Unauthorized.", "statusCode": 403} for a wrong key -> AuthenticationError,
        # 429 -> RateLimitedError, 5xx -> ProviderUnavailableError: the base mapping.
        error = super().classify(response)
        if error is not None and 400 <= response.status_code < 500 and "credits" in error.message.lower():
            # "Not enough credits": the prepaid balance is spent (any 4xx Serper words so).
            return error.recast(
                RateLimitedError,
                retry_after=EXHAUSTED_RETRY_AFTER_SECONDS,
                code="credits_exhausted",
                http_status=response.status_code,
            )
        return error

    def billed(self, operation: str | None, result: Any) -> Billing | None:
        # Every answer states what it cost ("credits": 1): that is what the org pays.
        if operation != "search" or not isinstance(result, httpx.Response):
            return None
        try:
            body = result.json()
        except ValueError:
            return None
        spent = count(body.get("credits")) if isinstance(body, dict) else None
        return Billing(spent, "credit") if spent else None

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
        """POST /search | /news | /places (/maps with ``ll``): one page of ``engine``'s results.

        ``start`` (an offset) becomes Serper's 1-based ``page`` of ``num`` results. Serper keeps
        no cache of its own to skip: ``no_cache`` changes nothing here."""
        if engine not in self.kinds:
            raise InvalidRequestError(f"engine: serper has no {engine!r} engine", code="engine_unsupported")
        num = max(1, min(num, MAX_RESULTS))
        body: dict[str, Any] = {
            "q": q,
            "gl": (gl or DEFAULT_GL).lower(),
            "hl": (hl or DEFAULT_HL).lower(),
            "num": num,
            "page": start // num + 1,
        }
        path = PATHS[engine]
        if engine == "google_maps" and ll:
            path, body["ll"] = "/maps", ll  # https://serper.dev/playground: maps search around a point
        elif location:
            body["location"] = location
        credits = credits_for(num)
        response = self.request(
            "POST",
            path,
            json=body,
            effect=False,  # a search reads: retried on a lost answer like a GET
            timeout=SEARCH_TIMEOUT_SECONDS,
            operation="search",
            cost=credits,  # the hub's credit budget (descriptor) counts what Serper will charge
            billing=Billing(credits, "credit"),  # unless the answer states its "credits"
        )
        payload = self.json_object(response)
        raw = _items(payload.get(RESULT_KEYS[engine]))
        first = (body["page"] - 1) * num  # the offset of this page (start rounded down to a page)
        results = SearchResults(provider=self.provider, engine=engine, start=first)
        if engine == "google":
            results.web = _web_results(raw, first, num)
        elif engine == "google_maps":
            results.places = _place_results(raw, first, num)
        else:
            results.news = _news_results(raw, first, num)
        # Serper does not say whether a next page exists: a full page suggests one.
        if len(raw) >= num:
            results.next_start = first + num
        return results

    # GET /account: the credit balance, free (not a search). Not in Serper's public reference,
    # but what its dashboard and clients read (README.md).
    def credits_left(self) -> int | None:
        """The account's credit balance (``balance``); None when Serper does not say."""
        body = self.json_object(
            self.request("GET", "/account", timeout=get_settings().health_check_timeout, operation="account")
        )
        return count(body.get("balance"))

    def health_check(self) -> None:
        """GET /account: the key works and credits are left."""
        left = self.credits_left()
        if left is not None and left <= 0:
            raise RateLimitedError(
                "serper: the account has no credits left",
                provider=self.provider,
                retry_after=EXHAUSTED_RETRY_AFTER_SECONDS,
                code="credits_exhausted",
            )


def _items(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _web_results(items: list[dict[str, Any]], first: int, num: int) -> list[WebResult]:
    found: list[WebResult] = []
    for index, item in enumerate(items, start=1):
        title, link = clip(item.get("title"), MAX_TITLE), clip(item.get("link"), MAX_LINK)
        if title and link:
            found.append(
                WebResult(
                    position=first + index,  # the rank in the whole list, whatever Serper numbers
                    title=title,
                    link=link,
                    snippet=clip(item.get("snippet"), MAX_SNIPPET),
                    source_engine=PROVIDER,
                )
            )
    return found[:num]


def _place_results(items: list[dict[str, Any]], first: int, num: int) -> list[PlaceResult]:
    found: list[PlaceResult] = []
    for index, item in enumerate(items, start=1):
        name = clip(item.get("title"), MAX_TITLE)
        if not name:
            continue
        found.append(
            PlaceResult(
                position=first + index,  # the rank in the whole list, whatever Serper numbers
                name=name,
                address=clip(item.get("address"), MAX_SNIPPET),
                phone=clip(item.get("phoneNumber"), MAX_SHORT),
                website=clip(item.get("website"), MAX_LINK),
                rating=number(item.get("rating")),
                reviews=count(item.get("ratingCount")),
                gps=GpsCoordinates.of(item.get("latitude"), item.get("longitude")),
                source_engine=PROVIDER,
            )
        )
    return found[:num]


def _news_results(items: list[dict[str, Any]], first: int, num: int) -> list[NewsResult]:
    found: list[NewsResult] = []
    for index, item in enumerate(items, start=1):
        title, link = clip(item.get("title"), MAX_TITLE), clip(item.get("link"), MAX_LINK)
        if not (title and link):
            continue
        found.append(
            NewsResult(
                position=first + index,  # the rank in the whole list, whatever Serper numbers
                title=title,
                link=link,
                source=clip(item.get("source"), MAX_SHORT),
                date=clip(item.get("date"), MAX_SHORT),
                snippet=clip(item.get("snippet"), MAX_SNIPPET),
                source_engine=PROVIDER,
            )
        )
    return found[:num]
