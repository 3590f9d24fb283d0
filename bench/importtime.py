"""What each function imports at init: ``python -X importtime`` of every ``functions/*/app.py``.

For each function, ``--runs`` fresh processes import the handler module (nothing is called) with
tracing off and on; prints the median import time, whether the X-Ray SDK / httpx / pydantic were
loaded, and the top cumulative costs (``-X importtime``, first run of the tracing-off side).

Usage: python -m bench.importtime [--runs 5] [--top 10] [function_dir ...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER = ROOT / "layers" / "hub"

# Runs in the child: import the handler file like Lambda does, report what got loaded.
_CHILD = """
import importlib.util, json, sys, time
t0 = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
t1 = time.perf_counter()
watch = ("aws_xray_sdk", "httpx", "pydantic", "phonenumbers", "validate_docbr", "email_validator",
         "standardwebhooks", "tenacity", "boto3")
print(json.dumps({"ms": (t1 - t0) * 1000, "loaded": [m for m in watch if m in sys.modules],
                  "modules": len(sys.modules)}))
"""

_PROBED = ("aws_xray_sdk", "httpx", "pydantic", "phonenumbers", "validate_docbr", "email_validator", "standardwebhooks")


def _env(tracing: bool) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("POWERTOOLS_") and k not in {"PYTHONDONTWRITEBYTECODE"}
    }
    env.update(
        PYTHONPATH=str(LAYER),
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="x",
        AWS_SECRET_ACCESS_KEY="x",
        POWERTOOLS_SERVICE_NAME="bench",
        POWERTOOLS_METRICS_NAMESPACE="IntegrationsHub",
        POWERTOOLS_TRACE_DISABLED="false" if tracing else "true",
    )
    return env


def _run(app: Path, tracing: bool, importtime: bool) -> tuple[dict[str, object], str]:
    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), "-c", _CHILD, str(app)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(tracing), cwd=ROOT, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


def top_costs(importtime_log: str, top: int) -> list[tuple[int, str]]:
    """The costliest packages: each top-level package's cumulative microseconds (where it was
    first imported; nested packages overlap their importer), plus the hub layer's own modules
    (sum of their self times)."""
    costs: dict[str, int] = {}
    hub_self = 0
    for line in importtime_log.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cumulative, name = line.partition(":")[2].split("|")
        module = name.strip()
        if module.split(".")[0] == "hub":
            hub_self += int(self_us)
        elif "." not in module:
            costs[module] = max(costs.get(module, 0), int(cumulative))
    costs["hub.* (self)"] = hub_self
    return sorted(((us, m) for m, us in costs.items()), reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--json", help="write the per-function medians here")
    parser.add_argument("functions", nargs="*")
    args = parser.parse_args()
    names = args.functions or sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists())
    results: dict[str, dict[str, object]] = {}
    print(f"{'function':32} {'off ms':>8} {'on ms':>8}  loaded with tracing off")
    for name in names:
        app = ROOT / "functions" / name / "app.py"
        off: list[float] = []
        on: list[float] = []
        info: dict[str, object] = {}
        for _ in range(args.runs):  # interleaved: tracing off, then on
            info, _err = _run(app, tracing=False, importtime=False)
            off.append(float(str(info["ms"])))
            on_info, _err = _run(app, tracing=True, importtime=False)
            on.append(float(str(on_info["ms"])))
        _info, log = _run(app, tracing=False, importtime=True)
        loaded = [m for m in _PROBED if m in list(info["loaded"])]  # type: ignore[call-overload]
        results[name] = {"off_ms": statistics.median(off), "on_ms": statistics.median(on), "loaded_off": loaded}
        print(f"{name:32} {statistics.median(off):8.1f} {statistics.median(on):8.1f}  {' '.join(loaded)}")
        if args.top:
            for us, module in top_costs(log, args.top):
                print(f"    {us / 1000:8.1f} ms  {module}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
