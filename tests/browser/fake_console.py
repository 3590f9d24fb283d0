"""An in-memory server of the console's JSON API (docs/console.md; the console contract, section 2)
and its static files, so the page can be driven in a browser before (and apart from) the real
ConsoleApi function. It answers exactly the contract's routes and shapes, keeps the contract's
rules that the page must cope with (bearer sessions, a one-time login token, 401
``invalid_token``, errors as ``{"error", "message"}``, the static files' security headers), and
exposes the few things a test does to the hub from outside: a provider's sandbox fault, a health
check run, a webhook delivery, a dead-lettered message.

The browser tests use it through :class:`FakeHub`; nothing here is imported by the hub.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

STATIC = Path(__file__).resolve().parents[2] / "functions" / "console_api" / "static"
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
# Body members that carry credentials in the providers' webhooks (hub.webhooks.specs archive_redact).
REDACT_KEYS = ("apikey", "api_key", "token", "secret", "password")
REDACT_HEADERS = {"authorization", "apikey", "x-api-key", "x-hub-signature-256", "stripe-signature"}
PROVIDERS = ("evolution", "stripe", "openai", "resend")
MAX_REPLAY = 10_000


def iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat()


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class FakeHub:
    """The state behind the fake API: one demo org, its providers' health, events, replay jobs,
    DLQs, integrations, spend, the audit trail and issues. ``now`` is fixed by the caller (tests
    never depend on today's date)."""

    def __init__(self, now: datetime, *, auth: str = "local") -> None:
        self.now = now
        self.auth = auth  # "cognito": the API Gateway authorizer takes Cognito ID tokens
        self.cognito = {"domain": "console-auth.example.com", "client_id": "console-client", "redirect_uri": ""}
        self.id_tokens: dict[str, str] = {}  # ID token -> its email claim
        self.lock = threading.Lock()
        self.login_token = secrets.token_urlsafe(24)
        self._login_hash: str | None = hashlib.sha256(self.login_token.encode()).hexdigest()
        self.sessions: dict[str, str] = {}  # sha256(bearer) -> operator
        self.faults: set[str] = set()
        self.spent_quotas: set[str] = set()  # providers whose quota is used up: healthy but degraded
        self.health: dict[str, dict[str, Any]] = {}
        self.history: dict[str, list[dict[str, Any]]] = {p: [] for p in PROVIDERS}
        self.events: list[dict[str, Any]] = []
        self.jobs: dict[str, dict[str, Any]] = {}
        self.dlqs: dict[str, list[dict[str, Any]]] = {"InboundEventsDLQ": [], "OutboundOperationsDLQ": []}
        self.redriven: list[dict[str, Any]] = []
        self.audit: list[dict[str, Any]] = []
        self.issues: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.integrations = {
            p: {
                "org_id": "demo",
                "provider": p,
                "status": "connected",
                "reason": None,
                "auth": "api_key",
                "connected_at": iso(now - timedelta(days=40)),
                "connected_by": "seed",
                "managed": True,
                "last_tested_at": None,
                "test_result": None,
                "last_error": None,
                "scopes": [],
                "webhook": {"state": "registered", "url": f"https://hub.example/webhooks/{p}/demo"},
                "token_expires_at": None,
                "token_refreshed_at": None,
            }
            for p in PROVIDERS
        }
        for day in range(30, 0, -1):  # the health schedule's 30-day history
            self.run_health_check(at=now - timedelta(days=day), latency_seed=day)
        self.run_health_check(at=now - timedelta(minutes=5), latency_seed=0)

    # ---- what happens to the hub from outside ---------------------------------------------------
    def run_health_check(self, *, at: datetime | None = None, latency_seed: int = 3) -> None:
        """HealthCheckScheduled: every provider checked live; a faulted one answers 503."""
        at = at or self.now
        with self.lock:
            for index, provider in enumerate(PROVIDERS):
                down = provider in self.faults
                latency = 80 + (latency_seed * 37 + index * 53) % 240
                row = {
                    "org_id": "demo",
                    "provider": provider,
                    "status": "unhealthy" if down else "healthy",
                    "degraded": not down and provider in self.spent_quotas,
                    "latency_ms": latency,
                    "breaker": "open" if down else "closed",
                    "error": "ProviderUnavailableError: HTTP 503 from the provider" if down else None,
                    "checked_at": iso(at),
                    "quotas": [
                        {
                            "rule": "requests per minute",
                            "limit": 600,
                            "remaining": 0 if provider in self.spent_quotas else 600 - index * 17,
                            "resets_at": iso(at + timedelta(seconds=60)),
                        }
                    ],
                    "token": None,
                }
                self.health[provider] = row
                self.history[provider].append({"at": iso(at), "latency_ms": latency, "status": row["status"]})

    def receive_webhook(self, provider: str, org_id: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        """A provider's delivery: archived (headers minus secrets, credential members redacted),
        normalised and delivered on the bus."""
        received = self.now + timedelta(seconds=len(self.events) + 1)
        text = body.decode()
        found = []
        for key in REDACT_KEYS:
            pattern = re.compile(r'([{,]\s*"' + re.escape(key) + r'"\s*:\s*)"(?:[^"\\]|\\.)*"')
            text, count = pattern.subn(lambda m: m.group(1) + '"[redacted]"', text)
            if count:
                found.append(key)
        raw: dict[str, Any] = {
            "provider": provider,
            "org_id": org_id,
            "received_at": iso(received),
            "method": "POST",
            "path": f"/webhooks/{provider}/{org_id}",
            "query": {},
            "headers": {k.lower(): v for k, v in headers.items() if k.lower() not in REDACT_HEADERS},
            "body_encoding": "utf-8",
            "body": text,
        }
        if found:
            raw["redacted"] = found
        payload = json.loads(body)
        kind = str(payload.get("event", "message.received")).replace("messages.upsert", "message.received")
        record = self._add_event(provider, org_id, kind, "delivered", received, direction="inbound")
        record.update(raw=raw, raw_ref=f"raw/{provider}/{org_id}/{received:%Y/%m/%d/%H%M%S%f}.json")
        record["event"] = {
            "id": record["record_id"],
            "source": provider,
            "org_id": org_id,
            "type": kind,
            "occurred_at": iso(received),
            "data": {"from": payload.get("data", {}).get("from")},
        }
        return record

    def seed_failed(self, provider: str, count: int) -> list[dict[str, Any]]:
        """Inbound events the consumer failed on (their issue opens)."""
        made = []
        for _ in range(count):
            at = self.now - timedelta(hours=len(self.events) + 1)
            record = self._add_event(provider, "demo", "payment.updated", "failed", at, direction="inbound")
            record["error_class"], record["error_message"] = (
                "ProviderTimeoutError",
                "the provider took longer than 10 s",
            )
            record["attempts"] = [
                {
                    "at": iso(at),
                    "outcome": "failed",
                    "error_class": "ProviderTimeoutError",
                    "message": "the provider took longer than 10 s",
                }
            ]
            self._issue("demo", provider, "ProviderTimeoutError", at, record["record_id"])
            made.append(record)
        return made

    def dead_letter(self, queue: str, body: dict[str, Any]) -> str:
        message_id = str(uuid.uuid4())
        self.dlqs[queue].append(
            {
                "message_id": message_id,
                "sent_at": iso(self.now - timedelta(minutes=42)),
                "receive_count": 3,
                "attributes": {},
                "body": json.dumps(body),
            }
        )
        return message_id

    # ---- helpers ---------------------------------------------------------------------------------
    def _add_event(
        self, provider: str, org_id: str, kind: str, status: str, at: datetime, *, direction: str
    ) -> dict[str, Any]:
        record = {
            "record_id": uuid.uuid4().hex,
            "direction": direction,
            "org_id": org_id,
            "provider": provider,
            "type": kind,
            "status": status,
            "at": iso(at),
            "error_class": None,
            "raw_ref": None,
            "event": None,
            "attempts": [{"at": iso(at), "outcome": status}],
            "error_message": None,
            "request": None,
            "response": None,
            "calls": [],
            "raw": None,
        }
        self.events.append(record)
        return record

    def _issue(self, org_id: str, provider: str, error_class: str, at: datetime, record_id: str) -> None:
        issue = self.issues.setdefault(
            (org_id, provider, error_class),
            {
                "org_id": org_id,
                "provider": provider,
                "error_class": error_class,
                "first_seen": iso(at),
                "last_seen": iso(at),
                "count": 0,
                "status": "open",
                "last_message": None,
                "last_record_id": None,
            },
        )
        issue["count"] += 1
        issue["last_seen"], issue["last_record_id"] = max(issue["last_seen"], iso(at)), record_id
        issue["last_message"] = "the provider took longer than 10 s"
        issue["first_seen"] = min(issue["first_seen"], iso(at))
        if issue["status"] == "resolved":
            issue["status"] = "open"

    def _audit(self, org_id: str, action: str, actor: str, integration: str | None = None, **details: Any) -> None:
        sensitive = action in {"credentials_rotated", "integration_disabled", "webhook_modified", "permissions_changed"}
        self.audit.append(
            {
                "at": iso(self.now + timedelta(seconds=len(self.audit))),
                "action": action,
                "actor": actor,
                "integration": integration,
                "details": details,
                "source_ip": "127.0.0.1",
                "user_agent": None,
                "sensitive": sensitive,
                "org_id": org_id,
            }
        )

    def _matching(self, f: dict[str, Any]) -> list[dict[str, Any]]:
        def keep(e: dict[str, Any]) -> bool:
            if e["org_id"] != f.get("org_id"):
                return False
            for key in ("provider", "type", "status", "direction"):
                if f.get(key) and e[key] != f[key]:
                    return False
            at = datetime.fromisoformat(e["at"])
            early = bool(f.get("from")) and at < datetime.fromisoformat(f["from"])
            late = bool(f.get("to")) and at > datetime.fromisoformat(f["to"])
            return not (early or late)

        return sorted((e for e in self.events if keep(e)), key=lambda e: e["at"], reverse=True)

    # ---- the API -----------------------------------------------------------------------------
    def handle(self, request: Request) -> tuple[int, Any]:
        path, method = request.path[len("/console/api") :], request.method
        body: dict[str, Any] = request.get_json(silent=True) or {} if method in {"POST", "PUT"} else {}
        args = {k: v for k, v in request.args.items() if v}
        if path == "/config" and method == "GET":
            return 200, {"auth": self.auth, "cognito": self.cognito if self.auth == "cognito" else None}
        if path == "/session" and method == "POST" and self.auth == "local":
            return self._login(body)
        operator = self._operator(request)
        with self.lock:
            for pattern, verb, handler in self._routes():
                match = re.fullmatch(pattern, path)
                if match and verb == method:
                    return handler(operator, args, body, *match.groups())
        raise ApiError(404, "not_found", f"no route {method} {path}")

    def _login(self, body: dict[str, Any]) -> tuple[int, Any]:
        token, operator = body.get("token"), body.get("operator") or "local-operator"
        if not isinstance(operator, str) or not 1 <= len(operator) <= 120 or any(ord(c) < 32 for c in operator):
            raise ApiError(400, "invalid_request", "operator: 1 to 120 characters, no control characters")
        digest = hashlib.sha256(str(token).encode()).hexdigest()
        if self._login_hash is None or not secrets.compare_digest(digest, self._login_hash):
            raise ApiError(401, "invalid_token", "the login token is wrong or was already used")
        self._login_hash = None
        bearer = secrets.token_urlsafe(32)
        self.sessions[hashlib.sha256(bearer.encode()).hexdigest()] = operator
        return 200, {"session": bearer, "operator": operator, "expires_at": iso(self.now + timedelta(hours=12))}

    def _operator(self, request: Request) -> str:
        header = request.headers.get("Authorization", "")
        bearer = header.removeprefix("Bearer ")
        if self.auth == "cognito":
            operator = self.id_tokens.get(bearer)
        else:
            operator = self.sessions.get(hashlib.sha256(bearer.encode()).hexdigest())
        if not header.startswith("Bearer ") or operator is None:
            raise ApiError(401, "unauthorized", "Authorization: Bearer <session> is required")
        return operator

    def _routes(self) -> list[tuple[str, str, Callable[..., tuple[int, Any]]]]:
        return [
            ("/session", "DELETE", lambda op, a, b: (200, {"ended": True})),
            ("/me", "GET", lambda op, a, b: (200, {"operator": op})),
            ("/orgs", "GET", lambda op, a, b: (200, {"orgs": [{"org_id": "demo", "name": "Demo agency"}]})),
            ("/health", "GET", self._health),
            ("/health/history", "GET", self._history),
            ("/events", "GET", self._events),
            ("/events/([^/]+)", "GET", self._event),
            ("/events/([^/]+)/retry", "POST", self._retry),
            ("/replays", "POST", self._replay),
            (
                "/replays",
                "GET",
                lambda op, a, b: (200, {"jobs": [self._advance(j) for j in reversed(self.jobs.values())][:50]}),
            ),
            ("/replays/([^/]+)", "GET", lambda op, a, b, job: (200, self._advance(self._job(job)))),
            ("/dlqs", "GET", self._dlqs),
            (
                "/dlqs/([^/]+)/messages",
                "GET",
                lambda op, a, b, name: (200, {"messages": list(self._queue(name))[: int(a.get("limit", 10))]}),
            ),
            ("/dlqs/([^/]+)/redrive", "POST", self._redrive),
            (
                "/integrations",
                "GET",
                lambda op, a, b: (
                    200,
                    {"integrations": [dict(i) for i in self.integrations.values() if i["org_id"] == a.get("org_id")]},
                ),
            ),
            ("/integrations/([^/]+)/([^/]+)/(test|disable|enable|reconnect|rotate)", "POST", self._integration),
            ("/spend", "GET", self._spend),
            ("/audit", "GET", self._audit_page),
            ("/issues", "GET", self._issues),
            ("/issues/([^/]+)/([^/]+)/([^/]+)", "POST", self._set_issue),
        ]

    def _health(self, op: str, a: dict[str, str], b: dict[str, Any]) -> tuple[int, Any]:
        rank = {"unhealthy": 0, "unknown": 2, "healthy": 3}
        rows = sorted(self.health.values(), key=lambda r: rank[r["status"]] - (2 if r.get("degraded") else 0))
        return 200, {"rows": rows}

    def _history(self, op: str, a: dict[str, str], b: dict[str, Any]) -> tuple[int, Any]:
        if a.get("provider") not in self.history:
            raise ApiError(400, "invalid_request", "provider: not a provider with health history")
        return 200, {"points": self.history[a["provider"]]}

    def _events(self, op: str, a: dict[str, str], b: dict[str, Any]) -> tuple[int, Any]:
        if not a.get("org_id"):
            raise ApiError(400, "invalid_request", "org_id: required")
        if a.get("q"):
            found = [e for e in self.events if e["record_id"] == a["q"] and e["org_id"] == a["org_id"]]
            return 200, {"items": [self._summary(e) for e in found], "cursor": None}
        matches, limit = self._matching(a), int(a.get("limit", 50))
        start = int(a.get("cursor", "0"))
        page = matches[start : start + limit]
        more = start + limit < len(matches)
        return 200, {"items": [self._summary(e) for e in page], "cursor": str(start + limit) if more else None}

    @staticmethod
    def _summary(e: dict[str, Any]) -> dict[str, Any]:
        keys = ("record_id", "direction", "org_id", "provider", "type", "status", "at", "error_class")
        return {k: e[k] for k in keys}

    def _find(self, record_id: str) -> dict[str, Any]:
        for e in self.events:
            if e["record_id"] == record_id:
                return e
        raise ApiError(404, "not_found", f"record_id: no event {record_id}")

    def _event(self, op: str, a: dict[str, str], b: dict[str, Any], record_id: str) -> tuple[int, Any]:
        return 200, dict(self._find(record_id))

    def _retry(self, op: str, a: dict[str, str], b: dict[str, Any], record_id: str) -> tuple[int, Any]:
        e = self._find(record_id)
        self._audit(e["org_id"], "event_retried", op, e["provider"], record_id=record_id)
        if e["status"] == "delivered":
            return 200, {"record_id": record_id, "result": "skipped", "message": "already delivered"}
        e["status"] = "delivered"
        e["attempts"].append({"at": iso(self.now), "outcome": "delivered"})
        return 200, {"record_id": record_id, "result": "replayed", "message": "enqueued again"}

    def _replay(self, op: str, a: dict[str, str], b: dict[str, Any]) -> tuple[int, Any]:
        f = b.get("filter") or b.get("archive")
        if not isinstance(f, dict) or not f.get("org_id"):
            raise ApiError(400, "invalid_request", "filter.org_id: required")
        matches = self._matching(f)
        if len(matches) > MAX_REPLAY:
            raise ApiError(400, "invalid_request", f"filter: {len(matches)} events match, at most {MAX_REPLAY}")
        job_id = uuid.uuid4().hex[:12]
        job = {
            "job_id": job_id,
            "state": "queued",
            "operator": op,
            "matched": 0,
            "replayed": 0,
            "skipped": 0,
            "failed": 0,
            "errors": [],
            "created_at": iso(self.now),
            "finished_at": None,
            "_todo": matches,
            "_polls": 0,
        }
        job["filter" if "filter" in b else "archive"] = f
        self.jobs[job_id] = job
        self._audit(f["org_id"], "replay_started", op, f.get("provider"), job_id=job_id)
        return 202, {"job_id": job_id, "state": "queued"}

    def _job(self, job_id: str) -> dict[str, Any]:
        if job_id not in self.jobs:
            raise ApiError(404, "not_found", f"job_id: no replay job {job_id}")
        return self.jobs[job_id]

    def _advance(self, job: dict[str, Any]) -> dict[str, Any]:
        """The background job moves one page per look (queued -> running -> done)."""
        job["_polls"] += 1
        if job["state"] == "queued":
            job["state"] = "running"
        elif job["state"] == "running":
            for e in job.pop("_todo"):
                job["matched"] += 1
                if e["status"] in {"delivered", "duplicate"}:
                    job["skipped"] += 1
                elif e["status"] == "rejected":
                    job["failed"] += 1
                    job["errors"].append(
                        {"record_id": e["record_id"], "message": "the archived request is unparseable"}
                    )
                else:
                    job["replayed"] += 1
                    e["status"] = "delivered"
            job["state"], job["finished_at"] = "done", iso(self.now)
        return {k: v for k, v in job.items() if not k.startswith("_")}

    def _queue(self, name: str) -> list[dict[str, Any]]:
        if name not in self.dlqs:
            raise ApiError(404, "not_found", f"name: no DLQ {name}")
        return self.dlqs[name]

    def _dlqs(self, op: str, a: dict[str, str], b: dict[str, Any]) -> tuple[int, Any]:
        queues = [
            {
                "name": n,
                "depth": len(m),
                "in_flight": 0,
                "oldest_age_seconds": 42 * 60 if m else None,
                "source": n.removesuffix("DLQ"),
            }
            for n, m in self.dlqs.items()
        ]
        return 200, {"queues": queues}

    def _redrive(self, op: str, a: dict[str, str], b: dict[str, Any], name: str) -> tuple[int, Any]:
        queue = self._queue(name)
        moving = [m for m in queue if not b.get("message_id") or m["message_id"] == b["message_id"]]
        for m in moving:
            queue.remove(m)
        self.redriven.extend(moving)
        self._audit("demo", "dlq_redriven", op, None, queue=name, moved=len(moving))
        return 200, {"moved": len(moving)}

    def _integration(
        self, op: str, a: dict[str, str], b: dict[str, Any], org: str, provider: str, action: str
    ) -> tuple[int, Any]:
        i = self.integrations.get(provider)
        if i is None or i["org_id"] != org:
            raise ApiError(404, "not_found", f"provider: {org} has no {provider} integration")
        if action == "disable":
            if not b.get("reason"):
                raise ApiError(400, "invalid_request", "reason: required to disable")
            i.update(status="disabled", reason=b["reason"])
            self._audit(org, "integration_disabled", op, provider, reason=b["reason"])
        elif action == "enable":
            i.update(status="connected", reason=None)
            self._audit(org, "integration_enabled", op, provider)
        elif action == "test":
            ok = provider not in self.faults
            i.update(
                last_tested_at=iso(self.now),
                test_result={"ok": ok, "latency_ms": 120, "error": None if ok else "HTTP 503"},
            )
            self._audit(org, "integration_tested", op, provider, ok=ok)
        elif action == "reconnect":
            return 200, {"authorize_url": f"https://auth.{provider}.example/authorize?state={uuid.uuid4().hex}"}
        else:
            self._audit(org, "credentials_rotated", op, provider)
            return 200, {
                **i,
                "rotated": "provider_api",
                "webhook_rotated": True,
                "previous_valid_until": iso(self.now + timedelta(hours=24)),
            }
        return 200, dict(i)

    def _spend(self, op: str, a: dict[str, str], b: dict[str, Any]) -> tuple[int, Any]:
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", a.get("month", "")):
            raise ApiError(400, "invalid_request", "month: YYYY-MM")
        # Decimal text as the API writes it: nine places, and Decimal's own "0E-9" for nothing spent.
        rate, nano = Decimal("5.4321"), Decimal("1E-9")
        lines = [
            ("anthropic", "claude-sonnet", 412, Decimal("18.40").quantize(nano)),
            ("openai", "gpt-4o-mini", 1290, Decimal("6.75").quantize(nano)),
            ("openai", "text-embedding-3-small", 5200, Decimal("0.52").quantize(nano)),
            ("gemini", "gemini-flash", 300, Decimal("1.10").quantize(nano)),
            ("gemini", "gemini-embedding", 0, Decimal("0E-9")),
        ]
        out = [
            {"provider": p, "model": m, "calls": c, "cost_usd": str(u), "cost_brl": str((u * rate).quantize(nano))}
            for p, m, c, u in lines
        ]
        total = sum((u for *_, u in lines), Decimal("0E-9"))
        providers: dict[str, Decimal] = {}
        for p, _, _, u in lines:
            providers[p] = providers.get(p, Decimal("0")) + u
        return 200, {
            "org_id": a.get("org_id"),
            "month": a["month"],
            "usd_brl_rate": str(rate),
            "budget_usd": str(Decimal("40").quantize(nano)),
            "total_usd": str(total),
            "total_brl": str((total * rate).quantize(nano)),
            "lines": out,
            "providers": [
                {"provider": p, "cost_usd": str(u), "cost_brl": str((u * rate).quantize(nano))}
                for p, u in providers.items()
            ],
            "days": [{"day": f"{a['month']}-{d:02d}", "cost_usd": str(total / 4)} for d in range(1, 5)],
        }

    def _audit_page(self, op: str, a: dict[str, str], b: dict[str, Any]) -> tuple[int, Any]:
        rows = [
            r
            for r in reversed(self.audit)
            if r["org_id"] == a.get("org_id") and (not a.get("action") or r["action"] == a["action"])
        ]
        start = int(a.get("cursor", "0"))
        page = [{k: v for k, v in r.items() if k != "org_id"} for r in rows[start : start + 50]]
        return 200, {"records": page, "next_cursor": str(start + 50) if start + 50 < len(rows) else None}

    def _issues(self, op: str, a: dict[str, str], b: dict[str, Any]) -> tuple[int, Any]:
        found = [
            dict(i)
            for i in self.issues.values()
            if a.get("status") in {None, i["status"]} and a.get("org_id") in {None, i["org_id"]}
        ]
        return 200, {"issues": sorted(found, key=lambda i: i["last_seen"], reverse=True)}

    def _set_issue(
        self, op: str, a: dict[str, str], b: dict[str, Any], org: str, provider: str, error_class: str
    ) -> tuple[int, Any]:
        issue = self.issues.get((org, provider, error_class))
        if issue is None:
            raise ApiError(404, "not_found", "issue: unknown")
        if b.get("status") not in {"open", "acknowledged", "resolved"}:
            raise ApiError(400, "invalid_request", "status: open, acknowledged or resolved")
        issue["status"] = b["status"]
        self._audit(org, f"issue.{b['status']}", op, provider, error_class=error_class)
        return 200, dict(issue)


def application(hub: FakeHub) -> Callable[..., Any]:
    headers = dict(SECURITY_HEADERS)
    if hub.auth == "cognito":
        # The page exchanges the sign-in code at the hosted UI's token endpoint itself.
        headers["Content-Security-Policy"] += f"; connect-src 'self' https://{hub.cognito['domain']}"

    @Request.application  # type: ignore[arg-type]
    def app(request: Request) -> Response:
        path = request.path
        if path == "/console":
            return Response(
                (STATIC / "index.html").read_bytes(), headers=headers, content_type="text/html; charset=utf-8"
            )
        if path.startswith("/console/static/"):
            name = path.rsplit("/", 1)[1]
            file = STATIC / name
            if name not in {"console.js", "console.css"} or not file.is_file():
                return Response("not found", status=404)
            return Response(file.read_bytes(), headers=headers, content_type=CONTENT_TYPES[file.suffix])
        if path.startswith("/webhooks/") and request.method == "POST":
            _, _, provider, org = path.split("/", 3)
            record = hub.receive_webhook(provider, org, dict(request.headers), request.get_data())
            return Response(
                json.dumps({"received": True, "record_id": record["record_id"]}), content_type="application/json"
            )
        if path.startswith("/console/api/"):
            try:
                status, payload = hub.handle(request)
            except ApiError as exc:
                status, payload = exc.status, {"error": exc.code, "message": exc.message}
            return Response(json.dumps(payload), status=status, headers=headers, content_type="application/json")
        return Response("not found", status=404)

    return app


@contextmanager
def serving(hub: FakeHub) -> Iterator[str]:
    """The fake on a free local port; its base URL."""
    server = make_server("127.0.0.1", 0, application(hub), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
