"""The booted local cloud every e2e module drives, and the clients a user would hold."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from localcloud import LocalCloud
from tests.conftest import register_test_orgs
from tests.helpers import ROOT
from tests.helpers import aws_client as client


@contextmanager
def booted(**options: Any) -> Iterator[LocalCloud]:
    """The project's template in a local cloud on free ports, schedules off, the machines' fixed
    waits capped at 1 s (moto runs them in real time); ``options`` as LocalCloud takes them
    (retry_delay, env, max_wait, ...)."""
    options.setdefault("max_wait", 1)
    with LocalCloud(
        ROOT / "template.yaml", api_port=0, lambda_port=0, aws_port=0, sandbox_port=0, schedules=False, **options
    ) as running:
        yield running


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with booted(retry_delay=1) as running:
        orgs_table = running.template.env_value("ORGS_TABLE") if running.template else None
        assert orgs_table, "template.yaml declares no ORGS_TABLE"
        register_test_orgs(running.aws_url, orgs_table)
        yield running


def invoke(cloud: LocalCloud, function: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Invoke ``function`` through the Lambda endpoint; its answer, or an AssertionError with
    the error body when it failed."""
    response = client(cloud, "lambda").invoke(FunctionName=function, Payload=json.dumps(payload).encode())
    body: dict[str, Any] = json.loads(response["Payload"].read())
    assert not response.get("FunctionError"), body
    return body


def wait_status(
    cloud: LocalCloud,
    function: str,
    payload: dict[str, Any],
    expected: str,
    *,
    field: str = "status",
    seconds: float = 20,
    interval: float = 0.3,
) -> dict[str, Any]:
    """Invoke a status ``function`` until its answer's ``field`` is ``expected``; that answer,
    or an AssertionError with the last one."""
    deadline = time.monotonic() + seconds
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status = invoke(cloud, function, payload)
        if status.get(field) == expected:
            return status
        time.sleep(interval)
    raise AssertionError(status)


def fault(cloud: LocalCloud, provider: str, **spec: Any) -> None:
    httpx.put(f"{cloud.sandbox_url}/__sandbox/faults/{provider}", json=spec, timeout=5).raise_for_status()
