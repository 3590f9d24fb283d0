"""Payments: how long a caller waits for a charge, healthy and when the primary fails.

* Asaas healthy: PaymentCreateCharge (claim, customer lookup, create, PIX QR) end to end;
* Asaas answering 503: the failover to PagBank (Asaas's retries within ≤ 2 s, then the
  lookup by our id, then PagBank) — after 5 failures Asaas's shared breaker opens and the
  failover no longer waits for Asaas at all (p50 vs p95);
* Asaas timing out although it created the charge: the lookup finds it (no second charge).
Against the local cloud's sandboxes and moto, in process. Run: make bench (python -m bench.payments).
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "hub"), str(ROOT)]

from bench.common import bench_cloud  # noqa: E402
from localcloud import LocalCloud  # noqa: E402

RUNS = 20


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


def charge() -> dict[str, Any]:
    return {
        "org_id": "demo",
        "charge_id": "B" + uuid.uuid4().hex[:20].upper(),
        "customer": {"name": "Padaria Pão Quente Ltda", "cpf_cnpj": "12345678000195"},
        "billing_type": "PIX",
        "value_cents": 350000,
        "due_date": (date.today() + timedelta(days=7)).isoformat(),
    }


def timed(cloud: LocalCloud, runs: int, before: Any = None) -> tuple[list[float], str]:
    assert cloud.runtime is not None
    times, provider = [], ""
    for _ in range(runs):
        if before is not None:
            before()
        started = time.perf_counter()
        result = cloud.runtime.invoke("PaymentCreateCharge", charge())
        times.append((time.perf_counter() - started) * 1000)
        provider = result["provider"]
    return times, provider


def reset_breakers(cloud: LocalCloud) -> None:
    """Empty the shared resilience table (breakers, counters) between scenarios."""
    assert cloud.template is not None
    table = cloud.template.env_value("RESILIENCE_TABLE")
    ddb = cloud.client("dynamodb")
    for item in ddb.scan(TableName=table).get("Items", []):
        ddb.delete_item(TableName=table, Key={k: item[k] for k in ("pk", "sk") if k in item})


def main() -> None:
    with bench_cloud(env={"HTTP_READ_TIMEOUT": "1.5"}) as cloud:  # so the timeout scenario takes seconds
        timed(cloud, 3)  # warm-up
        print(f"PaymentCreateCharge, {RUNS} charges each (local moto + sandboxes; read timeout 1.5 s)")
        rows = [("Asaas healthy", *timed(cloud, RUNS))]
        httpx.put(f"{cloud.sandbox_url}/__sandbox/faults/asaas", json={"mode": "error", "status": 503}, timeout=5)
        rows.append(("Asaas 503 -> PagBank", *timed(cloud, RUNS)))
        httpx.delete(f"{cloud.sandbox_url}/__sandbox/faults/asaas", timeout=5)
        reset_breakers(cloud)

        def slow_create() -> None:
            httpx.post(
                f"{cloud.sandbox_url}/asaas/__control/slow_create", json={"delay_seconds": 2, "times": 1}, timeout=5
            )

        rows.append(("Asaas timeout, created", *timed(cloud, 5, slow_create)))
        for name, values, provider in rows:
            print(
                f"  {name:24s} → {provider:10s} p50 {percentile(values, 50):7.1f} ms   "
                f"p95 {percentile(values, 95):7.1f} ms   mean {statistics.mean(values):7.1f} ms"
            )


if __name__ == "__main__":
    main()
