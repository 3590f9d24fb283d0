"""Every function imports on its own, in a fresh interpreter, as a Lambda cold start does.

In one test process modules are already imported by earlier tests, which hides import
cycles: WebhookCustom once failed its cold start (hub.webhooks.standard → hub.providers →
every adapter → hub.webhooks.standard) while every in-process test passed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT

FUNCTIONS = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists())


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_handler_module_imports_in_a_fresh_interpreter(function: str) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT / "layers" / "hub"),
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    code = (
        "import json, runpy, sys; ns = runpy.run_path(sys.argv[1]); assert callable(ns['handler']); "
        "print(json.dumps(sorted(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "functions" / function / "app.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    # Cold start: with tracing disabled the X-Ray SDK is not imported at all.
    assert not {m for m in loaded if m.split(".")[0] == "aws_xray_sdk"}
