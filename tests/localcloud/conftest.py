from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from localcloud import LocalCloud
from tests import helpers

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


@pytest.fixture
def wait_until() -> Callable[..., Any]:
    """wait_until(predicate, timeout=10) -> the first truthy value of predicate()."""
    return helpers.wait_until
