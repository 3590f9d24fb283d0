"""Messaging: what consent + records cost on a send, and how long a notification takes to
reach the contact when channels are down.

* Warm send: p50/p99 of WhatsAppSendText (validate, consent read, Evolution call, message
  record) against the bare adapter call (EvolutionClient.send_text) on the same sandbox and
  the same local AWS: the difference is what the hub adds per message.
* Notification: seconds from NotifyContact to the chain's answer (DescribeExecution), with
  WhatsApp healthy, WhatsApp down (→ SMS), WhatsApp and SMS down (→ email), as a caller
  sees it. Down = the sandbox refuses (503), the worst case for the chain (a retry per
  channel before moving on).

Run: make bench (or python -m bench.messaging).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "hub"), str(ROOT)]

from bench.common import bench_cloud  # noqa: E402
from localcloud import LocalCloud  # noqa: E402

WARM_SENDS = 200
NOTIFY_RUNS = 5


class Context:
    function_name = "bench"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 15_000


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


def phone(i: int) -> str:
    return f"+55119{80000000 + i:08d}"


def warm_sends(cloud: LocalCloud) -> tuple[list[float], list[float]]:
    from hub.phones import to_e164
    from hub.providers.evolution.client import EvolutionClient

    assert cloud.runtime is not None
    invoke = cloud.runtime.invoke
    adapter = EvolutionClient.for_org("demo")
    assert isinstance(adapter, EvolutionClient)
    hub_ms, bare_ms = [], []
    for i in range(WARM_SENDS + 10):
        payload = {"org_id": "demo", "to": phone(i), "text": "Olá! Tudo bem?"}
        started = time.perf_counter()
        invoke("WhatsAppSendText", payload)
        elapsed = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        adapter.send_text(to_e164(phone(i)), "Olá! Tudo bem?")
        bare = (time.perf_counter() - started) * 1000
        if i >= 10:  # warm-up
            hub_ms.append(elapsed)
            bare_ms.append(bare)
    return hub_ms, bare_ms


def fault(cloud: LocalCloud, provider: str, **spec: Any) -> None:
    httpx.put(f"{cloud.sandbox_url}/__sandbox/faults/{provider}", json=spec, timeout=5).raise_for_status()


def notify_seconds(cloud: LocalCloud, runs: int) -> tuple[list[float], str]:
    assert cloud.runtime is not None
    sfn = cloud.client("stepfunctions")
    times, channel = [], ""
    for i in range(runs):
        payload = {
            "org_id": "demo",
            "notification_id": f"bench-{uuid.uuid4().hex}",
            "contact": {"name": "Maria", "phone": phone(1000 + i), "email": f"maria{i}@example.com.br"},
            "message": {"text": "Lembrete: sua reunião é amanhã às 10h.", "subject": "Lembrete"},
        }
        started = time.perf_counter()
        answer = cloud.runtime.invoke("NotifyContact", payload)
        while True:
            described = sfn.describe_execution(executionArn=answer["execution_arn"])
            if described["status"] != "RUNNING":
                break
            time.sleep(0.05)
        times.append(time.perf_counter() - started)
        if described["status"] != "SUCCEEDED":
            raise SystemExit(f"notification failed: {described}")
        channel = json.loads(described["output"])["provider"]
    return times, channel


def main() -> None:
    with bench_cloud() as cloud:
        hub_ms, bare_ms = warm_sends(cloud)
        print(f"Warm WhatsApp send, {WARM_SENDS} sends (local moto + Evolution sandbox)")
        for name, values in (("WhatsAppSendText (hub)", hub_ms), ("EvolutionClient.send_text", bare_ms)):
            print(f"  {name:28s} p50 {percentile(values, 50):6.1f} ms   p99 {percentile(values, 99):6.1f} ms")
        added = statistics.median(hub_ms) - statistics.median(bare_ms)
        print(f"  added by validation + consent + record: {added:.1f} ms at the median")

        print(f"\nNotifyContact until the chain's answer, median of {NOTIFY_RUNS}")
        scenarios: list[tuple[str, list[tuple[str, dict[str, Any]]]]] = [
            ("all healthy", []),
            ("WhatsApp down", [("evolution", {"mode": "error", "status": 503})]),
            (
                "WhatsApp + SMS down",
                [("evolution", {"mode": "error", "status": 503}), ("twilio", {"mode": "error", "status": 503})],
            ),
        ]
        for name, faults in scenarios:
            for provider, spec in faults:
                fault(cloud, provider, **spec)
            try:
                seconds, channel = notify_seconds(cloud, NOTIFY_RUNS)
            finally:
                for provider, _ in faults:
                    httpx.delete(f"{cloud.sandbox_url}/__sandbox/faults/{provider}", timeout=5)
            print(f"  {name:22s} → {channel:9s} median {statistics.median(seconds):5.2f} s   max {max(seconds):5.2f} s")


if __name__ == "__main__":
    main()
