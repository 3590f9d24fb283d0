"""Lambda Invoke API (like ``sam local start-lambda``) for boto3 ``invoke``."""

from __future__ import annotations

import base64
import json
import logging
import threading
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from localcloud.runtime import FunctionRuntime

log = logging.getLogger("localcloud.lambda_api")


def _error(status: int, error_type: str, message: str) -> Response:
    resp = Response(json.dumps({"Type": "User", "message": message}), status=status, content_type="application/json")
    resp.headers["x-amzn-errortype"] = error_type
    return resp


class LambdaInvokeApi:
    """WSGI app implementing ``POST /2015-03-31/functions/{FunctionName}/invocations``."""

    def __init__(self, runtime: FunctionRuntime) -> None:
        self.runtime = runtime
        self.url_map = Map(
            [
                Rule("/2015-03-31/functions/<path:name>/invocations", endpoint="invoke", methods=["POST"]),
                Rule("/2015-03-31/functions/", endpoint="list", methods=["GET"]),
                Rule("/2015-03-31/functions", endpoint="list", methods=["GET"]),
            ]
        )

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            endpoint, values = adapter.match()
        except HTTPException:
            response = _error(404, "ResourceNotFoundException", f"Unsupported route {request.method} {request.path}")
        else:
            response = self.invoke(request, values["name"]) if endpoint == "invoke" else self.list_functions()
        return response(environ, start_response)

    def list_functions(self) -> Response:
        functions = [
            {
                "FunctionName": f.name,
                "FunctionArn": f.arn,
                "Runtime": f.runtime,
                "Handler": f.handler,
                "MemorySize": f.memory_size,
                "Timeout": f.timeout,
                "Version": "$LATEST",
            }
            for f in self.runtime.functions.values()
        ]
        return Response(json.dumps({"Functions": functions}), content_type="application/json")

    def invoke(self, request: Request, name: str) -> Response:
        spec = self.runtime.lookup(name)
        if spec is None:
            arn = name if name.startswith("arn:") else f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
            return _error(404, "ResourceNotFoundException", f"Function not found: {arn}")
        payload = request.get_data()
        if payload.strip():
            try:
                json.loads(payload)
            except ValueError as exc:
                return _error(400, "InvalidRequestContentException", f"Could not parse request body into json: {exc}")
        invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if invocation_type == "Event":
            threading.Thread(
                target=self.runtime.invoke_payload, args=(spec.logical_id, payload), daemon=True, name="lambda-event"
            ).start()
            return Response(b"", status=202)
        if invocation_type == "DryRun":
            return Response(b"", status=204)
        result = self.runtime.invoke_payload(spec.logical_id, payload)
        response = Response(result.payload, status=200, content_type="application/json")
        response.headers["X-Amz-Executed-Version"] = "$LATEST"
        response.headers["x-amzn-RequestId"] = result.request_id
        if result.error:
            response.headers["X-Amz-Function-Error"] = "Unhandled"
        if request.headers.get("X-Amz-Log-Type") == "Tail":
            tail = (
                f"START RequestId: {result.request_id} Version: $LATEST\n"
                f"END RequestId: {result.request_id}\n"
                f"REPORT RequestId: {result.request_id}\tDuration: {result.duration_ms:.2f} ms\n"
            )
            response.headers["X-Amz-Log-Result"] = base64.b64encode(tail.encode()).decode()
        return response
