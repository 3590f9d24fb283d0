"""Provider sandbox framework: one WSGI app, many providers, shared request log and faults.

Control endpoints (on the same server):

* ``GET /__sandbox/requests[?provider=x]`` -> received requests; ``DELETE`` clears.
* ``PUT /__sandbox/faults/{provider}`` with ``{"mode": "down"|"slow"|"rate_limited"|"error",
  "delay_seconds": 5, "retry_after": 3, "status": 503, "times": N}``; ``DELETE`` clears;
  ``GET /__sandbox/faults`` lists active faults.

Fault semantics:

* ``down``: the TCP connection is reset (SO_LINGER 0) without any HTTP response, so
  clients get a transport error (httpx: ``RemoteProtocolError``/``ReadError``, both
  ``httpx.TransportError``).
* ``slow``: sleep ``delay_seconds`` then answer normally (use a client timeout below it to
  provoke a timeout). Nothing is sent meanwhile: a streamed answer hangs before its first byte.
* ``stall``: send the status line and headers at once, then nothing for ``delay_seconds``, then
  the answer: a stream that started (the first byte came) and then stalls.
* ``rate_limited``: 429 with ``Retry-After: retry_after`` and the provider's error body.
* ``error``: ``status`` (default 503) with the provider's error body.

``times`` limits the fault to the next N provider requests; then it clears itself.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http import HTTPStatus
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

Handler = Callable[..., Response]

FAULT_MODES = ("down", "slow", "rate_limited", "error", "stall")
MAX_LOG = 2000


DEFAULT_SECRETS_PREFIX = "hub"
DEMO_ORG_ID = "demo"


@dataclass(frozen=True)
class DemoSecret:
    """One Secrets Manager secret seeded for a demo org by ``make dev``.

    ``provider`` is both the secret id suffix (``<prefix>/<org>/<provider>``) and the sandbox
    path prefix (``http://127.0.0.1:4010/<provider>``); ``build`` receives that sandbox base URL
    and returns the SecretString JSON. Each sandbox module declares its own in ``DEMO_SECRETS``.
    """

    provider: str
    build: Callable[[str], dict[str, Any]]
    org_id: str = DEMO_ORG_ID

    def secret_id(self, prefix: str = DEFAULT_SECRETS_PREFIX, org_id: str | None = None) -> str:
        return f"{prefix}/{org_id or self.org_id}/{self.provider}"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    resp = Response(json.dumps(body), status=status, content_type="application/json; charset=utf-8")
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class Sandbox:
    """Base class for a provider fake. Subclasses set ``provider`` and register routes."""

    provider: str = ""

    def __init__(self) -> None:
        self.url_map = Map(strict_slashes=False, merge_slashes=False)
        self._handlers: dict[str, Handler] = {}
        self.lock = threading.Lock()

    def route(self, path: str, methods: list[str], handler: Handler) -> None:
        endpoint = f"{len(self._handlers)}:{path}"
        self._handlers[endpoint] = handler
        self.url_map.add(Rule(path, endpoint=endpoint, methods=methods))

    def dispatch(self, request: Request, subpath: str) -> Response:
        adapter = self.url_map.bind("sandbox", path_info=subpath)
        try:
            endpoint, values = adapter.match(subpath, method=request.method)
        except (NotFound, MethodNotAllowed):
            return self.not_found(request, subpath)
        except HTTPException as exc:  # pragma: no cover - redirects are disabled
            return self.error_response(exc.code or 500, str(exc))
        return self._handlers[str(endpoint)](request, **values)

    def not_found(self, request: Request, subpath: str) -> Response:
        return self.error_response(404, f"Cannot {request.method} {subpath}")

    def error_response(self, status: int, message: str | None = None) -> Response:
        """The provider's error body shape (override per provider)."""
        return json_response({"status": status, "error": reason(status), "message": message or reason(status)}, status)

    def reset(self) -> None:
        """Forget state (called on DELETE /__sandbox/requests)."""


@dataclass
class Fault:
    mode: str
    delay_seconds: float = 5.0
    retry_after: int = 3
    status: int = 503
    times: int | None = None


class SandboxServer:
    """WSGI app hosting every sandbox under ``/<provider>/...``."""

    def __init__(self, sandboxes: list[Sandbox]) -> None:
        self.sandboxes = {s.provider: s for s in sandboxes}
        self.requests: list[dict[str, Any]] = []
        self.faults: dict[str, Fault] = {}
        self._lock = threading.Lock()

    # -- WSGI -------------------------------------------------------------- #

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        path = request.path
        if path.startswith("/__sandbox/"):
            response = self.control(request)
        else:
            provider, _, rest = path.lstrip("/").partition("/")
            sandbox = self.sandboxes.get(provider)
            if sandbox is None:
                response = json_response({"message": f"no sandbox for provider {provider!r}"}, 404)
            else:
                response = self.handle_provider(sandbox, request, "/" + rest)
        return response(environ, start_response)

    def handle_provider(self, sandbox: Sandbox, request: Request, subpath: str) -> Response:
        entry = self._log(sandbox.provider, request, subpath)
        fault = self._take_fault(sandbox.provider)
        entry["fault"] = fault.mode if fault else None
        if fault is None:
            response = sandbox.dispatch(request, subpath)
        elif fault.mode == "down":
            _drop_connection(request.environ)
            # Never delivered: writing to the reset socket fails and werkzeug drops it quietly.
            response = Response(status=503)
        elif fault.mode == "slow":
            time.sleep(fault.delay_seconds)
            response = sandbox.dispatch(request, subpath)
        elif fault.mode == "stall":
            response = sandbox.dispatch(request, subpath)
            response.response = _stalled(response.iter_encoded(), fault.delay_seconds)
        elif fault.mode == "rate_limited":
            response = sandbox.error_response(429)
            response.headers["Retry-After"] = str(fault.retry_after)
        else:
            response = sandbox.error_response(fault.status)
        entry["status"] = None if fault and fault.mode == "down" else response.status_code
        return response

    # -- request log / faults ---------------------------------------------- #

    def _log(self, provider: str, request: Request, subpath: str) -> dict[str, Any]:
        raw = request.get_data(cache=True)
        text = raw.decode("utf-8", errors="replace")
        try:
            parsed: Any = json.loads(text) if text.strip() else None
        except ValueError:
            parsed = None
        entry: dict[str, Any] = {
            "provider": provider,
            "method": request.method,
            "path": subpath,
            "query": request.args.to_dict(flat=True),
            "headers": dict(request.headers.items()),
            "json": parsed,
            "body": text,
            "time": time.time(),
            "status": None,
            "fault": None,
        }
        with self._lock:
            self.requests.append(entry)
            del self.requests[:-MAX_LOG]
        return entry

    def _take_fault(self, provider: str) -> Fault | None:
        with self._lock:
            fault = self.faults.get(provider)
            if fault is None:
                return None
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self.faults[provider]
            return fault

    def requests_for(self, provider: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self.requests if provider is None or r["provider"] == provider]

    def set_fault(self, provider: str, fault: Fault) -> None:
        with self._lock:
            self.faults[provider] = fault

    def clear_faults(self, provider: str | None = None) -> None:
        with self._lock:
            if provider is None:
                self.faults.clear()
            else:
                self.faults.pop(provider, None)

    def control(self, request: Request) -> Response:
        parts = [p for p in request.path.split("/") if p][1:]
        if parts == ["requests"]:
            if request.method == "GET":
                return json_response(self.requests_for(request.args.get("provider")))
            if request.method == "DELETE":
                with self._lock:
                    self.requests.clear()
                for sandbox in self.sandboxes.values():
                    sandbox.reset()
                return Response(status=204)
        if parts == ["faults"] and request.method == "GET":
            with self._lock:
                return json_response({p: asdict(f) for p, f in self.faults.items()})
        if len(parts) == 2 and parts[0] == "faults":
            provider = parts[1]
            if provider not in self.sandboxes:
                return json_response({"message": f"unknown provider {provider!r}"}, 404)
            if request.method == "DELETE":
                self.clear_faults(provider)
                return Response(status=204)
            if request.method == "PUT":
                try:
                    fault = parse_fault(request.get_json(force=True, silent=False))
                except (ValueError, TypeError, HTTPException) as exc:
                    return json_response({"message": f"invalid fault: {exc}"}, 400)
                self.set_fault(provider, fault)
                return json_response(asdict(fault))
        return json_response({"message": "unknown sandbox control endpoint"}, 404)


def parse_fault(data: Any) -> Fault:
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    mode = data.get("mode")
    if mode not in FAULT_MODES:
        raise ValueError(f"mode must be one of {FAULT_MODES}")
    times = data.get("times")
    status = int(data.get("status", 503))
    if mode == "error" and not 400 <= status <= 599:
        raise ValueError("status must be an HTTP error status")
    return Fault(
        mode=str(mode),
        delay_seconds=float(data.get("delay_seconds", 5)),
        retry_after=int(data.get("retry_after", 3)),
        status=status,
        times=int(times) if times is not None else None,
    )


def _stalled(chunks: Any, seconds: float) -> Any:
    """``chunks`` after a pause of ``seconds``; the empty chunk yielded first makes the server
    send the status line and headers at once."""
    yield b""
    time.sleep(seconds)
    yield from chunks


def _drop_connection(environ: dict[str, Any]) -> None:
    """Reset the client's TCP connection without sending an HTTP response."""
    sock = environ.get("werkzeug.socket")
    if sock is None:  # pragma: no cover - only under non-werkzeug servers
        raise ConnectionAbortedError("sandbox fault: down")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.shutdown(socket.SHUT_RDWR)
