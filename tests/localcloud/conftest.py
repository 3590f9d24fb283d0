from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from localcloud import LocalCloud

FIXTURE_TEMPLATE = Path(__file__).parent / "fixture" / "template.yaml"

CloudFactory = Callable[..., LocalCloud]


@pytest.fixture
def start_cloud() -> Iterator[CloudFactory]:
    """Start a LocalCloud on free ports (pollers/schedules off unless asked); always stopped."""
    started: list[LocalCloud] = []

    def start(**overrides: Any) -> LocalCloud:
        options: dict[str, Any] = {
            "api_port": 0,
            "lambda_port": 0,
            "aws_port": 0,
            "sandbox_port": 0,
            "schedules": False,
            "sqs_pollers": False,
        }
        options.update(overrides)
        cloud = LocalCloud(FIXTURE_TEMPLATE, **options)
        started.append(cloud)
        return cloud.start()

    yield start
    for cloud in started:
        cloud.stop()


def _wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


@pytest.fixture
def wait_until() -> Callable[..., Any]:
    """wait_until(predicate, timeout=10) -> the first truthy value of predicate()."""
    return _wait_until
