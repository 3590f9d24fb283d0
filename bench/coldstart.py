"""Run in a fresh process: import a handler and call it once; print the timings as JSON.

Usage: python bench/coldstart.py <handler file> [<event json file>]
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
import uuid
from typing import Any


class Context:
    function_name = "bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    memory_limit_in_mb = 256
    aws_request_id = str(uuid.uuid4())
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 15_000


def main() -> None:
    path = sys.argv[1]
    event: Any = {}
    if len(sys.argv) > 2:
        with open(sys.argv[2], encoding="utf-8") as fh:
            event = json.load(fh)
        event.pop("idempotency_key", None) if isinstance(event, dict) else None
    started = time.perf_counter()
    spec = importlib.util.spec_from_file_location("bench_handler", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    imported = time.perf_counter()
    try:
        result = module.handler(event, Context())
    except Exception as exc:
        # A clear 4xx answer (e.g. MessageStatus of a message this fresh cloud never sent)
        # ran the whole path a first call runs; anything else is a failed cold start.
        if type(exc).__name__ != "InvalidRequestError":
            raise
        result = {"statusCode": 400}
    called = time.perf_counter()
    ok = not (isinstance(result, dict) and int(result.get("statusCode", 200)) >= 500)
    print(
        json.dumps(
            {
                "import_ms": (imported - started) * 1000,
                "first_call_ms": (called - imported) * 1000,
                "total_ms": (called - started) * 1000,
                "ok": ok,
            }
        )
    )


if __name__ == "__main__":
    main()
