"""make bench: cold start per function, as shipped, against a floor in the same run.

* Cold start: each function in a fresh process (import + first call with its events/ sample),
  laid out like Lambda (PYTHONPATH = function dir, layer, runtime; no site-packages; nothing
  written back as .pyc, /opt is read-only), tracer on as deployed (LAMBDA_TASK_ROOT set, a trace
  header, X-Ray segments sent to a local UDP socket nobody reads).
* Floor: a bare handler importing boto3 and making one SQS call (like for like with a receiver).
  Floor and function runs alternate; queues are purged before each run (moto's SQS slows as a
  queue grows); ratio = median function / median floor of the same rounds.
* Columns: the layer as shipped (layers/hub/build_layer.py, x86_64 build: unchecked-hash .pyc, no
  boto family) and, for the headline functions (every one with --source-all), the layer as
  BuildMethod python3.11 built it (sources only, its own botocore), so the gain is visible.
* --importtime (on by default): `-X importtime` of every function as shipped, top 10 cumulative.
* The layer's unzipped size (boto family excluded) and the largest function artifact.

Everything runs against the local cloud on free ports; no Docker. The first run builds the layers
for this machine into .aws-sam/bench/ (pip, about a minute); later runs reuse them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "hub"), str(ROOT)]

import boto3  # noqa: E402

from bench import layers  # noqa: E402
from bench.common import bench_cloud  # noqa: E402
from localcloud.runtime import function_environment  # noqa: E402

HEADLINE = ("WebhookEvolution", "LlmGenerate", "PaymentCreateCharge")
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six")
COLDSTART = ROOT / "bench" / "coldstart.py"
FLOOR = ROOT / "bench" / "floor_handler.py"


def trace_header() -> str:
    return f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=1"


def run_once(
    handler: Path, event: Path | None, env: dict[str, str], path: list[Path], importtime: bool = False
) -> dict[str, Any]:
    """One cold start in a fresh interpreter; its timings (and -X importtime lines)."""
    cmd = [sys.executable, "-S", *(("-X", "importtime") if importtime else ()), str(COLDSTART), str(handler)]
    if event is not None:
        cmd.append(str(event))
    run_env = {**env, "PYTHONPATH": os.pathsep.join(str(p) for p in path), "_X_AMZN_TRACE_ID": trace_header()}
    out = subprocess.run(cmd, env=run_env, capture_output=True, text=True, check=False, cwd=ROOT)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith('{"import_ms"')]
    if out.returncode != 0 or not lines:
        raise SystemExit(f"{handler} failed its cold start:\n{out.stdout[-1500:]}\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    if not result["ok"]:
        raise SystemExit(f"{handler} failed its first call: {out.stdout[-1500:]}")
    result["stderr"] = out.stderr
    return result


def top_imports(stderr: str, count: int = 10) -> list[tuple[float, float, str]]:
    """(cumulative ms, self ms, module) of the ``count`` costliest imports in ``-X importtime`` output."""
    rows = []
    for line in stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (.*)$", line)
        if match:
            rows.append((int(match[2]) / 1000, int(match[1]) / 1000, match[3].rstrip()))
    return sorted(rows, reverse=True)[:count]


def cold_start_env(spec: Any, overrides: dict[str, str], defaults: dict[str, str], xray_port: int) -> dict[str, str]:
    """The function's environment as its local workers get it, but with the tracer on, as deployed."""
    env = function_environment(spec, overrides, defaults)
    env.pop("POWERTOOLS_TRACE_DISABLED", None)  # the local cloud turns it off; Lambda does not
    env.update(
        {
            "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{xray_port}",  # a local socket nobody reads
            "PYTHONDONTWRITEBYTECODE": "1",  # /opt and /var/task are read-only on Lambda
        }
    )
    return env


