"""Tracing on and off, each in a fresh interpreter (hub.observability decides at import, as a
Lambda cold start does)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.helpers import ROOT

_TRACED = """
import json, sys
from hub import observability
from aws_xray_sdk.core.patcher import _PATCHED_MODULES

at_init = sorted(_PATCHED_MODULES)
httpx_at_init = "httpx" in sys.modules

from hub.providers.base.client import shared_http_client

client = shared_http_client()


class Context:
    function_name = "f"
    function_version = "1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:f"
    memory_limit_in_mb = 128
    aws_request_id = "r"
    log_group_name = "g"
    log_stream_name = "s"

    def get_remaining_time_in_millis(self):
        return 10000


seen = {}


@observability.lambda_handler
def handler(event, context):
    from aws_xray_sdk.core import xray_recorder

    seen["subsegment"] = xray_recorder.current_subsegment().name
    return {"echo": event["x"]}


print(json.dumps({
    "tracer": type(observability.tracer).__name__,
    "patched_at_init": at_init,
    "httpx_at_init": httpx_at_init,
    "patched_after_client": sorted(_PATCHED_MODULES),
    "client": type(client).__name__,
    "result": handler({"x": 1}, Context()),
    "subsegment": seen["subsegment"],
}))
"""


def _run(code: str, **env: str) -> dict[str, object]:
    base = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT / "layers" / "hub"),
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_METRICS_NAMESPACE": "IntegrationsHubTest",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_with_tracing_on_the_handler_runs_in_a_subsegment_and_boto_and_httpx_calls_are_traced() -> None:
    # Given a Lambda environment with an active trace
    out = _run(
        _TRACED,
        LAMBDA_TASK_ROOT=str(ROOT),
        _X_AMZN_TRACE_ID="Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    )

    # Then the handler ran inside its "## handler" subsegment and answered
    assert out["tracer"] == "Tracer"
    assert out["result"] == {"echo": 1}
    assert out["subsegment"] == "## handler"
    # and AWS SDK calls are traced from init, httpx calls from the first provider client on,
    # without importing httpx at init
    assert "botocore" in list(out["patched_at_init"])  # type: ignore[call-overload]
    assert out["httpx_at_init"] is False
    assert "httpx" in list(out["patched_after_client"])  # type: ignore[call-overload]
    assert out["client"] == "_InstrumentedClient"


def test_with_tracing_disabled_the_xray_sdk_is_never_imported() -> None:
    # Given POWERTOOLS_TRACE_DISABLED in a Lambda environment
    code = """
import json, sys
from hub import observability

@observability.lambda_handler
def handler(event, context):
    return {"echo": event["x"]}

class Context:
    function_name = "f"; function_version = "1"; memory_limit_in_mb = 128; aws_request_id = "r"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:f"
    def get_remaining_time_in_millis(self):
        return 10000

result = handler({"x": 2}, Context())
from hub.providers.base.client import shared_http_client
shared_http_client()
print(json.dumps({"result": result, "xray": sorted(m for m in sys.modules if m.startswith("aws_xray_sdk"))}))
"""
    out = _run(code, LAMBDA_TASK_ROOT=str(ROOT), POWERTOOLS_TRACE_DISABLED="true")

    # Then the handler still answers, and no X-Ray module was loaded
    assert out["result"] == {"echo": 2}
    assert out["xray"] == []
