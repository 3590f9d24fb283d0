"""SerpAPI sandbox, mounted at ``/serpapi`` (the secret's base_url).

Enforces SerpAPI's published contract (https://serpapi.com/search-api,
https://serpapi.com/api-status-and-error-codes), not the hub adapter's habits:

* ``GET /search`` (and ``/search.json``): ``api_key`` query parameter required (missing or
  wrong -> 401 ``{"error": "Invalid API key. ..."}``); ``engine`` defaults to ``google``, others
  than ``google``/``google_maps``/``google_news`` -> 400; ``q`` required (400 ``Missing query `q`
  parameter.``); ``google_maps`` needs ``type=search`` and paginates (``start``) only with
  ``ll``; ``num`` 1-100 and ``start`` >= 0 integers. Answers ``search_metadata {id, status:
  Success, ...}``, ``search_parameters`` (never the key), ``search_information`` and
  ``organic_results`` / ``local_results`` / ``news_results``, deterministic per query.
  A query containing ``[[empty]]`` answers 200 with ``error`` "Google hasn't returned any
  results for this query." and ``*_results_state: "Fully empty"`` (https://serpapi.com/search-errors).
* The plan: ``SEARCHES_PER_MONTH`` searches; then 429 ``Your account has run out of searches.``
  Identical searches (same parameters but the key) within an hour come from the cache: free,
  not counted, the same ``search_metadata.id``; ``no_cache=true`` skips the cache.
* ``GET /account`` (and ``/account.json``): the account, as https://serpapi.com/account-api
  shows it (it echoes ``api_key``, as the real one does); free, not counted.

Faults (``/__sandbox/faults/serpapi``) answer in SerpAPI's error body; ``error`` with status 503
also carries ``search_metadata.status: Error`` as SerpAPI's failed searches do.
Not emulated: async searches, the Search Archive and Locations APIs, other engines.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import DemoSecret, Sandbox, json_response

DEMO_API_KEY = "demo-serpapi-key-0123456789abcdef"
SEARCHES_PER_MONTH = 250
CACHE_SECONDS = 3600
ENGINES = ("google", "google_maps", "google_news")
INVALID_KEY = "Invalid API key. Your API key should be here: https://serpapi.com/manage-api-key"
EMPTY_MARKER = "[[empty]]"
MAPS_PAGE = 20
GOOGLE_PAGE = 10
NEWS_PAGE = 30

DEFAULT_MESSAGES = {
    400: "We were unable to process the request.",
    401: INVALID_KEY,
    403: "The account associated with this API key doesn't have permission to perform the request.",
    404: "The requested resource doesn't exist.",
    429: "The number of requests sent using this API key exceeds the hourly throughput limit.",
    500: "Something went wrong on SerpApi's end.",
    503: "We couldn't get valid results for this search. Please try again later.",
}


def _search_id(params: dict[str, str]) -> str:
    digest = hashlib.sha256(repr(sorted(params.items())).encode()).hexdigest()
    return digest[:24]


class SerpApiSandbox(Sandbox):
    provider = "serpapi"

    def __init__(self, api_key: str = DEMO_API_KEY, searches_per_month: int = SEARCHES_PER_MONTH) -> None:
        super().__init__()
        self.api_key = api_key
        self.searches_per_month = searches_per_month
        self.used = 0
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        for path in ("/search", "/search.json"):
            self.route(path, ["GET"], self.search)
        for path in ("/account", "/account.json"):
            self.route(path, ["GET"], self.account)

    def reset(self) -> None:
        with self.lock:
            self.used = 0
            self._cache.clear()

    # -- error shape ------------------------------------------------------- #

    def error_response(self, status: int, message: str | None = None) -> Response:
        body: dict[str, Any] = {"error": message or DEFAULT_MESSAGES.get(status, "Error")}
        if status >= 500:
            body["search_metadata"] = {"id": _search_id({"t": str(time.time())}), "status": "Error"}
        return json_response(body, status)

    def not_found(self, request: Request, subpath: str) -> Response:
        return self.error_response(404)

    # -- endpoints --------------------------------------------------------- #

    def account(self, request: Request) -> Response:
        if request.args.get("api_key") != self.api_key:
            return self.error_response(401)
        left = max(0, self.searches_per_month - self.used)
        return json_response(
            {
                "account_id": "5ac54d6adefb2f1dba1663f5",
                "api_key": self.api_key,
                "account_email": "dev@somosprodutora.com.br",
                "plan_id": "sandbox",
                "plan_name": "Sandbox Plan",
                "searches_per_month": self.searches_per_month,
                "plan_searches_left": left,
                "extra_credits": 0,
                "total_searches_left": left,
                "this_month_usage": self.used,
                "last_hour_searches": self.used,
                "account_rate_limit_per_hour": 1000,
            }
        )

    def search(self, request: Request) -> Response:
        params = {k: v for k, v in request.args.items() if k != "api_key"}
        if request.args.get("api_key") != self.api_key:
            return self.error_response(401)
        engine = params.setdefault("engine", "google")
        if engine not in ENGINES:
            return self.error_response(400, f"Unsupported `{engine}` search engine.")
        q = params.get("q", "")
        if not q.strip():
            return self.error_response(400, "Missing query `q` parameter.")
        problem = self._validate(engine, params)
        if problem is not None:
            return self.error_response(400, problem)
        no_cache = params.pop("no_cache", "false") == "true"
        key = _search_id(params)
        now = time.time()
        with self.lock:
            cached = self._cache.get(key)
            if cached is not None and not no_cache and now - cached[0] < CACHE_SECONDS:
                return json_response(cached[1])  # cached searches are free and not counted
            if self.used >= self.searches_per_month:
                return self.error_response(429, "Your account has run out of searches.")
            self.used += 1
        body = self._results(engine, q, params, key)
        with self.lock:
            self._cache[key] = (now, body)
        return json_response(body)

    # -- helpers ------------------------------------------------------------ #

    @staticmethod
    def _validate(engine: str, params: dict[str, str]) -> str | None:
        for name in ("num", "start"):
            if name in params:
                try:
                    value = int(params[name])
                except ValueError:
                    return f"Invalid `{name}` parameter: must be an integer."
                if value < 0 or (name == "num" and not 1 <= value <= 100):
                    return f"Invalid `{name}` parameter value."
        if engine == "google_maps":
            if params.get("type") != "search":
                return "Missing `type` parameter: it must be `search` when `q` is used."
            if int(params.get("start", 0)) and not params.get("ll"):
                return "`ll` parameter is required when using pagination (`start`)."
        return None

    def _results(self, engine: str, q: str, params: dict[str, str], search_id: str) -> dict[str, Any]:
        now = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        body: dict[str, Any] = {
            "search_metadata": {
                "id": search_id,
                "status": "Success",
                "json_endpoint": f"https://serpapi.com/searches/{search_id[:16]}/{search_id}.json",
                "created_at": now,
                "processed_at": now,
                "total_time_taken": 1.42,
            },
            "search_parameters": params,
        }
        state_key = {"google": "organic", "google_maps": "local", "google_news": "news"}[engine]
        if EMPTY_MARKER in q:
            body["search_information"] = {f"{state_key}_results_state": "Fully empty"}
            body["error"] = "Google hasn't returned any results for this query."
            return body
        start = int(params.get("start", 0))
        topic = q.strip()
        slug = "-".join(topic.lower().split())[:60] or "busca"
        if engine == "google":
            count = min(int(params.get("num", GOOGLE_PAGE)), GOOGLE_PAGE)
            body["search_information"] = {"total_results": 1_230_000, "time_taken_displayed": 0.41}
            body["organic_results"] = [
                {
                    "position": start + i,
                    "title": f"{topic} — resultado {start + i}",
                    "link": f"https://www.exemplo{start + i}.com.br/{slug}",
                    "displayed_link": f"https://www.exemplo{start + i}.com.br > {slug}",
                    "snippet": f"Tudo sobre {topic}: o resultado {start + i} da busca.",
                }
                for i in range(1, count + 1)
            ]
        elif engine == "google_maps":
            body["local_results"] = [
                {
                    "position": start + i,
                    "title": f"{topic.title()} {start + i}",
                    "place_id": f"{9217580661049740855 + start + i}",
                    "rating": round(3.5 + ((start + i) % 15) / 10, 1),
                    "reviews": 10 * (start + i),
                    "type": "Empresa",
                    "address": f"Av. Paulista, {1000 + start + i} - Bela Vista, São Paulo - SP",
                    "gps_coordinates": {"latitude": -23.5613 + i / 1000, "longitude": -46.6565 - i / 1000},
                }
                for i in range(1, MAPS_PAGE + 1)
            ]
        else:
            body["news_results"] = [
                {
                    "position": i,
                    "title": f"{topic}: notícia {i}",
                    "source": {"name": f"Jornal {i}", "icon": f"https://news.example/icon{i}.png", "authors": []},
                    "link": f"https://noticias.exemplo.com.br/{slug}-{i}",
                    "date": "12/03/2026, 08:00 AM, +0000 UTC",
                    "iso_date": "2026-12-03T08:00:00Z",
                }
                for i in range(1, NEWS_PAGE + 1)
            ]
        return body


# Self-registration: the local cloud serves SANDBOX at /serpapi and seeds DEMO_SECRETS.
SANDBOX = SerpApiSandbox
DEMO_SECRETS = (DemoSecret("serpapi", lambda base_url: {"base_url": base_url, "api_key": DEMO_API_KEY}),)
