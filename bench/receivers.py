"""make bench: warm webhook receivers against a bare receiver, on the same local AWS.

p50/p99 of WebhookEvolution and WebhookStripe (verify + archive + dedupe + enqueue) against a
bare Powertools resolver that only enqueues, both on the same local AWS (moto) server.
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
    parser.add_argument("--warm-requests", type=int, default=300)
    args = parser.parse_args()

    with bench_cloud("WARNING"):
        print(f"Warm webhook receivers, {args.warm_requests} requests each (after 20 warm-up), same local AWS")
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
