"""Brave Search API: web and news results from Brave's own index behind the WebSearch port.

The provider's API facts this module relies on, with their doc links: README.md. The key
travels in the ``X-Subscription-Token`` header (scrubbed from errors as a credential).
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
from pydantic import SecretStr

from hub.errors import AuthenticationError, HubError, InvalidRequestError
from hub.providers.base.client import ProviderClient, ProviderCredentials
from hub.search.models import (
    MAX_LINK,
    MAX_RESULTS,
    MAX_SHORT,
    MAX_SNIPPET,
    MAX_TITLE,
    Engine,
    NewsResult,
    SearchResults,
    WebResult,
    clip,
    parse_instant,
)
from hub.usage.meter import Billing

PROVIDER = "brave"
SEARCH_TIMEOUT_SECONDS = 15.0
TOKEN_HEADER = "X-Subscription-Token"  # noqa: S105 - a header name, not a secret
# https://api-dashboard.search.brave.com/app/documentation/web-search/query: count ≤ 20 (web),
# ≤ 50 (news); offset counts pages of ``count`` results, at most 9.
MAX_COUNT: dict[str, int] = {"google": 20, "google_news": 50}
MAX_OFFSET = 9
PATHS: dict[str, str] = {"google": "/res/v1/web/search", "google_news": "/res/v1/news/search"}
# Brazil, Brazilian Portuguese results and interface unless the caller asks otherwise
# (https://api-dashboard.search.brave.com/app/documentation/web-search/codes).
DEFAULT_COUNTRY, DEFAULT_SEARCH_LANG, DEFAULT_UI_LANG = "BR", "pt-br", "pt-BR"
# Brave's error codes for a key it refuses (a 422, not a 401).
TOKEN_CODES = frozenset({"SUBSCRIPTION_TOKEN_INVALID", "SUBSCRIPTION_TOKEN_MISSING"})
# A monthly window spent: wait for its reset, reported as credits exhausted (not a blip).
LONG_WAIT_SECONDS = 3600.0


class BraveCredentials(ProviderCredentials):
    api_key: SecretStr


def _numbers(value: str | None) -> list[float]:
    """``"1, 15000"`` -> [1.0, 15000.0] (one per policy window); unparsable parts dropped."""
    found: list[float] = []
    for part in (value or "").split(","):
        try:
            found.append(float(part.strip()))
        except ValueError:
            continue
    return found


def rate_limit_wait(headers: httpx.Headers) -> float | None:
    """Seconds until Brave takes requests again, from its X-RateLimit-* headers
    (https://api-dashboard.search.brave.com/app/documentation/web-search/response-headers):
    the latest reset among the windows with nothing remaining, else the soonest reset."""
    resets = _numbers(headers.get("x-ratelimit-reset"))
    if not resets:
        return None
    remaining = _numbers(headers.get("x-ratelimit-remaining"))
    spent = [reset for reset, left in zip(resets, remaining, strict=False) if left <= 0]
    return max(0.0, max(spent) if spent else min(resets))


class BraveClient(ProviderClient):
    provider: ClassVar[str] = PROVIDER
    credentials_model: ClassVar[type[ProviderCredentials]] = BraveCredentials
    writes_have_effects: ClassVar[bool] = False
    # Web and news. Places need the Local Search API (Pro plans, POIs looked up by ids that a web
    # search answered: https://api-dashboard.search.brave.com/app/documentation/web-search/responses),
    # not a search by text: google_maps is refused as engine_unsupported.
    kinds: ClassVar[frozenset[Engine]] = frozenset({"google", "google_news"})

    credentials: BraveCredentials

    def auth_headers(self) -> dict[str, str]:
        return {TOKEN_HEADER: self.credentials.api_key.get_secret_value()}

    def secret_values(self, request: httpx.Request | None = None) -> list[str]:
        # The token header is not one of the base's usual credential headers: scrub it too.
        return sorted({*super().secret_values(request), self.credentials.api_key.get_secret_value()}, key=len)[::-1]

    def error_details(self, response: httpx.Response) -> tuple[str, str | None]:
        # {"type": "ErrorResponse", "error": {"id", "status", "code", "detail", "meta"}, "time"}
        try:
            body = response.json()
        except ValueError:
            return super().error_details(response)
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            code = error.get("code")
            text = error.get("detail") or error.get("message") or code
            if isinstance(text, str) and text:
                return (text[:300], str(code) if code else None)
        return super().error_details(response)

    def retry_after_of(self, response: httpx.Response, default: float = 60.0) -> float:
        wait = rate_limit_wait(response.headers)
        return super().retry_after_of(response, default) if wait is None else wait

    def classify(self, response: httpx.Response) -> HubError | None:
        error = super().classify(response)
        if error is None:
            return None
        if error.code in TOKEN_CODES:  # Brave refuses a key with 422, not 401
            return error.recast(AuthenticationError)
        if response.status_code == 429 and getattr(error, "retry_after", 0) >= LONG_WAIT_SECONDS:
            error.code = "credits_exhausted"  # the monthly window is spent, not the per-second one
        return error

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
        """GET /res/v1/web/search or /res/v1/news/search: one page of results for ``q``.

        ``start`` (an offset) becomes Brave's ``offset`` in pages of ``count`` results (at most
        page 9: deeper is ``engine_unsupported``). Brave takes no place name (``location``) nor map
        point (``ll``): ignored. ``no_cache`` sends ``Cache-Control: no-cache`` (best effort)."""
        if engine not in self.kinds:
            raise InvalidRequestError(
                f"engine: brave has no {engine!r} engine (no search by text for places)", code="engine_unsupported"
            )
        size = max(1, min(num, MAX_COUNT[engine], MAX_RESULTS))
        offset = start // size
        if offset > MAX_OFFSET:
            raise InvalidRequestError(
                f"start: brave pages at most {MAX_OFFSET + 1} pages of {size} results", code="engine_unsupported"
            )
        params: dict[str, Any] = {
            "q": q,
            "country": (gl or DEFAULT_COUNTRY).upper(),
            "search_lang": (hl or DEFAULT_SEARCH_LANG).lower(),
            "ui_lang": _ui_lang(hl),
            "count": size,
            "offset": offset,
        }
        if engine == "google":
            params["text_decorations"] = "false"  # plain snippets, no highlighting markers
        response = self.request(
            "GET",
            PATHS[engine],
            params=params,
            headers={"Cache-Control": "no-cache"} if no_cache else None,
            timeout=SEARCH_TIMEOUT_SECONDS,
            operation="search",
            billing=Billing(1, "search"),  # one billed request (hub.usage.prices)
        )
        payload = self.json_object(response)
        results = SearchResults(provider=self.provider, engine=engine, start=offset * size)
        query = payload.get("query")
        more = isinstance(query, dict) and query.get("more_results_available") is True
        if engine == "google":
            section = payload.get("web")
            raw = _items(section.get("results") if isinstance(section, dict) else None)
            results.web = _web_results(raw, offset * size, size)
        else:
            raw = _items(payload.get("results"))
            results.news = _news_results(raw, offset * size, size)
            more = more or len(raw) >= size  # news answers carry no more_results_available
        if more and offset < MAX_OFFSET:
            results.next_start = (offset + 1) * size
        return results

    def health_check(self) -> None:
        """One web search of one result (Brave has no free endpoint: this is a billed request)."""
        self.request(
            "GET",
            PATHS["google"],
            params={"q": "brave", "count": 1, "country": DEFAULT_COUNTRY},
            timeout=SEARCH_TIMEOUT_SECONDS,
            operation="health",
            billing=Billing(1, "search"),
        )


def _ui_lang(hl: str | None) -> str:
    if not hl:
        return DEFAULT_UI_LANG
    language, _, region = hl.partition("-")
    return f"{language.lower()}-{region.upper()}" if region else language.lower()


def _items(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _source(item: dict[str, Any]) -> str | None:
    profile, meta = item.get("profile"), item.get("meta_url")
    name = profile.get("name") if isinstance(profile, dict) else None
    return clip(name or (meta.get("hostname") if isinstance(meta, dict) else None), MAX_SHORT)


def _web_results(items: list[dict[str, Any]], first: int, size: int) -> list[WebResult]:
    found: list[WebResult] = []
    for index, item in enumerate(items, start=1):
        title, link = clip(item.get("title"), MAX_TITLE), clip(item.get("url"), MAX_LINK)
        if title and link:
            found.append(
                WebResult(
                    position=first + index,  # Brave gives no position: its order is the rank
                    title=title,
                    link=link,
                    snippet=clip(item.get("description"), MAX_SNIPPET),
                    source_engine=PROVIDER,
                )
            )
    return found[:size]


def _news_results(items: list[dict[str, Any]], first: int, size: int) -> list[NewsResult]:
    found: list[NewsResult] = []
    for index, item in enumerate(items, start=1):
        title, link = clip(item.get("title"), MAX_TITLE), clip(item.get("url"), MAX_LINK)
        if not (title and link):
            continue
        found.append(
            NewsResult(
                position=first + index,
                title=title,
                link=link,
                source=_source(item),
                date=clip(item.get("age"), MAX_SHORT),
                published_at=parse_instant(item.get("page_age")),
                snippet=clip(item.get("description"), MAX_SNIPPET),
                source_engine=PROVIDER,
            )
        )
    return found[:size]
