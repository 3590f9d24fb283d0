"""What every benchmark shares: the local cloud on free ports, quiet, without servers it
does not need (the benchmarks call functions through its runtime, which runs each in its own
worker processes, or import a handler in-process; AWS and sandboxes over HTTP)."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "layers" / "hub") not in sys.path:
    sys.path[:0] = [str(ROOT / "layers" / "hub"), str(ROOT)]

from localcloud import LocalCloud  # noqa: E402


@contextmanager
def bench_cloud(
    log_level: str = "ERROR", env: dict[str, str] | None = None, *, serve_api: bool = False
) -> Iterator[LocalCloud]:
    """``env``: set in every function's workers, and in this process (in-process handlers);
    ``serve_api``: the local API Gateway too (benches that time an HTTP route)."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    cloud = LocalCloud(
        ROOT / "template.yaml",
        api_port=0,
        lambda_port=0,
        aws_port=0,
        sandbox_port=0,
        schedules=False,
        sqs_pollers=False,
        serve_api=serve_api,
        serve_lambda=False,
        env={"POWERTOOLS_LOG_LEVEL": log_level, **(env or {})},
    )
    with cloud:
        os.environ.update(cloud.env)
        yield cloud


def timed(fn: Callable[[], str]) -> tuple[float, str]:
    """Seconds ``fn`` took, and what it answered (which provider, engine or error)."""
    started = time.perf_counter()
    outcome = fn()
    return time.perf_counter() - started, outcome


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


class Ctx:
    function_name = "WebhookEvolution"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:WebhookEvolution"
    memory_limit_in_mb = 256
    aws_request_id = "bench"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def load(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_chain(cloud: LocalCloud, chain: str, request: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """Start the fallback chain ``chain`` (its template Output ``<chain>Arn``) with ``request`` as a
    caller does and wait for its end: (its description, the Step Functions client)."""
    assert cloud.template is not None
    arn = cloud.template.resolve(cloud.template.raw["Outputs"][f"{chain}Arn"]["Value"])
    sfn = boto3.client("stepfunctions", endpoint_url=cloud.aws_url, region_name="us-east-1")
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"request": request}))
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution["executionArn"])
        if described["status"] != "RUNNING":
            break
        time.sleep(0.02)
    if described["status"] != "SUCCEEDED":
        raise RuntimeError(f"{chain} ended {described['status']}")
    return described, sfn
