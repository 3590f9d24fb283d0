"""What Sentry costs a cold start: every named function's handler imported in fresh processes with
error reports off (no SENTRY_DSN_SECRET: the baseline, as deployed without a DSN) and on (the
hub's Sentry secret read from Secrets Manager at init, sentry_sdk imported and initialised),
interleaved run by run in the same run, so the ratio holds whatever the machine's load.

Secrets Manager is a local moto server (one GetSecretValue over loopback: in Lambda the call
costs a network round trip more). Tracing off in both (POWERTOOLS_TRACE_DISABLED), as
bench/importtime.py's off column. Figures: median CPU ms of the import (wall ms beside it), the
delta and ratio on/off, and ``sentry_sdk``'s own cumulative import time (-X importtime).

Usage: python -m bench.errortracking [--runs 9] [function_dir ...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FUNCTIONS = ("web_search", "whatsapp_send_text", "webhook_stripe", "integration_get")
SECRET_ID = "hub/_apps/sentry"
DSN = "https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.example/1"

# Runs in the child: import the handler file like Lambda does (nothing is called).
_CHILD = """
import importlib.util, json, sys, time
w0, c0 = time.perf_counter(), time.process_time()
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
w1, c1 = time.perf_counter(), time.process_time()
from hub import errortracking
print(json.dumps({"wall_ms": (w1 - w0) * 1000, "cpu_ms": (c1 - c0) * 1000, "enabled": errortracking.enabled(),
                  "sentry": "sentry_sdk" in sys.modules}))
"""


def _env(endpoint: str, sentry: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "LAMBDA_", "_X_AMZN", "SENTRY_"))}
    env.update(
        PYTHONPATH=str(ROOT / "layers" / "hub"),
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="x",
        AWS_SECRET_ACCESS_KEY="x",
        AWS_ENDPOINT_URL=endpoint,
        POWERTOOLS_SERVICE_NAME="bench",
        POWERTOOLS_METRICS_NAMESPACE="IntegrationsHub",
        POWERTOOLS_TRACE_DISABLED="true",
        LAMBDA_TASK_ROOT=str(ROOT),
    )
    if sentry:
        env["SENTRY_DSN_SECRET"] = SECRET_ID
    return env


def measure(function: str, endpoint: str, sentry: bool, importtime: bool = False) -> tuple[dict[str, Any], str]:
    app = ROOT / "functions" / function / "app.py"
    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), "-c", _CHILD, str(app)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(endpoint, sentry), cwd=ROOT, check=True)
    sample: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if sample["enabled"] is not sentry or sample["sentry"] is not sentry:
        raise SystemExit(f"{function}: Sentry {'on' if sentry else 'off'} expected, got {sample}")
    return sample, proc.stderr


def sentry_import_ms(importtime_log: str) -> float:
    """``sentry_sdk``'s cumulative import time (ms) where it was first imported."""
    for line in importtime_log.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self_us, cumulative, name = line.partition(":")[2].split("|")
        if name.strip() == "sentry_sdk":
            return int(cumulative) / 1000
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("functions", nargs="*")
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT / "layers" / "hub"), str(ROOT)]
    import boto3

    from localcloud.aws import MotoServer
    from localcloud.servers import free_port

    moto = MotoServer(port=free_port("127.0.0.1"))
    moto.start()
    try:
        sm = boto3.client(
            "secretsmanager",
            endpoint_url=moto.endpoint,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
        sm.create_secret(Name=SECRET_ID, SecretString=json.dumps({"dsn": DSN}))
        results: dict[str, Any] = {}
        print(f"median of {args.runs} fresh processes; import ms of CPU (wall); tracing off")
        print(f"{'function':22} {'Sentry off':>13} {'Sentry on':>13} {'delta':>12}  ratio  sentry_sdk import")
        for name in args.functions or DEFAULT_FUNCTIONS:
            samples: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
            for run in range(args.runs):  # interleaved, alternating which goes first
                for sentry in (False, True) if run % 2 == 0 else (True, False):
                    samples[sentry].append(measure(name, moto.endpoint, sentry)[0])
            row: dict[str, Any] = {
                side: {
                    "cpu_ms": statistics.median(s["cpu_ms"] for s in samples[on]),
                    "wall_ms": statistics.median(s["wall_ms"] for s in samples[on]),
                }
                for side, on in (("off", False), ("on", True))
            }
            row["sentry_sdk_import_ms"] = sentry_import_ms(measure(name, moto.endpoint, True, importtime=True)[1])
            results[name] = row
            off, on = row["off"], row["on"]
            print(
                f"{name:22} {off['cpu_ms']:6.0f} ({off['wall_ms']:4.0f}) {on['cpu_ms']:6.0f} ({on['wall_ms']:4.0f})"
                f" {on['cpu_ms'] - off['cpu_ms']:+5.0f} ({on['wall_ms'] - off['wall_ms']:+4.0f})"
                f"  x{on['cpu_ms'] / off['cpu_ms']:.2f}  {row['sentry_sdk_import_ms']:5.0f}",
                flush=True,
            )
        if args.json:
            args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    finally:
        moto.stop()


if __name__ == "__main__":
    main()