class Bench:
    def __init__(self, cloud: Any, runs: int) -> None:
        self.cloud = cloud
        self.runs = runs
        self.sqs = boto3.client("sqs", endpoint_url=cloud.aws_url, region_name="us-east-1")
        self.runtime = layers.runtime_dir()
        self.shipped = layers.shipped_layer()
        self.source = layers.source_layer()
        # X-Ray's emitter sends UDP segments here: received by nobody, dropped by the kernel.
        self.xray_sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.xray_sink.bind(("127.0.0.1", 0))

    def env(self, spec: Any) -> dict[str, str]:
        runtime = self.cloud.runtime
        return cold_start_env(spec, runtime.overrides, runtime.defaults, self.xray_sink.getsockname()[1])

    def purge_queues(self) -> None:
        """Empty every queue (PurgeQueue allows one call a minute): receive and delete what is there."""
        for url in self.sqs.list_queues().get("QueueUrls", []):
            while True:
                messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
                if not messages:
                    break
                entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
                self.sqs.delete_message_batch(QueueUrl=url, Entries=entries)

    def measure(self, spec: Any, with_source: bool) -> dict[str, float]:
        event = ROOT / "events" / f"{spec.code_dir.name}.json"
        event_file = event if event.exists() else None
        env = self.env(spec)
        samples: dict[str, list[float]] = {"floor": [], "shipped": [], "source": [], "import": []}
        for _ in range(self.runs):
            self.purge_queues()
            samples["floor"].append(run_once(FLOOR, None, env, [self.runtime])["total_ms"])
            self.purge_queues()
            shipped = run_once(
                spec.module_path,
                event_file,
                env,
                [spec.code_dir, *layers.function_deps(spec.code_dir), self.shipped, self.runtime],
            )
            samples["shipped"].append(shipped["total_ms"])
            samples["import"].append(shipped["import_ms"])
            if with_source:
                self.purge_queues()
                source = run_once(
                    spec.module_path,
                    event_file,
                    env,
                    [spec.code_dir, *layers.function_deps(spec.code_dir), self.source, self.runtime],
                )
                samples["source"].append(source["total_ms"])
        return {key: statistics.median(values) for key, values in samples.items() if values}

    def importtime(self, spec: Any) -> list[tuple[float, float, str]]:
        event = ROOT / "events" / f"{spec.code_dir.name}.json"
        self.purge_queues()
        result = run_once(
            spec.module_path,
            event if event.exists() else None,
            self.env(spec),
            [spec.code_dir, *layers.function_deps(spec.code_dir), self.shipped, self.runtime],
            importtime=True,
        )
        return top_imports(result["stderr"])


def sizes() -> None:
    built = ROOT / ".aws-sam" / "build"
    layer = built / "HubLayer" / "python"
    label = "sam build (arm64)"
    if not layer.is_dir():
        layer, label = layers.OUT / "layer-shipped" / "python", "x86_64 build (run `make build` for arm64)"
    size = layers.tree_size(layer, RUNTIME_PROVIDED)
    print(f"Layer unzipped, boto family excluded: {size / 1e6:.1f} MB ({label}; goal <= 15 MB)")
    source = layers.OUT / "layer-source" / "python"
    if source.is_dir():
        without = layers.tree_size(source, RUNTIME_PROVIDED)
        boto = layers.tree_size(source) - without
        print(f"  before (BuildMethod python3.11, sources only): {without / 1e6:.1f} MB + {boto / 1e6:.1f} MB boto")
    if built.is_dir():
        functions = [d for d in built.iterdir() if d.is_dir() and d.name != "HubLayer"]
    else:
        functions = [d for d in (ROOT / "functions").iterdir() if d.is_dir()]
    largest = max(functions, key=layers.tree_size)
    print(f"Largest function artifact: {largest.name}, {layers.tree_size(largest) / 1e3:.1f} kB unzipped")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", "--cold-runs", type=int, default=5, help="cold starts per column (median)")
    parser.add_argument("--only", help="comma-separated logical ids (default: every function)")
    parser.add_argument("--source-all", action="store_true", help="the sources-only column for every function")
    parser.add_argument("--no-importtime", dest="importtime", action="store_false")
    args = parser.parse_args()

    with bench_cloud("WARNING") as cloud:
        bench = Bench(cloud, args.runs)
        specs = sorted(cloud.functions, key=lambda f: (f.logical_id not in HEADLINE, f.logical_id))
        if args.only:
            wanted = set(args.only.split(","))
            specs = [spec for spec in specs if spec.logical_id in wanted]

        print(
            f"Cold start (import + first call, tracer on), median of {args.runs}, interleaved with the floor"
            " (boto3 + one SQS call); ratio = function / floor"
        )
        print(f"  {'function':30s} {'floor':>8s} {'shipped':>9s} {'ratio':>6s} {'import':>7s}   {'sources only':>13s}")
        for spec in specs:
            with_source = args.source_all or spec.logical_id in HEADLINE
            m = bench.measure(spec, with_source)
            source = f"{m['source']:8.1f} ms {m['source'] / m['floor']:5.2f}x" if "source" in m else ""
            print(
                f"  {spec.logical_id:30s} {m['floor']:6.1f}ms {m['shipped']:7.1f}ms {m['shipped'] / m['floor']:5.2f}x"
                f" {m['import']:5.0f}ms   {source}",
                flush=True,
            )
        print()
        sizes()
        if args.importtime:
            print("\nImport time as shipped (-X importtime, one cold start): top 10 by cumulative ms (self ms)")
            for spec in specs:
                rows = bench.importtime(spec)
                print(f"  {spec.logical_id}")
                for cumulative, own, module in rows:
                    print(f"    {cumulative:7.1f} ms  ({own:6.1f})  {module.strip()}")


if __name__ == "__main__":
    main()
