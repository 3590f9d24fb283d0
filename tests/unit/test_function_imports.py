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

# Cold start: what no function imports at init — libraries only some calls need load on first use.
NEVER_AT_INIT = ("aws_xray_sdk", "phonenumbers", "email_validator", "validate_docbr")
# Functions that never call a provider at init or on most calls: no httpx, no provider package.
NO_PROVIDER_AT_INIT = {
    "health_check_scheduled",
    "health_integrations",
    *(f for f in FUNCTIONS if f.startswith("integration_") and f != "integration_tokens_sweep"),
}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_handler_module_imports_in_a_fresh_interpreter(function: str) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        # As Lambda lays it out: the function's directory (LAMBDA_TASK_ROOT), then the layer.
        "PYTHONPATH": os.pathsep.join([str(ROOT / "functions" / function), str(ROOT / "layers" / "hub")]),
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
    # With tracing disabled the X-Ray SDK is not imported at all; the others load on first use.
    assert not {m for m in loaded if m.split(".")[0] in NEVER_AT_INIT}
    if function.startswith("webhook_"):
        # A receiver verifies, archives and enqueues: it never calls out, so no HTTP client.
        assert "httpx" not in loaded
    if function in NO_PROVIDER_AT_INIT:
        providers = {m for m in loaded if m.startswith("hub.providers.") and m.split(".")[2] not in _SHARED}
        assert not providers and "httpx" not in loaded, sorted(providers)


# Modules under hub.providers that are not a provider's package.
_SHARED = {"base", "ports", "outbound"}
