"""What every benchmark shares: the local cloud on free ports, quiet, without servers it
does not need (the benchmarks call functions through its runtime, which runs each in its own
worker processes, or import a handler in-process; AWS and sandboxes over HTTP)."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "layers" / "hub") not in sys.path:
    sys.path[:0] = [str(ROOT / "layers" / "hub"), str(ROOT)]

from localcloud import LocalCloud  # noqa: E402


@contextmanager
def bench_cloud(log_level: str = "ERROR", env: dict[str, str] | None = None) -> Iterator[LocalCloud]:
    """``env``: set in every function's workers, and in this process (in-process handlers)."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    cloud = LocalCloud(
        ROOT / "template.yaml",
        api_port=0,
        lambda_port=0,
        aws_port=0,
        sandbox_port=0,
        schedules=False,
        sqs_pollers=False,
        serve_api=False,
        serve_lambda=False,
        env={"POWERTOOLS_LOG_LEVEL": log_level, **(env or {})},
    )
    with cloud:
        os.environ.update(cloud.env)
        yield cloud
