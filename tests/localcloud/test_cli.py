from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from localcloud.__main__ import main
from localcloud.servers import free_port

pytestmark = pytest.mark.e2e  # boots a LocalCloud

FIXTURE = Path(__file__).parent / "fixture" / "template.yaml"
REPO = Path(__file__).resolve().parents[2]


def test_invoke_command_prints_result(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"ok": True}))
    assert main(["invoke", "BoomFunction", "--template", str(FIXTURE), "--event", str(event)]) == 0
    assert json.loads(capsys.readouterr().out) == {"boom": "no"}

    assert main(["invoke", "BoomFunction", "--template", str(FIXTURE)]) == 1
    error = json.loads(capsys.readouterr().out)
    assert error["errorType"] == "ProviderUnavailableError"


def test_dev_command_serves_and_stops_cleanly_on_sigterm() -> None:
    ports = {name: free_port() for name in ("api", "lambda", "aws", "sandbox")}
    cmd = [
        sys.executable,
        "-m",
        "localcloud",
        "dev",
        "--template",
        str(FIXTURE),
        "--no-schedules",
        "--retry-delay",
        "0",
        *[arg for name, port in ports.items() for arg in (f"--{name}-port", str(port))],
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        seen_try = False
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line or (seen_try and not line.strip()):
                break
            output.append(line)
            seen_try = seen_try or line.startswith("Try:")
        banner = "".join(output)
        assert "Local cloud is up" in banner, banner
        assert f"http://127.0.0.1:{ports['api']}/echo/{{org_id}}" in banner
        assert "BoomFunction" in banner and "/evolution" in banner
        # copy-paste example built from fixture/events/webhook_evolution.json
        assert "-H 'Authorization: Bearer demo-evolution-webhook-token'" in banner
        assert f"'http://127.0.0.1:{ports['api']}/webhooks/evolution/demo'" in banner
        resp = httpx.get(f"http://127.0.0.1:{ports['api']}/items/7")
        assert resp.json()["event"]["pathParameters"] == {"item_id": "7"}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_unknown_function_exits_nonzero(capsys: Any) -> None:
    assert main(["invoke", "Nope", "--template", str(FIXTURE)]) == 1
    assert "Function not found" in json.loads(capsys.readouterr().out)["errorMessage"]
