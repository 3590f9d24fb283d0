"""`make dev` footprint: seconds until the API answers, and resident memory after 5 functions.

Starts ``python -m localcloud dev`` on free ports exactly as ``make dev`` does, times how long
until the API port answers HTTP, invokes five different functions (Lambda endpoint and API),
then sums VmRSS (and PSS, which does not count shared pages twice) over the dev process and
its children. Linux only (reads /proc). Usage: python -m bench.dev_footprint [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from localcloud.aws import aws_client  # noqa: E402
from localcloud.servers import free_port  # noqa: E402

INVOKES = [
    ("OrgGet", {"org_id": "demo"}),
    ("WhatsAppSendText", {"org_id": "demo", "to": "(11) 98765-4321", "text": "Olá!"}),
    (
        "ContactConsentSet",
        {"org_id": "demo", "channel": "sms", "address": "11987654321", "status": "opted_in", "source": "bench"},
    ),
    ("PaymentStatus", {"org_id": "demo", "charge_id": "nope"}),
]


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            out.append(int(entry.name))
    return out


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo.extend(_children(p))
    return pids


def _kib(pid: int, path: str, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/{path}").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def one_run() -> dict[str, float]:
    ports = {name: free_port() for name in ("api", "lambda", "aws", "sandbox")}
    # Without the console's demo activity (it warms receivers, the consumer and more workers than
    # the 5 functions measured here; docs/local-development.md "Demo data").
    cmd = [sys.executable, "-m", "localcloud", "dev", "--no-schedules", "--no-demo-data"]
    cmd += [arg for name, port in ports.items() for arg in (f"--{name}-port", str(port))]
    started = time.monotonic()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    api = f"http://127.0.0.1:{ports['api']}"
    try:
        while True:
            try:
                httpx.get(f"{api}/", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None:
                    raise SystemExit("make dev exited before the API answered") from None
                time.sleep(0.05)
        startup = time.monotonic() - started
        lam = aws_client("lambda", f"http://127.0.0.1:{ports['lambda']}")
        for name, payload in INVOKES:
            lam.invoke(FunctionName=name, Payload=json.dumps(payload).encode())["Payload"].read()
        httpx.get(f"{api}/health/integrations", params={"org_id": "demo"}, timeout=30)
        pids = _tree(proc.pid)
        rss = sum(_kib(p, "status", "VmRSS") for p in pids) / 1024
        pss = sum(_kib(p, "smaps_rollup", "Pss") for p in pids) / 1024
        engine = _kib(proc.pid, "status", "VmRSS") / 1024
        log.seek(0)
        colds = [float(ms) for ms in re.findall(rb"cold start: worker \d+ ready in (\d+) ms", log.read())]
        return {
            "startup_s": startup,
            "rss_mib": rss,
            "pss_mib": pss,
            "engine_rss_mib": engine,
            "processes": len(pids),
            "cold_start_ms": statistics.median(colds) if colds else 0.0,
        }
    finally:
        log.close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    runs = [one_run() for _ in range(args.runs)]
    for run in runs:
        print(json.dumps({k: round(v, 2) for k, v in run.items()}))
    median = {k: round(statistics.median(r[k] for r in runs), 2) for k in runs[0]}
    print("median", json.dumps(median))


if __name__ == "__main__":
    main()
