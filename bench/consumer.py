"""make bench: the inbound queue's consumer against a bare consumer, on the same local AWS.

Drains inbound events (WhatsApp messages as WebhookEvolution enqueues them: the event plus
the archive document its message carries) through InboundEventsProcess, in-process, in SQS
batches of 10 — the way Lambda's SQS mapping hands them over: receive 10, invoke, delete what
succeeded — against a bare consumer that only receives, puts the 10 events on the bus in one
PutEvents and deletes them. Both drain the same messages from fresh queues, in alternating
blocks, one poller each; AWS calls are counted per side.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "hub"), str(ROOT)]

from bench.common import Ctx, bench_cloud, load  # noqa: E402

CALLS: Counter[str] = Counter()
_side = {"name": ""}


def _count(event_name: str, **_: Any) -> None:
    # before-call.<service>.<Operation>
    if _side["name"]:
        CALLS[f"{_side['name']} {event_name.split('.', 1)[1]}"] += 1


def _latency(seconds: float) -> Any:
    def wait(**_: Any) -> None:
        # A round trip to AWS: the GIL is released, so calls made side by side overlap.
        time.sleep(seconds)

    return wait


def messages(n: int, carry_archive: bool = True) -> list[dict[str, Any]]:
    """``n`` queue messages exactly as the Evolution receiver sends them (fresh message id and
    sender each, so every event is new and touches its own contact); without ``carry_archive``
    as it sends a request it archived itself (claim check: too large to carry)."""
    from hub.jsonmoney import loads_json
    from hub.webhooks.archive import archive_document, archive_key
    from hub.webhooks.models import RawWebhook
    from hub.webhooks.publish import _message
    from hub.webhooks.specs import webhook_spec

    spec = webhook_spec("evolution")
    sample = json.loads((ROOT / "events" / "webhook_evolution.json").read_text(encoding="utf-8"))
    out = []
    for _ in range(n):
        body = json.loads(sample["body"])
        body["data"]["key"]["id"] = uuid.uuid4().hex.upper()
        body["data"]["key"]["remoteJid"] = f"55119{random.randrange(10**8):08d}@s.whatsapp.net"
        request = RawWebhook.from_api_gateway(
            {**sample, "body": json.dumps(body, ensure_ascii=False)},
            provider="evolution",
            org_id="demo",
            received_at=datetime.now(UTC),
        )
        key = archive_key(request)
        [event] = spec.normalise(
            loads_json(request.body), org_id="demo", received_at=request.received_at, raw_ref=key, request=request
        )
        carried = (key, archive_document(request)) if carry_archive else None
        out.append(_message(event.model_dump(mode="json"), carried))
    return out


def fresh_queue(sqs: Any, batch: list[dict[str, Any]]) -> str:
    url: str = sqs.create_queue(QueueName=f"bench-consumer-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    for i in range(0, len(batch), 10):
        entries = [{"Id": str(k), **m} for k, m in enumerate(batch[i : i + 10])]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    return url


def drain(sqs: Any, url: str, consume: Any) -> tuple[float, int]:
    """Receive 10, ``consume(messages)`` → ids that failed, delete the rest; until empty.
    Returns the wall time and how many messages were deleted."""
    done = 0
    started = time.perf_counter()
    while True:
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=300,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            return time.perf_counter() - started, done
        failed = consume(url, batch)
        entries = [
            {"Id": str(k), "ReceiptHandle": m["ReceiptHandle"]}
            for k, m in enumerate(batch)
            if m["MessageId"] not in failed
        ]
        if entries:
            sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        done += len(entries)


def hub_consumer(sqs: Any) -> Any:
    from localcloud.sqs_poller import lambda_message_attributes

    handler = load(ROOT / "functions" / "inbound_events_process" / "app.py", "bench_inbound").handler
    arns: dict[str, str] = {}

    def consume(url: str, batch: list[dict[str, Any]]) -> set[str]:
        if url not in arns:
            arns[url] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        event = {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": lambda_message_attributes(m.get("MessageAttributes") or {}),
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": arns[url],
                    "awsRegion": "us-east-1",
                }
                for m in batch
            ]
        }
        result = handler(event, Ctx())
        return {f["itemIdentifier"] for f in result["batchItemFailures"]}

    return consume


def bare_consumer(events: Any, bus: str) -> Any:
    def consume(url: str, batch: list[dict[str, Any]]) -> set[str]:
        entries = []
        for m in batch:
            body = json.loads(m["Body"])
            entries.append({"Source": "bench", "DetailType": body["type"], "Detail": m["Body"], "EventBusName": bus})
        events.put_events(Entries=entries)
        return set()

    return consume


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1000, help="events drained per side")
    parser.add_argument("--rounds", type=int, default=2, help="alternating hub/bare blocks")
    parser.add_argument(
        "--archived-by-receiver",
        action="store_true",
        help="messages without the archive document (the receiver wrote it): the consumer's own cost",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="add this round trip to every AWS call of both sides (in-process moto has none; AWS does)",
    )
    args = parser.parse_args()

    import boto3

    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("before-call", _count)
    if args.latency_ms > 0:
        boto3.DEFAULT_SESSION.events.register("before-send", _latency(args.latency_ms / 1000))

    with bench_cloud("WARNING"):
        sqs, events = boto3.client("sqs"), boto3.client("events")
        hub, bare = hub_consumer(sqs), bare_consumer(events, os.environ["EVENT_BUS_NAME"])
        per_block = args.events // args.rounds
        print(
            f"SQS consumer: {per_block * args.rounds} inbound events per side in {args.rounds} alternating blocks"
            " (fresh queue each), batches of 10, one poller, same local AWS"
        )
        print("  (hub = InboundEventsProcess: archive + claim + contact + PutEvents + delivery mark;")
        print("   bare = receive + one PutEvents per 10 + delete)")
        if args.latency_ms > 0:
            print(f"  + {args.latency_ms:g} ms added to every AWS call of both sides")
        with contextlib.redirect_stdout(io.StringIO()):
            fresh_drain = fresh_queue(sqs, messages(20))
            drain(sqs, fresh_drain, hub)  # warm-up: clients, caches
        walls = {"hub": 0.0, "bare": 0.0}
        counts = {"hub": 0, "bare": 0}
        for round_ in range(args.rounds):
            batch = messages(per_block, carry_archive=not args.archived_by_receiver)
            order = [("hub", hub), ("bare", bare)] if round_ % 2 == 0 else [("bare", bare), ("hub", hub)]
            for side, consume in order:
                url = fresh_queue(sqs, batch)
                _side["name"] = side
                with contextlib.redirect_stdout(io.StringIO()):
                    wall, done = drain(sqs, url, consume)
                _side["name"] = ""
                walls[side] += wall
                counts[side] += done
                sqs.delete_queue(QueueUrl=url)
        for side in ("hub", "bare"):
            rate = counts[side] / walls[side]
            calls = {k.split(" ", 1)[1]: v for k, v in CALLS.items() if k.startswith(side + " ")}
            per10 = ", ".join(f"{op} {n * 10 / counts[side]:.1f}" for op, n in sorted(calls.items()))
            print(f"  {side:5s} {counts[side]:5d} events in {walls[side]:6.2f} s  {rate:7.1f} events/s")
            print(f"        AWS calls per 10 events: {per10}")
        print(f"  ratio hub / bare time: {walls['hub'] / counts['hub'] / (walls['bare'] / counts['bare']):.2f}x")


if __name__ == "__main__":
    main()
