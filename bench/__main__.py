"""make bench: cold-start init per function.

* Cold start: each function in a fresh process (import + first call with its events/ sample),
  against a floor handler that only imports boto3 and creates an SQS client. Ratio = fn / floor.

Everything runs against the local cloud on free ports; no network, no Docker.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "hub"), str(ROOT)]

from bench.common import bench_cloud  # noqa: E402


def cold_start(handler_file: Path, event_file: Path | None, runs: int, env: dict[str, str]) -> dict[str, float]:
    totals, imports = [], []
    for _ in range(runs):
        cmd = [sys.executable, str(ROOT / "bench" / "coldstart.py"), str(handler_file)]
        if event_file is not None:
            cmd.append(str(event_file))
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, cwd=ROOT)
        if out.returncode != 0:
            raise SystemExit(f"{handler_file} failed its cold start:\n{out.stderr[-2000:]}")
        line = [ln for ln in out.stdout.splitlines() if ln.startswith('{"import_ms"')][-1]
        result = json.loads(line)
        if not result["ok"]:
            raise SystemExit(f"{handler_file} failed its first call: {out.stdout[-500:]}")
        totals.append(result["total_ms"])
        imports.append(result["import_ms"])
    return {"total_ms": statistics.median(totals), "import_ms": statistics.median(imports)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold-runs", type=int, default=5)
    args = parser.parse_args()

    with bench_cloud("WARNING") as cloud:
        env = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'hub'}{os.pathsep}{ROOT}"}

        print(f"Cold start: fresh process, import + first call, median of {args.cold_runs}")
        floor = cold_start(ROOT / "bench" / "floor_handler.py", None, args.cold_runs, env)
        print(f"  {'floor (boto3 + SQS client)':34s} {floor['total_ms']:8.1f} ms   1.00x")
        for fn in sorted(cloud.functions, key=lambda f: f.logical_id):
            directory = fn.code_dir.name
            event_file = ROOT / "events" / f"{directory}.json"
            result = cold_start(fn.module_path, event_file if event_file.exists() else None, args.cold_runs, env)
            ratio = result["total_ms"] / floor["total_ms"]
            print(
                f"  {fn.logical_id:34s} {result['total_ms']:8.1f} ms  {ratio:5.2f}x"
                f"   (import {result['import_ms']:.0f} ms)"
            )


if __name__ == "__main__":
    main()
