"""Time until SearchWeb answers with the first engine of the chain down, against the healthy
chain measured in the same run, interleaved (healthy, down, healthy, down, ...), medians of
--runs (20); plus a cache hit.

* healthy: SerpApi answers (``fresh: true``: the engine is asked, not the cache).
* first engine down, two sandbox faults: ``down`` (the connection is reset, no answer) and
  ``hang`` (SerpApi takes the request and sends nothing for --hang s: the engine budget,
  SEARCH_ENGINE_TIMEOUT_SECONDS, ends the wait). The next link answers: Serper or Brave when the
  org has them, else the cache's stale entry (``stale: true``).
* cache hit: the same query without ``fresh``: no engine is called.

SerpApi's breaker is reset before each faulty run, so every run pays what the first caller
after an outage pays (once the breaker is open, later callers skip SerpApi at once).
Run: python -m bench.search_chain [--runs 20] [--hang 30]. Takes a few minutes with --hang.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

import boto3
import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "layers" / "hub") not in sys.path:
    sys.path[:0] = [str(ROOT / "layers" / "hub"), str(ROOT)]

from bench.common import bench_cloud, timed  # noqa: E402
from localcloud import LocalCloud, demo  # noqa: E402

QUERY = {"org_id": demo.DEMO_ORG_ID, "q": "produtora de vídeo institucional São Paulo", "num": 5}


def search(cloud: LocalCloud, fresh: bool) -> str:
    """Invoke SearchWeb; who answered (``serpapi``, ``cache``, ``stale cache``) or the error."""
    from localcloud.runtime import FunctionError

    try:
        result: dict[str, Any] = cloud.invoke("SearchWeb", {**QUERY, "fresh": fresh})
    except FunctionError as exc:
        return exc.error_type
    if result.get("stale"):
        return "stale cache"
    return "cache" if result.get("cached") else str(result.get("provider"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--hang", type=float, default=30.0, help="seconds the hung engine holds each request")
    args = parser.parse_args()

    with bench_cloud("ERROR") as cloud:
        from hub.config import get_settings

        ddb = boto3.client("dynamodb", endpoint_url=cloud.aws_url, region_name="us-east-1")
        table = get_settings().require("resilience_table")

        def fault(spec: dict[str, Any] | None) -> None:
            httpx.delete(f"{cloud.sandbox_url}/__sandbox/faults/serpapi")
            ddb.delete_item(TableName=table, Key={"pk": {"S": "breaker#serpapi"}})
            if spec is not None:
                httpx.put(f"{cloud.sandbox_url}/__sandbox/faults/serpapi", json=spec).raise_for_status()

        fault(None)
        search(cloud, fresh=True)  # warm the function and fill the cache
        cases: list[tuple[str, dict[str, Any]]] = [
            ("first engine down (connection reset)", {"mode": "down"}),
            (f"first engine hung ({args.hang:.0f} s)", {"mode": "slow", "delay_seconds": args.hang}),
        ]
        print(f"SearchWeb, first engine of the chain failing, medians of {args.runs} interleaved runs")
        print(f"  {'case':40s} {'healthy':>9s} {'failing':>9s}   failing/healthy   answered by (healthy / failing)")
        for name, spec in cases:
            healthy: list[float] = []
            failing: list[float] = []
            outcomes = ("", "")
            for _ in range(args.runs):
                fault(None)
                seconds, ok_by = timed(lambda: search(cloud, fresh=True))
                healthy.append(seconds)
                fault(spec)
                seconds, failed_by = timed(lambda: search(cloud, fresh=True))
                failing.append(seconds)
                outcomes = (ok_by, failed_by)
            fault(None)
            good, bad = statistics.median(healthy), statistics.median(failing)
            print(f"  {name:40s} {good:8.3f}s {bad:8.3f}s   {bad / good:14.1f}x   {outcomes[0]} / {outcomes[1]}")
        hits = [timed(lambda: search(cloud, fresh=False)) for _ in range(args.runs)]
        hit = statistics.median(seconds for seconds, _ in hits)
        print(f"  {'cache hit (no engine called)':40s} {hit:8.3f}s   answered by {hits[-1][1]}")
        settings = get_settings()
        print(
            f"  settings: SEARCH_CHAIN={settings.search_chain} "
            f"SEARCH_ENGINE_TIMEOUT_SECONDS={settings.search_engine_timeout_seconds:g}"
        )


if __name__ == "__main__":
    main()
