"""The cold-start bench measures like for like: its floor makes one real SQS call, its functions run
with the tracer on as deployed, and its -X importtime summary ranks by cumulative cost. (No timings.)"""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from bench.__main__ import cold_start_env, top_imports
from bench.common import load
from localcloud.template import FunctionSpec

ROOT = Path(__file__).resolve().parents[2]


def test_the_floor_makes_one_sqs_call(monkeypatch: pytest.MonkeyPatch) -> None:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="inbound")["QueueUrl"]
        monkeypatch.setenv("INBOUND_EVENTS_QUEUE_URL", url)
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")

        floor = load(ROOT / "bench" / "floor_handler.py", "bench_floor")
        assert floor.handler({}, None) == {"ok": True}

        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "1"


def test_functions_cold_start_with_the_tracer_on(tmp_path: Path) -> None:
    spec = FunctionSpec(
        logical_id="WebhookEvolution",
        name="hub-WebhookEvolution",
        arn="arn:aws:lambda:us-east-1:123456789012:function:hub-WebhookEvolution",
        code_dir=tmp_path,
        handler="app.handler",
        runtime="python3.11",
        memory_size=256,
        timeout=15,
        environment={"POWERTOOLS_SERVICE_NAME": "integrations-hub"},
    )
    overrides = {"POWERTOOLS_TRACE_DISABLED": "true", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}

    env = cold_start_env(spec, overrides, {}, xray_port=40123)

    assert "POWERTOOLS_TRACE_DISABLED" not in env
    assert env["LAMBDA_TASK_ROOT"] == str(tmp_path)  # Powertools' Tracer is off outside Lambda
    assert env["AWS_XRAY_DAEMON_ADDRESS"] == "127.0.0.1:40123"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000"


def test_top_imports_ranks_by_cumulative_time() -> None:
    stderr = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:       120 |        120 |   _io",
            "import time:      2000 |     300000 | boto3",
            "import time:     25000 |     444000 | hub.ai.models",
            "import time:       300 |       5000 |     hub.errors",
            "something else on stderr",
        ]
    )

    assert top_imports(stderr, count=2) == [(444.0, 25.0, "hub.ai.models"), (300.0, 2.0, "boto3")]


def test_the_sinks_bench_times_each_case_in_fresh_processes() -> None:
    # Given two cases, one importing a module the other does not
    from bench.analytics_sinks import compare

    # When they are measured interleaved
    figures = compare(2, {"nothing": (None, ()), "with json": (None, ("json",))})

    # Then each has its medians, positive, from processes of its own
    assert set(figures) == {"nothing", "with json"}
    assert all(row["cpu_ms"] >= 0 and row["wall_ms"] > 0 for row in figures.values())
