"""One function's execution environment, like a warm Lambda container (run as a script).

``localcloud.runtime`` starts ``python -P localcloud/worker.py '<config json>'`` with exactly the
function's environment. This file imports only the standard library before the handler, so
the worker holds the function's own code, layer and globals, never another function's nor the
engine's (``-P``: the engine's directory is not on ``sys.path``).

Protocol, one JSON object per line on two private pipes (stdout/stderr stay the function's logs):
engine -> worker ``{"request_id", "deadline_ms", "payload"}`` (payload: the event's JSON text);
worker -> engine ``{"type": "ready"}`` or ``{"type": "init_error", "payload"}`` once, then
``{"type": "result", "request_id", "error", "payload"}`` per request (payload: JSON text).
End of file on the request pipe (engine stopped or killed) ends the worker at once.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import queue
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO, Any

_THIS_FILE = os.path.abspath(__file__)


class LambdaContext:
    """What the Python Lambda runtime passes as ``context``."""

    def __init__(self, config: dict[str, Any], request_id: str, deadline_ms: int, log_stream: str) -> None:
        self.function_name: str = config["function_name"]
        self.function_version = "$LATEST"
        self.invoked_function_arn: str = config["function_arn"]
        self.memory_limit_in_mb: int = config["memory_size"]
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = log_stream
        self.identity: Any = None
        self.client_context: Any = None
        self.tenant_id: str | None = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


class InitError(Exception):
    """The handler could not be loaded (Lambda's Runtime.* init errors)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def error_payload(exc: BaseException, request_id: str = "") -> dict[str, Any]:
    """The JSON body the Python runtime returns for an unhandled exception."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != _THIS_FILE]
    return {
        "errorMessage": str(exc),
        "errorType": exc.error_type if isinstance(exc, InitError) else type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }


def load_handler(handler: str) -> Callable[[Any, Any], Any]:
    """``module.attr`` from the task root, with awslambdaric's error names."""
    module_name, _, attr = handler.rpartition(".")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise InitError("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}") from exc
    except SyntaxError as exc:
        raise InitError("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}") from exc
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise InitError("Runtime.HandlerNotFound", f"Handler '{attr}' missing on module '{module_name}'")
    return fn


def _send(out: IO[bytes], message: dict[str, Any]) -> None:
    out.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
    out.flush()


def _invoke(handler: Callable[[Any, Any], Any], context: LambdaContext, payload: str) -> tuple[bool, str]:
    request_id = context.aws_request_id
    try:
        event = json.loads(payload) if payload.strip() else {}
        result = handler(event, context)
    except Exception as exc:  # noqa: BLE001 - returned in the Lambda error shape
        body = error_payload(exc, request_id)
        # Logged as Lambda's runtime logs it: "[ERROR] Type: message" and the trace.
        trace = "".join(body["stackTrace"])
        print(f"[ERROR] {body['errorType']}: {body['errorMessage']}\nTraceback:\n{trace}", end="", file=sys.stderr)
        return True, json.dumps(body)
    try:
        return False, json.dumps(result)
    except (TypeError, ValueError) as exc:
        marshal = {
            "errorMessage": f"Unable to marshal response: {exc}",
            "errorType": "Runtime.MarshalError",
            "requestId": request_id,
            "stackTrace": [],
        }
        return True, json.dumps(marshal)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def main(argv: list[str]) -> int:
    config: dict[str, Any] = json.loads(argv[1])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the engine; it stops us
    sys.path[:0] = [config["code_dir"], *config["layer_dirs"]]  # LAMBDA_TASK_ROOT, then /opt
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(line_buffering=True)
    requests = os.fdopen(config["request_fd"], "rb")
    responses = os.fdopen(config["response_fd"], "wb")
    inbox: queue.SimpleQueue[bytes] = queue.SimpleQueue()

    def read_requests() -> None:
        for line in requests:
            inbox.put(line)
        os._exit(0)  # the engine is gone (stopped or killed): never outlive it

    threading.Thread(target=read_requests, name="requests", daemon=True).start()

    try:
        handler = load_handler(config["handler"])
    except Exception as exc:  # noqa: BLE001 - Lambda reports init errors on the invoke
        _send(responses, {"type": "init_error", "payload": json.dumps(error_payload(exc))})
        return 1
    _send(responses, {"type": "ready"})
    today = datetime.now(UTC).strftime("%Y/%m/%d")
    log_stream = f"{today}/[$LATEST]{uuid.uuid4().hex}"  # one stream per container, like Lambda
    while True:
        request = json.loads(inbox.get())
        context = LambdaContext(config, request["request_id"], int(request["deadline_ms"]), log_stream)
        error, payload = _invoke(handler, context, request["payload"])
        _send(responses, {"type": "result", "request_id": request["request_id"], "error": error, "payload": payload})


if __name__ == "__main__":
    sys.exit(main(sys.argv))
