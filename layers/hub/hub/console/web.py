"""The console's HTTP plumbing, in one place: errors as ``{"error": <code>, "message"}`` with the
status hub.api gives every REST resolver (404 for what does not exist), the security headers on
every answer, the operator check, and the static page's files."""

from __future__ import annotations

import json
import re
from pathlib import Path

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from hub import errors, errortracking
from hub.api import status_for
from hub.console.auth import ConsoleNotFoundError, cognito_domain, operator_of
from hub.errors import HubError, RateLimitedError, RequestInProgressError

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def security_headers() -> dict[str, str]:
    """SECURITY_HEADERS; in Cognito mode the page also fetches the hosted UI's token endpoint
    (the code exchange, https://docs.aws.amazon.com/cognito/latest/developerguide/token-endpoint.html),
    so its origin is allowed for connect-src — and only then."""
    headers = dict(SECURITY_HEADERS)
    domain = cognito_domain()
    if domain:
        headers["Content-Security-Policy"] = f"default-src 'self'; connect-src 'self' https://{domain}"
    return headers


# Routes anyone may call: the page, its files, how to sign in, and the local login itself.
PUBLIC = {("GET", "/console"), ("GET", "/console/api/config"), ("POST", "/console/api/session")}
STATIC_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}
# hub.eventlog's NotFoundError (contract section 1), once the event log defines it.
_NOT_FOUND: tuple[type[HubError], ...] = tuple(
    c for c in (ConsoleNotFoundError, getattr(errors, "NotFoundError", None)) if isinstance(c, type)
)


def _code(exc: HubError) -> str:
    if exc.code:
        return exc.code
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__.removesuffix("Error")).lower()


def register(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(HubError)
    def _handle(exc: HubError) -> Response[str]:
        errortracking.report_handled(exc)
        status = 404 if isinstance(exc, _NOT_FOUND) else status_for(exc)
        headers = security_headers()
        if isinstance(exc, RateLimitedError | RequestInProgressError):
            headers["Retry-After"] = str(int(exc.retry_after))
        return Response(
            status_code=status,
            content_type=content_types.APPLICATION_JSON,
            body=json.dumps({"error": _code(exc), "message": exc.message}),
            headers=headers,
        )

    @app.not_found
    def _no_route(_: Exception) -> Response[str]:
        return Response(
            status_code=404,
            content_type=content_types.APPLICATION_JSON,
            body=json.dumps({"error": "not_found", "message": "path: no console route answers this method and path"}),
            headers=security_headers(),
        )

    def _guard(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[str]:
        event = app.current_event
        public = (event.http_method, event.path) in PUBLIC or event.path.startswith("/console/static/")
        app.append_context(operator=None if public else operator_of(event.raw_event))
        response: Response[str] = next_middleware(app)
        for key, value in security_headers().items():
            response.headers.setdefault(key, value)
        return response

    app.use(middlewares=[_guard])


def operator(app: APIGatewayRestResolver) -> str:
    return str(app.context["operator"])


def static_file(directory: Path, name: str) -> Response[str]:
    """One of the page's files (only those: no path is ever built from the request)."""
    content_type = STATIC_TYPES.get(name)
    if content_type is None:
        raise ConsoleNotFoundError(f"file: no console file {name[:80]!r}", code="not_found")
    return Response(
        status_code=200,
        content_type=content_type,
        body=(directory / name).read_text(encoding="utf-8"),
        headers=security_headers(),
    )
