"""make bench: cold-start init per function and warm webhook receiver latency.

* Cold start: each function in a fresh process (import + first call with its events/ sample),
  against a floor handler that only imports boto3 and creates an SQS client. Ratio = fn / floor.
* Warm receiver: p50/p99 of WebhookEvolution (verify + archive + dedupe + enqueue) against a
  bare Powertools resolver that only enqueues, both on the same local AWS (moto) server.

Everything runs against the local cloud on free ports; no network, no Docker.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "hub"), str(ROOT)]

from bench.common import bench_cloud  # noqa: E402


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


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


class Ctx:
    function_name = "WebhookEvolution"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:WebhookEvolution"
    memory_limit_in_mb = 256
    aws_request_id = "bench"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def load(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


Event = dict[str, Any]


def _sample_copies(provider: str, n: int, vary: Callable[[Event, dict[str, Any]], Event]) -> list[Event]:
    """``n`` copies of ``events/webhook_<provider>.json``: ``vary(sample, body)`` gives each copy
    from the sample's parsed body (a fresh delivery id, a signature)."""
    sample = json.loads((ROOT / "events" / f"webhook_{provider}.json").read_text(encoding="utf-8"))
    return [vary(sample, json.loads(sample["body"])) for _ in range(n)]


def evolution_events(n: int) -> list[dict[str, Any]]:
    def vary(sample: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        body["data"]["key"]["id"] = uuid.uuid4().hex.upper()
        return {**sample, "body": json.dumps(body, ensure_ascii=False)}

    return _sample_copies("evolution", n, vary)


def stripe_events(n: int) -> list[dict[str, Any]]:
    import stripe

    from localcloud.sandboxes.stripe import DEMO_WEBHOOK_SECRET as STRIPE_WEBHOOK_SECRET

    def vary(sample: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        body["id"] = f"evt_bench_{uuid.uuid4().hex}"
        raw = json.dumps(body)
        header = stripe.WebhookSignature.generate_signature_header(raw, STRIPE_WEBHOOK_SECRET)
        return {**sample, "body": raw, "headers": {**sample["headers"], "Stripe-Signature": header}}

    return _sample_copies("stripe", n, vary)


def timed(handler: Any, events: list[dict[str, Any]]) -> list[float]:
    samples = []
    with contextlib.redirect_stdout(io.StringIO()):  # EMF metrics and logs go to stdout
        for event in events:
            started = time.perf_counter()
            response = handler(event, Ctx())
            samples.append((time.perf_counter() - started) * 1000)
            assert response["statusCode"] == 200, response
    return samples


def bare_resolver(provider: str) -> Any:
    import boto3
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

    app = APIGatewayRestResolver()
    sqs = boto3.client("sqs")
    queue_url = os.environ["INBOUND_EVENTS_QUEUE_URL"]

    @app.post(f"/webhooks/{provider}/<org_id>")
    def receive(org_id: str) -> dict[str, str]:
        sqs.send_message(QueueUrl=queue_url, MessageBody=app.current_event.body or "")
        return {"status": "accepted"}

    return lambda event, context: app.resolve(event, context)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--warm-requests", type=int, default=300)
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

        print(f"\nWarm webhook receivers, {args.warm_requests} requests each (after 20 warm-up), same local AWS")
        print("  (receiver = verify + archive to S3 + dedupe in DynamoDB + enqueue; bare = enqueue only)")
        for provider, make_events in (("evolution", evolution_events), ("stripe", stripe_events)):
            path = ROOT / "functions" / f"webhook_{provider}" / "app.py"
            hub = load(path, f"bench_webhook_{provider}").handler
            bare = bare_resolver(provider)
            for handler in (hub, bare):
                timed(handler, make_events(20))
            hub_ms = timed(hub, make_events(args.warm_requests))
            bare_ms = timed(bare, make_events(args.warm_requests))
            name = f"webhook {provider}"
            print(
                f"  {name:20s} p50 {percentile(hub_ms, 50):6.2f} ms  p99 {percentile(hub_ms, 99):6.2f} ms"
                f" | bare p50 {percentile(bare_ms, 50):6.2f} ms  p99 {percentile(bare_ms, 99):6.2f} ms"
                f" | ratio p50 {percentile(hub_ms, 50) / percentile(bare_ms, 50):5.2f}x"
                f"  p99 {percentile(hub_ms, 99) / percentile(bare_ms, 99):5.2f}x"
            )


if __name__ == "__main__":
    main()
