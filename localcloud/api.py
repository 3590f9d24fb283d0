"""API Gateway (REST, v1 proxy integration) emulation for every ``Type: Api`` event."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from localcloud.runtime import FunctionRuntime, describe_failure
from localcloud.template import ACCOUNT_ID, FunctionSpec

log = logging.getLogger("localcloud.api")

STAGE = "Prod"
API_ID = "localapi01"
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@dataclass(frozen=True)
class ApiRoute:
    function: FunctionSpec
    event_name: str
    path: str
    method: str  # upper-case, or "ANY"


def collect_routes(functions: Iterable[FunctionSpec]) -> list[ApiRoute]:
    routes = []
    for fn in functions:
        for ev in fn.events:
            if ev.type != "Api":
                continue
            path = str(ev.properties.get("Path", "/"))
            method = str(ev.properties.get("Method", "ANY")).upper()
            routes.append(ApiRoute(fn, ev.name, path, method))
    return routes


_PARAM_RE = re.compile(r"\{([^}/]+)\}")


def to_werkzeug_rule(path: str) -> tuple[str, dict[str, str]]:
    """``/a/{id}/{proxy+}`` -> ``/a/<p0>/<path:p1>`` plus {p0: id, p1: proxy}."""
    names: dict[str, str] = {}

    def repl(match: re.Match[str]) -> str:
        original = match.group(1)
        var = f"p{len(names)}"
        greedy = original.endswith("+")
        names[var] = original[:-1] if greedy else original
        return f"<path:{var}>" if greedy else f"<{var}>"

    return _PARAM_RE.sub(repl, path), names


def _json_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    resp = Response(json.dumps(body), status=status, content_type="application/json")
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


class ApiGateway:
    """A WSGI app routing requests to functions as API Gateway's Lambda proxy would."""

    def __init__(self, runtime: FunctionRuntime, routes: list[ApiRoute]) -> None:
        self.runtime = runtime
        self.routes = routes
        rules = []
        self._param_names: dict[int, dict[str, str]] = {}
        for idx, route in enumerate(routes):
            rule_path, names = to_werkzeug_rule(route.path)
            self._param_names[idx] = names
            methods = None if route.method == "ANY" else [route.method]
            rules.append(Rule(rule_path, endpoint=idx, methods=methods, strict_slashes=False, merge_slashes=False))
        self.url_map = Map(rules)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, values = adapter.match()
        except HTTPException:
            return _json_response(
                403,
                {"message": "Missing Authentication Token"},
                {"x-amzn-ErrorType": "MissingAuthenticationTokenException"},
            )
        route = self.routes[int(endpoint)]
        names = self._param_names[int(endpoint)]
        path_params = {names[k]: v for k, v in values.items()}
        event = build_event(request, route, path_params)
        try:
            result = self.runtime.invoke(route.function.logical_id, event)
        except Exception as exc:  # noqa: BLE001 - the function's error or the runtime's: a 502
            fn = route.function.logical_id
            log.error("%s failed handling %s %s: %s", fn, request.method, request.path, describe_failure(exc))
            return _json_response(
                502, {"message": "Internal server error"}, {"x-amzn-ErrorType": "InternalServerErrorException"}
            )
        return to_response(result, route)


def build_event(request: Request, route: ApiRoute, path_params: dict[str, str]) -> dict[str, Any]:
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for key, value in request.headers.items():
        headers[key] = value
        multi_headers.setdefault(key, []).append(value)
    source_ip = request.remote_addr or "127.0.0.1"
    extra = {
        "X-Forwarded-For": source_ip,
        "X-Forwarded-Port": str(request.environ.get("SERVER_PORT", "3000")),
        "X-Forwarded-Proto": request.scheme,
    }
    for key, value in extra.items():
        if key not in headers:
            headers[key] = value
            multi_headers[key] = [value]

    query = parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True)
    qs: dict[str, str] = {}
    multi_qs: dict[str, list[str]] = {}
    for key, value in query:
        qs[key] = value
        multi_qs.setdefault(key, []).append(value)

    raw = request.get_data(cache=True)
    body: str | None
    is_b64 = False
    if not raw:
        body = None
    else:
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            body = base64.b64encode(raw).decode("ascii")
            is_b64 = True

    now = datetime.now(UTC)
    request_id = str(uuid.uuid4())
    return {
        "resource": route.path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": qs or None,
        "multiValueQueryStringParameters": multi_qs or None,
        "pathParameters": path_params or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": uuid.uuid5(uuid.NAMESPACE_URL, route.path).hex[:6],
            "resourcePath": route.path,
            "httpMethod": request.method,
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{STAGE}{request.path}",
            "accountId": ACCOUNT_ID,
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "stage": STAGE,
            "domainPrefix": API_ID,
            "requestTimeEpoch": int(time.time() * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": request.headers.get("User-Agent"),
                "user": None,
            },
            "domainName": request.host,
            "apiId": API_ID,
        },
        "body": body,
        "isBase64Encoded": is_b64,
    }


def to_response(result: Any, route: ApiRoute) -> Response:
    """Lambda proxy result -> HTTP response (502 if malformed, like API Gateway)."""
    if not isinstance(result, dict) or "statusCode" not in result:
        log.error("%s returned a malformed proxy response: %r", route.function.logical_id, result)
        return _json_response(502, {"message": "Internal server error"})
    try:
        status = int(result["statusCode"])
        body = result.get("body")
        data: bytes
        if body is None:
            data = b""
        elif result.get("isBase64Encoded"):
            data = base64.b64decode(str(body))
        else:
            data = str(body).encode("utf-8")
    except (ValueError, TypeError, binascii.Error):
        log.error("%s returned a malformed proxy response: %r", route.function.logical_id, result)
        return _json_response(502, {"message": "Internal server error"})
    resp = Response(data, status=status)
    resp.headers.remove("Content-Type")
    for key, value in (result.get("headers") or {}).items():
        resp.headers[str(key)] = str(value)
    for key, values in (result.get("multiValueHeaders") or {}).items():
        resp.headers.remove(str(key))
        for value in values or []:
            resp.headers.add(str(key), str(value))
    if "Content-Type" not in resp.headers:
        resp.headers["Content-Type"] = "application/json"
    return resp
