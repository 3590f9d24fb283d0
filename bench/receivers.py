"""make bench: warm webhook receivers against a bare receiver, on the same local AWS.

p50/p99 and throughput of WebhookEvolution and WebhookStripe (verify + normalise + one SQS send
carrying the redacted archive) against a bare Powertools resolver that only enqueues, both on the same local AWS
(moto) server, at concurrency 1 / 4 / 16 (threads calling each handler in-process, the same way
for both). Hub and bare blocks alternate, each on a fresh empty queue, so neither side pays
for the other's backlog or for the machine being busier at one moment.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "hub"), str(ROOT)]

from bench.common import Ctx, bench_cloud, load, percentile  # noqa: E402

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


def timed(handler: Any, events: list[dict[str, Any]], concurrency: int) -> tuple[list[float], float]:
    """Latencies (ms) of ``events`` through ``handler`` from ``concurrency`` threads, and the
    wall time (s) of the whole block."""

    def one(event: dict[str, Any]) -> float:
        started = time.perf_counter()
        response = handler(event, Ctx())
        elapsed = (time.perf_counter() - started) * 1000
        assert response["statusCode"] == 200, response
        return elapsed

    with contextlib.redirect_stdout(io.StringIO()):  # EMF metrics and logs go to stdout
        started = time.perf_counter()
        if concurrency == 1:
            samples = [one(event) for event in events]
        else:
            with ThreadPoolExecutor(concurrency) as pool:
                samples = list(pool.map(one, events))
        wall = time.perf_counter() - started
    return samples, wall


def fresh_queue() -> None:
    """Point the hub and the bare receiver at a new, empty inbound queue: moto's SQS slows as a
    queue grows (2 ms per send empty, 19 ms at 1,000 messages) and allows one purge a minute,
    so each block gets its own queue, whichever side it measures."""
    import boto3

    from hub.config import get_settings

    sqs = boto3.client("sqs")
    old = os.environ["INBOUND_EVENTS_QUEUE_URL"]
    os.environ["INBOUND_EVENTS_QUEUE_URL"] = sqs.create_queue(QueueName=f"bench-inbound-{uuid.uuid4().hex[:12]}")[
        "QueueUrl"
    ]
    get_settings.cache_clear()
    if "/bench-inbound-" in old:
        sqs.delete_queue(QueueUrl=old)


def bare_resolver(provider: str) -> Any:
    import boto3
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

    app = APIGatewayRestResolver()
    sqs = boto3.client("sqs")

    @app.post(f"/webhooks/{provider}/<org_id>")
    def receive(org_id: str) -> dict[str, str]:
        # the queue URL is read per request, like the hub's settings, so both follow fresh_queue()
        sqs.send_message(QueueUrl=os.environ["INBOUND_EVENTS_QUEUE_URL"], MessageBody=app.current_event.body or "")
        return {"status": "accepted"}

    return lambda event, context: app.resolve(event, context)


def compare(
    hub: Any, bare: Any, make_events: Callable[[int], list[Event]], requests: int, concurrency: int, rounds: int
) -> dict[str, float]:
    """Alternate blocks of hub and bare requests (hub first in even rounds, bare first in odd
    ones), each on a fresh empty queue; the same events shape and thread count for both."""
    per_block = max(1, requests // rounds)
    hub_ms: list[float] = []
    bare_ms: list[float] = []
    hub_wall = bare_wall = 0.0
    for round_ in range(rounds):
        order = [("hub", hub), ("bare", bare)] if round_ % 2 == 0 else [("bare", bare), ("hub", hub)]
        for side, handler in order:
            events = make_events(per_block)
            fresh_queue()
            samples, wall = timed(handler, events, concurrency)
            if side == "hub":
                hub_ms += samples
                hub_wall += wall
            else:
                bare_ms += samples
                bare_wall += wall
    n = per_block * rounds
    return {
        "hub_p50": percentile(hub_ms, 50),
        "hub_p99": percentile(hub_ms, 99),
        "bare_p50": percentile(bare_ms, 50),
        "bare_p99": percentile(bare_ms, 99),
        "hub_rps": n / hub_wall,
        "bare_rps": n / bare_wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warm-requests", type=int, default=300, help="requests per side, provider and concurrency")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--rounds", type=int, default=6, help="alternating hub/bare blocks per measurement")
    parser.add_argument("--providers", nargs="+", default=["evolution", "stripe"])
    args = parser.parse_args()
    makers = {"evolution": evolution_events, "stripe": stripe_events}

    with bench_cloud("WARNING"):
        print(
            f"Warm webhook receivers, {args.warm_requests} requests per side in {args.rounds} alternating blocks"
            " (fresh queue per block), threads calling the handler in-process, same local AWS"
        )
        print(
            "  (receiver = verify + normalise + enqueue with the redacted archive, which the consumer writes to S3"
            " before processing; bare = Powertools resolver, enqueue only)"
        )
        print("  ratio = hub / bare: p50 and p99 latency; throughput as how many times lower the hub's is")
        for provider in args.providers:
            make_events = makers[provider]
            path = ROOT / "functions" / f"webhook_{provider}" / "app.py"
            hub = load(path, f"bench_webhook_{provider}").handler
            bare = bare_resolver(provider)
            for handler in (hub, bare):  # warm-up: clients, connections, caches
                timed(handler, make_events(20), 1)
            for concurrency in args.concurrency:
                r = compare(hub, bare, make_events, args.warm_requests, concurrency, args.rounds)
                name = f"webhook {provider} c={concurrency}"
                print(
                    f"  {name:24s} p50 {r['hub_p50']:6.2f} ms  p99 {r['hub_p99']:6.2f} ms  {r['hub_rps']:6.1f} req/s"
                    f" | bare p50 {r['bare_p50']:6.2f} ms  p99 {r['bare_p99']:6.2f} ms  {r['bare_rps']:6.1f} req/s"
                    f" | ratio p50 {r['hub_p50'] / r['bare_p50']:4.2f}x  p99 {r['hub_p99'] / r['bare_p99']:4.2f}x"
                    f"  throughput {r['bare_rps'] / r['hub_rps']:4.2f}x lower",
                    flush=True,
                )


if __name__ == "__main__":
    main()
