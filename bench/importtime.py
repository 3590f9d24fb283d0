"""What each function imports at init: every ``functions/*/app.py`` imported in fresh processes.

For each function, ``--runs`` fresh interpreters import the handler module (nothing is called),
with tracing off and/or on, and report the median import time (CPU time of the process, which a
busy machine disturbs much less than wall time; wall time beside it), which of the heavy
libraries got loaded, and the top costs from ``-X importtime`` (each top-level package's
cumulative time where it was first imported, nested ones overlapping; ``hub.* (self)`` is the
layer's own modules). ``--baseline DIR`` measures another checkout (e.g. ``git archive`` of the
main branch) in the same run, interleaved run by run, and prints the ratio.

Usage: python -m bench.importtime [--runs 5] [--top 10] [--tracing off|on|both]
                                  [--baseline DIR] [function_dir ...]
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

# Runs in the child: import the handler file like Lambda does, report what got loaded.
_CHILD = """
import importlib.util, json, sys, time
w0, c0 = time.perf_counter(), time.process_time()
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
w1, c1 = time.perf_counter(), time.process_time()
roots = {m.split(".")[0] for m in sys.modules}
print(json.dumps({"wall_ms": (w1 - w0) * 1000, "cpu_ms": (c1 - c0) * 1000, "roots": sorted(roots)}))
"""

PROBED = (
    "aws_xray_sdk",
    "httpx",
    "tenacity",
    "pydantic",
    "phonenumbers",
    "validate_docbr",
    "email_validator",
    "standardwebhooks",
    "stripe",
)


def _env(root: Path, tracing: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "LAMBDA_", "_X_AMZN"))}
    env.update(
        PYTHONPATH=str(root / "layers" / "hub"),
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="x",
        AWS_SECRET_ACCESS_KEY="x",
        POWERTOOLS_SERVICE_NAME="bench",
        POWERTOOLS_METRICS_NAMESPACE="IntegrationsHub",
    )
    if tracing:  # as deployed: in Lambda, with an active trace
        env.update(LAMBDA_TASK_ROOT=str(root), _X_AMZN_TRACE_ID="Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")
    else:
        env["POWERTOOLS_TRACE_DISABLED"] = "true"
    return env


def measure(root: Path, function: str, tracing: bool, importtime: bool = False) -> tuple[dict[str, object], str]:
    """``function``: a directory under functions/, or a handler file's path."""
    app = root / "functions" / function / "app.py" if "/" not in function else Path(function)
    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), "-c", _CHILD, str(app)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(root, tracing), cwd=root, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


def top_costs(importtime_log: str, top: int) -> list[tuple[int, str]]:
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
    parser.add_argument("--tracing", choices=("off", "on", "both"), default="both")
    parser.add_argument("--baseline", type=Path, help="another checkout, measured interleaved")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("functions", nargs="*")
    args = parser.parse_args()
    names = args.functions or sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists())
    modes = {"off": [False], "on": [True], "both": [False, True]}[args.tracing]
    sides = [("this", ROOT)] + ([("base", args.baseline.resolve())] if args.baseline else [])
    results: dict[str, dict[str, object]] = {}
    print("median of", args.runs, "fresh processes; ms of CPU (wall); tracing off/on; loaded: with tracing off")
    # The floor (bench/floor_handler.py): boto3 imported and one SQS client built at init.
    floor = [measure(ROOT, str(ROOT / "bench" / "floor_handler.py"), False)[0] for _ in range(args.runs)]
    floor_cpu = statistics.median(float(str(s["cpu_ms"])) for s in floor)
    floor_wall = statistics.median(float(str(s["wall_ms"])) for s in floor)
    print(f"{'floor (boto3 + SQS client)':26} {floor_cpu:6.0f} ({floor_wall:5.0f})", flush=True)
    for name in names:
        row: dict[str, object] = {}
        for tracing in modes:
            samples: dict[str, list[dict[str, object]]] = {side: [] for side, _ in sides}
            for run in range(args.runs):  # interleaved, alternating which side goes first
                for side, root in sides if run % 2 == 0 else sides[::-1]:
                    samples[side].append(measure(root, name, tracing)[0])
            for side, _ in sides:
                cpu = statistics.median(float(str(s["cpu_ms"])) for s in samples[side])
                wall = statistics.median(float(str(s["wall_ms"])) for s in samples[side])
                loaded = [m for m in PROBED if m in list(samples[side][0]["roots"])]  # type: ignore[call-overload]
                row[f"{side}_{'on' if tracing else 'off'}"] = {"cpu_ms": cpu, "wall_ms": wall, "loaded": loaded}
        results[name] = row
        parts = []
        for side, _ in sides:
            parts.append(
                f"{side}: "
                + " / ".join(
                    f"{row[f'{side}_{m}']['cpu_ms']:6.0f} ({row[f'{side}_{m}']['wall_ms']:5.0f})"  # type: ignore[index]
                    for m in (["off"] if False in modes else []) + (["on"] if True in modes else [])
                )
            )
        if args.baseline and False in modes:
            ratio = row["this_off"]["cpu_ms"] / row["base_off"]["cpu_ms"]  # type: ignore[index]
            parts.append(f"x{ratio:.2f} off")
        if args.baseline and True in modes:
            ratio = row["this_on"]["cpu_ms"] / row["base_on"]["cpu_ms"]  # type: ignore[index]
            parts.append(f"x{ratio:.2f} on")
        loaded_now = row[f"this_{'off' if False in modes else 'on'}"]["loaded"]  # type: ignore[index]
        print(f"{name:26} {'  '.join(parts)}  [{' '.join(loaded_now)}]", flush=True)
        if args.top:
            _info, log = measure(ROOT, name, tracing=modes[0], importtime=True)
            row["top"] = top_costs(log, args.top)
            print("      " + ", ".join(f"{module} {us / 1000:.0f}" for us, module in top_costs(log, args.top)))
    if args.json:
        results["_floor"] = {"cpu_ms": floor_cpu, "wall_ms": floor_wall}
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
