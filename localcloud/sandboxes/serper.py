"""Serper.dev sandbox, mounted at ``/serper`` (the secret's base_url).

Keeps Serper's contract as its clients rely on it (https://serper.dev/, playground; README.md
of hub.providers.serper), not the hub adapter's habits:

* ``POST /search``, ``/news``, ``/places``, ``/maps``: ``X-API-KEY`` header required (missing or
  wrong -> 403 ``{"message": "Unauthorized.", "statusCode": 403}``); a JSON object body with a
  non-blank ``q`` (else 400); ``num`` 1-100 and ``page`` >= 1 integers, ``gl``/``hl``/``location``
  strings; ``/maps`` needs ``ll`` (``@lat,lng,zoom``). Answers ``searchParameters`` (what was
  asked, ``type``, ``engine: google``), ``organic`` / ``news`` / ``places`` (deterministic per
  query and page, Brazilian results, 50 per query in all) and ``credits`` (what it cost).
* Credits: ``CREDITS`` to start; a query costs 1 (2 above 10 results); a query that costs more
  than the balance is 400 ``Not enough credits``. ``GET /account``: ``{"balance", "rateLimit"}``
  (free). Serper sends no rate-limit headers.

Faults (``/__sandbox/faults/serper``) answer in Serper's error body.
Not emulated: images, videos, shopping, scholar, autocomplete, ``tbs`` filters.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import DemoSecret, Sandbox, json_response, reason

DEMO_API_KEY = "demo-serper-key-5f0c2a9e7d4b1c36"
CREDITS = 2_500
RATE_LIMIT = 50
TOTAL_RESULTS = 50  # per query, then pages come back empty
KINDS = {"search": "organic", "news": "news", "places": "places", "maps": "places"}
LL = re.compile(r"^@-?\d{1,2}(\.\d+)?,-?\d{1,3}(\.\d+)?,\d+(\.\d+)?[zm]$")
CITIES = ("São Paulo - SP", "Rio de Janeiro - RJ", "Belo Horizonte - MG", "Curitiba - PR", "Recife - PE")


def _digest(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


class SerperSandbox(Sandbox):
    provider = "serper"

    def __init__(self, api_key: str = DEMO_API_KEY, credits: int = CREDITS) -> None:
        super().__init__()
        self.api_key = api_key
        self.initial_credits = credits
        self.balance = credits
        for kind in KINDS:
            self.route(f"/{kind}", ["POST"], lambda request, kind=kind: self.search(request, kind))
        self.route("/account", ["GET"], self.account)

    def reset(self) -> None:
        with self.lock:
            self.balance = self.initial_credits

    def error_response(self, status: int, message: str | None = None) -> Response:
        text = message or {403: "Unauthorized.", 429: "Too many requests."}.get(status, reason(status))
        return json_response({"message": text, "statusCode": status}, status)

    def not_found(self, request: Request, subpath: str) -> Response:
        return self.error_response(404, "Not found.")

    def _authorised(self, request: Request) -> bool:
        return request.headers.get("X-API-KEY") == self.api_key

    def account(self, request: Request) -> Response:
        if not self._authorised(request):
            return self.error_response(403)
        return json_response({"balance": self.balance, "rateLimit": RATE_LIMIT})

    def search(self, request: Request, kind: str) -> Response:
        if not self._authorised(request):
            return self.error_response(403)
        try:
            body = json.loads(request.get_data(as_text=True) or "null")
        except ValueError:
            return self.error_response(400, "Invalid JSON body.")
        if not isinstance(body, dict):
            return self.error_response(400, "The body must be a JSON object.")
        problem = self._validate(kind, body)
        if problem is not None:
            return self.error_response(400, problem)
        num, page = int(body.get("num", 10)), int(body.get("page", 1))
        cost = 2 if num > 10 else 1
        with self.lock:
            if self.balance < cost:
                return self.error_response(400, "Not enough credits")
            self.balance -= cost
        return json_response(self._results(kind, body, num, page, cost))

    @staticmethod
    def _validate(kind: str, body: dict[str, Any]) -> str | None:
        q = body.get("q")
        if not isinstance(q, str) or not q.strip():
            return "Missing query parameter `q`."
        for name, low in (("num", 1), ("page", 1)):
            value = body.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < low):
                return f"Invalid `{name}`: must be an integer of at least {low}."
        if isinstance(body.get("num"), int) and body["num"] > 100:
            return "Invalid `num`: at most 100."
        for name in ("gl", "hl", "location"):
            if name in body and not isinstance(body[name], str):
                return f"Invalid `{name}`: must be a string."
        if kind == "maps" and not (isinstance(body.get("ll"), str) and LL.match(body["ll"])):
            return "Invalid `ll`: expected @latitude,longitude,zoom (e.g. @-23.56,-46.65,14z)."
        return None

    def _results(self, kind: str, body: dict[str, Any], num: int, page: int, cost: int) -> dict[str, Any]:
        topic = body["q"].strip()
        slug = "-".join(topic.lower().split())[:60] or "busca"
        first = (page - 1) * num
        positions = range(first + 1, min(first + num, TOTAL_RESULTS) + 1)
        seed = _digest(topic)
        answer: dict[str, Any] = {
            "searchParameters": {**body, "type": kind, "engine": "google"},
        }
        if kind == "search":
            answer["organic"] = [
                {
                    "title": f"{topic} — resultado {n}",
                    "link": f"https://www.exemplo{n}.com.br/{slug}",
                    "snippet": f"Tudo sobre {topic}: o resultado {n} da busca.",
                    "position": n - first,
                }
                for n in positions
            ]
        elif kind == "news":
            answer["news"] = [
                {
                    "title": f"{topic}: notícia {n}",
                    "link": f"https://noticias.exemplo.com.br/{slug}-{n}",
                    "snippet": f"O que se sabe sobre {topic} (notícia {n}).",
                    "date": f"{n} horas atrás",
                    "source": f"Jornal {n}",
                    "position": n - first,
                }
                for n in positions
            ]
        else:
            answer["places"] = [
                {
                    "position": n - first,
                    "title": f"{topic.title()} {n}",
                    "address": f"Rua Augusta, {100 + n} - {CITIES[(seed + n) % len(CITIES)]}",
                    "latitude": round(-23.5613 + n / 1000, 6),
                    "longitude": round(-46.6565 - n / 1000, 6),
                    "rating": round(3.5 + ((seed + n) % 15) / 10, 1),
                    "ratingCount": 7 * n + seed % 50,
                    "category": "Empresa",
                    "phoneNumber": f"(11) 3{(seed + n) % 1000:03d}-{1000 + n:04d}",
                    "website": f"https://{slug}{n}.com.br/",
                    "cid": str(9217580661049740855 + seed + n),
                }
                for n in positions
            ]
        answer["credits"] = cost
        return answer


# Self-registration: the local cloud serves SANDBOX at /serper and seeds DEMO_SECRETS.
SANDBOX = SerperSandbox
DEMO_SECRETS = (DemoSecret("serper", lambda base_url: {"base_url": base_url, "api_key": DEMO_API_KEY}),)
