"""What the analytics sinks cost a cold start: AnalyticsForward's handler imported in fresh
processes alone (the baseline: adapters are found by name on first use, not at init) and with the
three sink adapters loaded as its first batch loads them (``hub.providers.<sink>.client``),
interleaved run by run so the ratio holds whatever the machine's load. When the vendors' SDKs are
importable here (``pip install posthog mixpanel`` into .venv; not a dependency of the hub), their
import beside httpx's is measured too: why the adapters post with plain httpx
(docs/observability.md, "Analytics sinks").

Usage: python -m bench.analytics_sinks [--runs 9]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HANDLER = ROOT / "functions" / "analytics_forward" / "app.py"
SINKS = ("ga4", "posthog", "mixpanel")

# Runs in the child: import the handler like Lambda does, then (argv[2]) the modules named.
_CHILD = """
import importlib, importlib.util, json, sys, time
w0, c0 = time.perf_counter(), time.process_time()
if sys.argv[1]:
    spec = importlib.util.spec_from_file_location("app", sys.argv[1])
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
for name in filter(None, sys.argv[2].split(",")):
    importlib.import_module(name)
w1, c1 = time.perf_counter(), time.process_time()
print(json.dumps({"wall_ms": (w1 - w0) * 1000, "cpu_ms": (c1 - c0) * 1000}))
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "LAMBDA_", "_X_AMZN", "SENTRY_"))}
    env.update(
        PYTHONPATH=str(ROOT / "layers" / "hub"),
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="x",
        AWS_SECRET_ACCESS_KEY="x",
        POWERTOOLS_SERVICE_NAME="bench",
        POWERTOOLS_METRICS_NAMESPACE="IntegrationsHub",
        POWERTOOLS_TRACE_DISABLED="true",
        LAMBDA_TASK_ROOT=str(ROOT),
    )
    return env


def measure(handler: Path | None, modules: tuple[str, ...]) -> dict[str, float]:
    cmd = [sys.executable, "-c", _CHILD, str(handler or ""), ",".join(modules)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), cwd=ROOT, check=True)
    sample: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return sample


def compare(runs: int, cases: dict[str, tuple[Path | None, tuple[str, ...]]]) -> dict[str, dict[str, float]]:
    """Median CPU and wall ms of each case, the cases interleaved run by run (order rotated)."""
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in cases}
    names = list(cases)
    for run in range(runs):
        for name in names[run % len(names) :] + names[: run % len(names)]:
            samples[name].append(measure(*cases[name]))
    return {
        name: {key: statistics.median(s[key] for s in taken) for key in ("cpu_ms", "wall_ms")}
        for name, taken in samples.items()
    }


def report(title: str, figures: dict[str, dict[str, float]], baseline: str) -> None:
    base = figures[baseline]["cpu_ms"]
    print(title)
    for name, row in figures.items():
        print(
            f"  {name:34} {row['cpu_ms']:6.0f} ms CPU ({row['wall_ms']:4.0f} wall)"
            f"  {row['cpu_ms'] - base:+5.0f}  x{row['cpu_ms'] / base:.2f}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args()
    adapters = tuple(f"hub.providers.{sink}.client" for sink in SINKS)
    print(f"median of {args.runs} fresh processes; tracing off; ratios against the first row")
    results: dict[str, Any] = {
        "forward": compare(
            args.runs,
            {
                "AnalyticsForward handler": (HANDLER, ()),
                "+ the three sink adapters": (HANDLER, adapters),
                **{f"+ {sink} adapter": (HANDLER, (f"hub.providers.{sink}.client",)) for sink in SINKS},
            },
        )
    }
    report("cold start of AnalyticsForward", results["forward"], "AnalyticsForward handler")
    sdks = tuple(name for name in ("posthog", "mixpanel") if importlib.util.find_spec(name) is not None)
    if sdks:
        results["sdks"] = compare(
            args.runs, {"httpx": (None, ("httpx",)), **{f"httpx + {sdk} SDK": (None, ("httpx", sdk)) for sdk in sdks}}
        )
        report("vendor SDKs beside httpx (what plain posts avoid)", results["sdks"], "httpx")
    else:
        print("vendor SDKs not installed here: `pip install posthog mixpanel` into .venv to compare them")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
