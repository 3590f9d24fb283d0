"""make bench: the console's event list (hub.eventlog.query_events) on a big org against a small
one in the same table.

Seeds ``--events`` records (100,000 by default) for one org and ``--baseline`` (1,000) for
another, spread over the last 30 days, into EventLogTable created from template.yaml's own
properties on a moto server (BatchWriteItem, 25 items a call, side by side; the items laid out
as hub.eventlog writes them). Then times the first page (limit 50) and the second page (its
cursor) for each org, median of ``--runs``, and prints the ratio big / small: the partition
layout (org and month, newest first, a Limit) should keep it near 1.

moto sorts a whole table on every Query unless the local cloud's partition patch is there
(``localcloud.aws.patch_dynamodb_partition_queries``, used when present).

``--through-api`` (what ``make bench`` runs) seeds the same records into a booted local cloud and
times what an operator's browser waits for: ``GET /console/api/events`` through the local API
Gateway, the ConsoleApi worker (warm: its first call is not counted), the session check and the
query — as ratios against the small org in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "hub"), str(ROOT)]

import boto3  # noqa: E402

from localcloud import aws as local_aws  # noqa: E402
from localcloud.aws import MotoServer, ResourceCreator  # noqa: E402
from localcloud.servers import free_port  # noqa: E402
from localcloud.template import Template  # noqa: E402

BIG, SMALL = "bench-big", "bench-small"
PROVIDERS = ("evolution", "resend", "mercadopago", "twilio")
TYPES = ("message.received", "message.status", "email.delivered", "payment.approved")


def item(org: str, at: datetime, i: int) -> dict[str, Any]:
    """One inbound record as hub.eventlog writes it (keys, index keys, attempt, TTL)."""
    from hub import eventlog

    record_id = f"{org}-{i:07d}-{uuid.uuid4().hex[:6]}"
    month, stamp = eventlog._month(at), eventlog._stamp(at)
    provider, type_ = PROVIDERS[i % len(PROVIDERS)], TYPES[i % len(TYPES)]
    status = "failed" if i % 50 == 0 else "delivered"
    attempt = eventlog.Attempt(at=at, outcome=status).model_dump_json(exclude_none=True)
    return {
        "pk": {"S": f"org#{org}#{month}"},
        "sk": {"S": f"{stamp}#{record_id}"},
        "record_id": {"S": record_id},
        "org_id": {"S": org},
        "direction": {"S": "inbound"},
        "provider": {"S": provider},
        "type": {"S": type_},
        "status": {"S": status},
        "at": {"S": at.isoformat()},
        "provider_pk": {"S": f"org#{org}#{provider}#{month}"},
        "status_pk": {"S": f"org#{org}#{status}#{month}"},
        "raw_ref": {"S": f"raw/{provider}/{org}/{record_id}.json"},
        "attempts": {"L": [{"S": attempt}]},
        "expires_at": {"N": str(int((at + eventlog.RETENTION).timestamp()))},
    }


def seed(client: Any, table: str, org: str, count: int, now: datetime) -> None:
    step = timedelta(days=30) / count
    items = [item(org, now - step * i, i) for i in range(count)]
    chunks = [items[i : i + 25] for i in range(0, len(items), 25)]

    def write(chunk: list[dict[str, Any]]) -> None:
        requests = [{"PutRequest": {"Item": it}} for it in chunk]
        while requests:
            answer = client.batch_write_item(RequestItems={table: requests})
            requests = answer.get("UnprocessedItems", {}).get(table, [])

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, chunks))


def timings(org: str, now: datetime, runs: int) -> tuple[float, float]:
    """Median seconds of the first page and of the second page (limit 50)."""
    from hub.eventlog import EventQuery, query_events

    query = EventQuery(org_id=org, end=now, limit=50)
    firsts, seconds = [], []
    for _ in range(runs):
        started = time.perf_counter()
        page = query_events(query)
        firsts.append(time.perf_counter() - started)
        assert len(page.items) == 50 and page.cursor, "the first page must be full and have a cursor"
        started = time.perf_counter()
        second = query_events(query.model_copy(update={"cursor": page.cursor}))
        seconds.append(time.perf_counter() - started)
        assert len(second.items) == 50 and not {i.record_id for i in second.items} & {i.record_id for i in page.items}
    return statistics.median(firsts), statistics.median(seconds)


def api_timings(api: str, session: str, org: str, runs: int) -> tuple[float, float]:
    """Median seconds of GET /console/api/events (first page, then its cursor), limit 50."""
    import httpx

    headers = {"Authorization": f"Bearer {session}"}
    firsts, seconds = [], []
    with httpx.Client(base_url=api, headers=headers, timeout=30) as http:
        http.get("/console/api/events", params={"org_id": org, "limit": "50"}).raise_for_status()  # warm worker
        for _ in range(runs):
            started = time.perf_counter()
            first = http.get("/console/api/events", params={"org_id": org, "limit": "50"})
            firsts.append(time.perf_counter() - started)
            first.raise_for_status()
            page = first.json()
            assert len(page["items"]) == 50 and page["cursor"], "the first page must be full and have a cursor"
            started = time.perf_counter()
            second = http.get("/console/api/events", params={"org_id": org, "limit": "50", "cursor": page["cursor"]})
            seconds.append(time.perf_counter() - started)
            second.raise_for_status()
            assert len(second.json()["items"]) == 50
    return statistics.median(firsts), statistics.median(seconds)


def through_api(args: argparse.Namespace) -> tuple[tuple[float, float], tuple[float, float], float]:
    """Boot the local cloud, seed its EventLogTable and two orgs, and time the console API."""
    import httpx

    from bench.common import bench_cloud

    with bench_cloud(serve_api=True) as cloud:
        for org in (SMALL, BIG):
            cloud.invoke("OrgCreate", {"org_id": org, "name": org, "created_by": "bench"})
        assert cloud.template is not None
        table = cloud.template.physical_name("EventLogTable")
        client = cloud.client("dynamodb")
        now = datetime.now(UTC).replace(microsecond=0)
        started = time.perf_counter()
        seed(client, table, SMALL, args.baseline, now)
        seed(client, table, BIG, args.events, now)
        seeded = time.perf_counter() - started
        login = httpx.post(f"{cloud.api_url}/console/api/session", json={"token": cloud.console_token}, timeout=30)
        login.raise_for_status()
        session = login.json()["session"]
        return (
            api_timings(cloud.api_url, session, SMALL, args.runs),
            api_timings(cloud.api_url, session, BIG, args.runs),
            seeded,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="records of the big org")
    parser.add_argument("--baseline", type=int, default=1_000, help="records of the small org")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--through-api", action="store_true", help="time GET /console/api/events of a local cloud")
    args = parser.parse_args()
    if args.through_api:
        small, big, seeded = through_api(args)
        print(f"seeded {args.events + args.baseline:,} records in {seeded:.1f} s (local cloud, partition patch)")
        report("GET /console/api/events", small, big, args)
        return

    server = MotoServer(port=free_port())
    server.start()
    patch = getattr(local_aws, "patch_dynamodb_partition_queries", None)
    if patch is not None:
        patch()
    try:
        template = Template(ROOT / "template.yaml", aws_endpoint=server.endpoint)
        ResourceCreator(template, server.endpoint).create_table(
            "EventLogTable", template.resources["EventLogTable"]["Properties"]
        )
        table = template.physical_name("EventLogTable")
        os.environ.update(
            {
                "EVENT_LOG_TABLE": table,
                "AWS_ENDPOINT_URL": server.endpoint,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
                "POWERTOOLS_LOG_LEVEL": "ERROR",
            }
        )
        client = boto3.client("dynamodb", endpoint_url=server.endpoint, region_name="us-east-1")
        now = datetime.now(UTC).replace(microsecond=0)
        started = time.perf_counter()
        seed(client, table, SMALL, args.baseline, now)
        seed(client, table, BIG, args.events, now)
        seeded = time.perf_counter() - started
        total = args.events + args.baseline
        print(f"seeded {total:,} records in {seeded:.1f} s (partition patch: {patch is not None})")
        small = timings(SMALL, now, args.runs)
        big = timings(BIG, now, args.runs)
    finally:
        server.stop()
    report("query_events, limit 50", small, big, args)


def report(title: str, small: tuple[float, float], big: tuple[float, float], args: argparse.Namespace) -> None:
    rows = [("first page", 0), ("second page", 1)]
    small_label, big_label = f"{SMALL} ({args.baseline:,})", f"{BIG} ({args.events:,})"
    print(f"\n{title:<26}{small_label:>20}{big_label:>24}{'ratio':>8}")
    for label, k in rows:
        print(f"{label:<26}{small[k] * 1000:>17.1f} ms{big[k] * 1000:>21.1f} ms{big[k] / small[k]:>8.2f}")
    print(json.dumps({"small_ms": [round(v * 1000, 1) for v in small], "big_ms": [round(v * 1000, 1) for v in big]}))


if __name__ == "__main__":
    main()
