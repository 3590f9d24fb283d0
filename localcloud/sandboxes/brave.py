"""Brave Search API sandbox, mounted at ``/brave`` (the secret's base_url).

Keeps Brave's published contract
(https://api-dashboard.search.brave.com/app/documentation/web-search/query, /news-search/query,
/web-search/response-headers), not the hub adapter's habits:

* ``GET /res/v1/web/search`` and ``/res/v1/news/search``: ``X-Subscription-Token`` required:
  missing -> 422 ``VALIDATION`` naming the header, wrong -> 422 ``SUBSCRIPTION_TOKEN_INVALID``
  (Brave answers a bad key with 422, not 401); ``q`` 1-400 characters and at most 50 words;
  ``country`` a 2-letter code (or ``ALL`` for news); ``search_lang`` / ``ui_lang`` from Brave's
  code lists (a subset here); ``count`` 1-20 (web) or 1-50 (news); ``offset`` 0-9 (pages of
  ``count``). Errors: ``{"type": "ErrorResponse", "error": {id, status, code, detail, meta},
  "time"}``.
* Answers: web ``{"type": "search", "query": {original, more_results_available}, "web":
  {"type": "search", "results": [...]}}``, news ``{"type": "news", "query", "results"}``,
  deterministic per query and page, Brazilian results, 60 per query in all.
* Limits: ``PER_SECOND`` requests a second and ``PER_MONTH`` a month (only successful requests
  count); every answer carries ``X-RateLimit-Limit/Policy/Remaining/Reset`` for both windows;
  over either -> 429 ``RATE_LIMITED`` with those headers (remaining 0 in the spent window).

Faults (``/__sandbox/faults/brave``) answer in Brave's error body. Not emulated: Goggles,
summarizer, local POIs (Pro plans), images/videos, spellcheck, ``result_filter``.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import DemoSecret, Sandbox, json_response, reason

DEMO_API_KEY = "BSAdemo-brave-token-3c9f1e07a2d4"
PER_SECOND = 50
PER_MONTH = 1_000
MONTH_SECONDS = 2_592_000
TOTAL_RESULTS = 60
COUNTRIES = frozenset({"BR", "PT", "US", "AR", "ES", "GB", "DE", "FR", "MX"})
SEARCH_LANGS = frozenset({"pt-br", "pt-pt", "en", "en-gb", "es", "fr", "de", "it"})
UI_LANGS = frozenset({"pt-BR", "pt-PT", "en-US", "en-GB", "es-ES", "es-AR", "es-MX", "fr-FR", "de-DE"})
MAX_COUNT = {"web": 20, "news": 50}
CODES = {401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 429: "RATE_LIMITED", 422: "VALIDATION"}


def _digest(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def error_body(status: int, code: str, detail: str, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"id": str(uuid.uuid4()), "status": status, "code": code, "detail": detail}
    if meta:
        error["meta"] = meta
    return {"type": "ErrorResponse", "error": error, "time": int(time.time())}


class BraveSandbox(Sandbox):
    provider = "brave"

    def __init__(self, api_key: str = DEMO_API_KEY, per_second: int = PER_SECOND, per_month: int = PER_MONTH) -> None:
        super().__init__()
        self.api_key = api_key
        self.per_second = per_second
        self.per_month = per_month
        self.used_month = 0
        self._second: tuple[int, int] = (0, 0)  # (epoch second, requests in it)
        self.clock = time.time
        self.route("/res/v1/web/search", ["GET", "POST"], lambda request: self.search(request, "web"))
        self.route("/res/v1/news/search", ["GET", "POST"], lambda request: self.search(request, "news"))

    def reset(self) -> None:
        with self.lock:
            self.used_month = 0
            self._second = (0, 0)

    def error_response(self, status: int, message: str | None = None) -> Response:
        body = error_body(status, CODES.get(status, "INTERNAL"), message or reason(status))
        return json_response(body, status)

    def not_found(self, request: Request, subpath: str) -> Response:
        return self.error_response(404, f"Unknown endpoint {subpath}")

    # -- limits ------------------------------------------------------------ #

    def _headers(self, second_left: int, month_left: int, now: float) -> dict[str, str]:
        # https://api-dashboard.search.brave.com/app/documentation/web-search/response-headers
        month_reset = MONTH_SECONDS - int(now) % MONTH_SECONDS
        return {
            "X-RateLimit-Limit": f"{self.per_second}, {self.per_month}",
            "X-RateLimit-Policy": f"{self.per_second};w=1, {self.per_month};w={MONTH_SECONDS}",
            "X-RateLimit-Remaining": f"{max(0, second_left)}, {max(0, month_left)}",
            "X-RateLimit-Reset": f"1, {month_reset}",
        }

    def _take(self) -> tuple[bool, dict[str, str]]:
        now = self.clock()
        with self.lock:
            second, used = self._second
            if second != int(now):
                second, used = int(now), 0
            allowed = used < self.per_second and self.used_month < self.per_month
            if allowed:  # only successful requests count; the caller answers 200 from here
                used += 1
                self.used_month += 1
            self._second = (second, used)
            return allowed, self._headers(self.per_second - used, self.per_month - self.used_month, now)

    # -- endpoints --------------------------------------------------------- #

    def search(self, request: Request, kind: str) -> Response:
        token = request.headers.get("X-Subscription-Token")
        if not token:
            body = error_body(
                422,
                "VALIDATION",
                "Unable to validate request parameter(s)",
                {"errors": [{"type": "missing", "loc": ["header", "x-subscription-token"], "msg": "Field required"}]},
            )
            return json_response(body, 422)
        if token != self.api_key:
            body = error_body(
                422,
                "SUBSCRIPTION_TOKEN_INVALID",
                "The provided subscription token is invalid.",
                {"component": "authentication"},
            )
            return json_response(body, 422)
        params = request.args.to_dict(flat=True)
        problem = self._validate(kind, params)
        if problem is not None:
            field, message = problem
            meta = {"errors": [{"type": "value_error", "loc": ["query", field], "msg": message}]}
            return json_response(error_body(422, "VALIDATION", "Unable to validate request parameter(s)", meta), 422)
        allowed, headers = self._take()
        if not allowed:
            body = error_body(429, "RATE_LIMITED", "Request rate limit exceeded for plan.", {"plan": "Search"})
            return json_response(body, 429, headers)
        return json_response(self._results(kind, params), 200, headers)

    @staticmethod
    def _validate(kind: str, params: dict[str, str]) -> tuple[str, str] | None:
        q = params.get("q", "")
        if not q.strip():
            return "q", "Query can not be empty"
        if len(q) > 400 or len(q.split()) > 50:
            return "q", "At most 400 characters and 50 words"
        country = params.get("country", "US")
        if country not in COUNTRIES and not (kind == "news" and country == "ALL"):
            return "country", f"Unsupported country {country!r}"
        if params.get("search_lang", "en") not in SEARCH_LANGS:
            return "search_lang", "Unsupported search language"
        if params.get("ui_lang", "en-US") not in UI_LANGS:
            return "ui_lang", "Unsupported UI language"
        for name, low, high in (("count", 1, MAX_COUNT[kind]), ("offset", 0, 9)):
            if name in params:
                try:
                    value = int(params[name])
                except ValueError:
                    return name, "Input should be a valid integer"
                if not low <= value <= high:
                    return name, f"Input should be between {low} and {high}"
        return None

    def _results(self, kind: str, params: dict[str, str]) -> dict[str, Any]:
        topic = params["q"].strip()
        slug = "-".join(topic.lower().split())[:60] or "busca"
        count = int(params.get("count", 20))
        first = int(params.get("offset", 0)) * count
        numbers = range(first + 1, min(first + count, TOTAL_RESULTS) + 1)
        more = first + count < TOTAL_RESULTS
        seed = _digest(topic)
        query = {"original": topic, "country": params.get("country", "US").lower(), "more_results_available": more}
        if kind == "web":
            results = [
                {
                    "type": "search_result",
                    "title": f"{topic} — página {n}",
                    "url": f"https://www.site{n}.com.br/{slug}",
                    "description": f"Conteúdo independente sobre {topic} (resultado {n}).",
                    "age": f"{1 + (seed + n) % 28} de novembro de 2026",
                    "language": "pt",
                    "meta_url": {"scheme": "https", "netloc": f"www.site{n}.com.br", "hostname": f"www.site{n}.com.br"},
                }
                for n in numbers
            ]
            return {"type": "search", "query": query, "web": {"type": "search", "results": results}}
        news = [
            {
                "type": "news_result",
                "title": f"{topic}: reportagem {n}",
                "url": f"https://portal{n % 7}.com.br/{slug}-{n}",
                "description": f"A reportagem {n} sobre {topic}.",
                "age": f"{n} horas atrás",
                "page_age": f"2026-12-0{1 + n % 3}T{n % 24:02d}:00:00",
                "breaking": n == 1,
                "meta_url": {"scheme": "https", "netloc": f"portal{n % 7}.com.br", "hostname": f"portal{n % 7}.com.br"},
            }
            for n in numbers
        ]
        return {"type": "news", "query": query, "results": news}


# Self-registration: the local cloud serves SANDBOX at /brave and seeds DEMO_SECRETS.
SANDBOX = BraveSandbox
DEMO_SECRETS = (DemoSecret("brave", lambda base_url: {"base_url": base_url, "api_key": DEMO_API_KEY}),)
