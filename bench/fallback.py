"""Time until a caller gets an answer when the primary LLM provider is down.

Failure modes of the primary (Anthropic sandbox): connection refused, 503, a hang (no answer
for HANG_SECONDS). The secondary (OpenAI sandbox) is healthy. Compared, on the same fakes,
interleaved run by run (each column measured in the same run as the others):
* hub, breaker closed: the LlmFallbackChain state machine, as a caller runs it; LlmGenerate is
  warm (one call before), the breakers are reset and every container's cached breaker state
  has expired (BREAKER_CACHE_SECONDS) before each run;
* hub, breaker open: the same after the primary's breaker opened (shared in DynamoDB), once
  LlmGenerate's containers can see it (their cache expired: the worst case, one read);
* direct (open): LlmGenerate invoked directly without a provider, breaker open: it falls back
  in-process (one breaker read plus the secondary's call, one invocation, no Step Functions);
* seed: the seed's design implemented literally (tenacity 3 attempts, waits 2-30 s,
  30 s timeout, retry on timeouts and HTTP errors, then the next provider);
* LiteLLM: Router with a fallback from the Claude deployment to the GPT one (defaults).
Medians of --runs runs for refused and 503; the hang row runs once (--hang-runs).
"where": the hub's median time inside the primary's task and the secondary's task.

Run: make bench (or python -m bench.fallback [--runs 5] [--no-hang]). Several minutes: hangs
are real.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import os
import socket
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import httpx
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "hub"), str(ROOT)]

from bench.common import bench_cloud, run_chain  # noqa: E402
from localcloud import LocalCloud, demo  # noqa: E402
from localcloud.sandboxes import anthropic as anthropic_sandbox  # noqa: E402
from localcloud.sandboxes import openai as openai_sandbox  # noqa: E402

PROMPT = [{"role": "user", "content": "Resuma o pedido de orçamento da Maria em uma frase."}]
HANG_SECONDS = 100


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed when the with-block ends: connections are refused


class SeedIntegration:
    """The seed's BaseIntegration + §10 retry config, literally (sync instead of async)."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=30, headers=headers)

    @retry(
        stop=stop_after_attempt(3),
        wait=wait_exponential(multiplier=1, min=2, max=30),
        retry=retry_if_exception_type((httpx.TimeoutException, httpx.HTTPStatusError)),
        reraise=True,
    )
    def _request(self, method: str, endpoint: str, **kwargs: Any) -> Any:
        response = self.client.request(method, endpoint, **kwargs)
        response.raise_for_status()
        return response.json()


def seed_answer(anthropic_url: str, openai_url: str) -> str:
    claude = SeedIntegration(
        anthropic_url, {"x-api-key": anthropic_sandbox.DEMO_API_KEY, "anthropic-version": "2023-06-01"}
    )
    gpt = SeedIntegration(openai_url, {"Authorization": f"Bearer {openai_sandbox.DEMO_API_KEY}"})
    try:
        claude._request(
            "POST", "/v1/messages", json={"model": "claude-sonnet-5-5", "max_tokens": 200, "messages": PROMPT}
        )
        return "anthropic"
    except Exception:
        gpt._request("POST", "/chat/completions", json={"model": "gpt-6.2-sol", "messages": PROMPT})
        return "openai"


def litellm_router(anthropic_url: str, openai_url: str) -> Any:
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # no network here; don't count its fetch
    from litellm import Router

    return Router(
        model_list=[
            {
                "model_name": "claude",
                "litellm_params": {
                    "model": "anthropic/claude-sonnet-5-5",
                    "api_base": anthropic_url,
                    "api_key": anthropic_sandbox.DEMO_API_KEY,
                },
            },
            {
                "model_name": "gpt",
                "litellm_params": {
                    "model": "openai/gpt-6.2-sol",
                    "api_base": openai_url,
                    "api_key": openai_sandbox.DEMO_API_KEY,
                },
            },
        ],
        fallbacks=[{"claude": ["gpt"]}],
    )


def litellm_answer(router: Any) -> str:
    response = router.completion(model="claude", messages=PROMPT, max_tokens=200)
    return "openai" if "gpt" in str(getattr(response, "model", "")) else "anthropic"


GOALS = {"connection refused": (1.0, 0.2), "503": (1.0, 0.2), "hang": (10.0, 0.2)}  # issue 15: closed, open


def hub_answer(cloud: LocalCloud, where: dict[str, list[float]] | None = None) -> str:
    """Run the chain as a caller does; ``where`` collects the seconds spent in each Try_ task."""
    request = {"org_id": demo.DEMO_ORG_ID, "messages": PROMPT, "max_tokens": 200}
    described, sfn = run_chain(cloud, "LlmFallbackChain", request)
    if where is not None:
        history = sfn.get_execution_history(executionArn=described["executionArn"])["events"]
        entered: dict[str, datetime] = {}
        for event in history:
            if "stateEnteredEventDetails" in event:
                entered[event["stateEnteredEventDetails"]["name"]] = event["timestamp"]
            elif "stateExitedEventDetails" in event:
                name = event["stateExitedEventDetails"]["name"]
                if name.startswith("Try_") and name in entered:
                    where.setdefault(name, []).append((event["timestamp"] - entered[name]).total_seconds())
            elif event["type"] == "TaskFailed" and entered:
                name = max(entered, key=lambda n: entered[n])  # a caught failure exits no state
                if name.startswith("Try_"):
                    where.setdefault(name, []).append((event["timestamp"] - entered[name]).total_seconds())
    return str(json.loads(described["output"])["provider"])


def timed(fn: Callable[[], str]) -> tuple[float, str]:
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        answered_by = fn()
    return time.perf_counter() - started, answered_by


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="runs of the refused and 503 rows (median)")
    parser.add_argument("--hang-runs", type=int, default=1, help="runs of the hang row")
    parser.add_argument("--no-hang", action="store_true", help="skip the hang row (minutes)")
    args = parser.parse_args()
    # the scenarios repoint the primary's secret
    with bench_cloud("ERROR", env={"SECRETS_CACHE_SECONDS": "0"}) as cloud:
        from hub.config import get_settings
        from hub.resilience.breaker import CircuitBreaker

        settings = get_settings()
        # how long a container may act on what it last saw of a breaker (0 before the cache)
        breaker_cache = float(getattr(settings, "breaker_cache_seconds", 0.0))
        sandbox_anthropic = f"{cloud.sandbox_url}/anthropic"
        openai_url = f"{cloud.sandbox_url}/openai/v1"
        secrets = boto3.client("secretsmanager", endpoint_url=cloud.aws_url, region_name="us-east-1")
        ddb = boto3.client("dynamodb", endpoint_url=cloud.aws_url, region_name="us-east-1")
        table = settings.require("resilience_table")
        breaker = CircuitBreaker(table, "anthropic")  # this process: no cache, straight to DynamoDB
        refused_url = f"http://127.0.0.1:{closed_port()}"

        def set_primary(url: str) -> None:
            secrets.put_secret_value(
                SecretId="hub/demo/anthropic",
                SecretString=json.dumps({"base_url": url, "api_key": anthropic_sandbox.DEMO_API_KEY}),
            )

        def fault(spec: dict[str, Any] | None) -> None:
            if spec is None:
                httpx.delete(f"{cloud.sandbox_url}/__sandbox/faults/anthropic")
            else:
                httpx.put(f"{cloud.sandbox_url}/__sandbox/faults/anthropic", json=spec).raise_for_status()

        def seen_by_every_container() -> None:
            time.sleep(breaker_cache + 0.05)  # a change is seen once cached states expired

        def reset_breakers() -> None:
            for provider in ("anthropic", "openai"):
                ddb.delete_item(TableName=table, Key={"pk": {"S": f"breaker#{provider}"}})
            seen_by_every_container()

        def warm() -> None:
            request = {"org_id": demo.DEMO_ORG_ID, "messages": PROMPT, "max_tokens": 200, "provider": "openai"}
            cloud.invoke("LlmGenerate", request)

        def hub_closed(where: dict[str, list[float]]) -> tuple[float, str]:
            reset_breakers()
            warm()
            return timed(lambda: hub_answer(cloud, where))

        def open_primary_breaker() -> None:
            reset_breakers()
            for _ in range(breaker.policy.failure_threshold):  # the primary kept failing: its breaker opens
                breaker.record_failure(probe=False)
            seen_by_every_container()
            warm()

        def hub_open(where: dict[str, list[float]]) -> tuple[float, str]:
            open_primary_breaker()
            return timed(lambda: hub_answer(cloud, where))

        def direct_open() -> tuple[float, str]:
            """LlmGenerate invoked directly, no provider named: it falls back in-process (one
            invocation, no Step Functions)."""
            open_primary_breaker()
            request = {"org_id": demo.DEMO_ORG_ID, "messages": PROMPT, "max_tokens": 200}
            return timed(lambda: str(cloud.invoke("LlmGenerate", request)["provider"]))

        scenarios: list[tuple[str, str, dict[str, Any] | None, int]] = [
            ("healthy (the floor)", sandbox_anthropic, None, args.runs),  # the chain itself: what no failover beats
            ("connection refused", refused_url, None, args.runs),
            ("503", sandbox_anthropic, {"mode": "error", "status": 503}, args.runs),
        ]
        if not args.no_hang:
            hang = {"mode": "slow", "delay_seconds": HANG_SECONDS}
            scenarios.append(("hang", sandbox_anthropic, hang, args.hang_runs))
        set_primary(sandbox_anthropic)
        warm()
        hub_answer(cloud)  # the first execution warms the local Step Functions and LlmGenerate
        print("Time until the caller has an answer, primary down, secondary healthy (seconds, median)")
        print(f"  breaker cache {breaker_cache:g} s; hang = no answer for {HANG_SECONDS} s")
        print(
            f"  {'failure':20s} {'hub (closed)':>13s} {'hub (open)':>11s} {'direct (open)':>13s} {'seed':>9s}"
            f" {'LiteLLM':>9s}"
            f"   {'goal closed/open':>16s}   seed/hub-closed  LiteLLM/hub-closed  LiteLLM/hub-open   where"
        )
        for name, primary_url, spec, runs in scenarios:
            set_primary(primary_url)
            fault(spec)
            router = litellm_router(primary_url, openai_url)  # built once, as a caller would
            columns: dict[str, list[float]] = {"closed": [], "open": [], "direct": [], "seed": [], "lite": []}
            answered: dict[str, set[str]] = {column: set() for column in columns}
            where_closed: dict[str, list[float]] = {}
            where_open: dict[str, list[float]] = {}
            healthy = name not in GOALS
            for _ in range(runs):  # the columns interleaved, run by run
                for column, run in (
                    ("closed", functools.partial(hub_closed, where_closed)),
                    ("open", functools.partial(hub_open, where_open)),
                    ("direct", direct_open),
                    ("seed", functools.partial(timed, functools.partial(seed_answer, primary_url, openai_url))),
                    ("lite", functools.partial(timed, functools.partial(litellm_answer, router))),
                ):
                    if healthy and column in ("open", "direct"):
                        continue
                    seconds, by = run()
                    columns[column].append(seconds)
                    answered[column].add(by)
            med = {column: statistics.median(values) if values else float("nan") for column, values in columns.items()}
            goal = f"<= {GOALS[name][0]:g} / {GOALS[name][1]:g}" if name in GOALS else "(baseline)"

            def split(where: dict[str, list[float]]) -> str:
                return "+".join(
                    f"{statistics.median(where.get(t, [0.0])):.2f}" for t in ("Try_anthropic", "Try_openai")
                )

            opened = "-" if healthy else f"{med['open']:.2f}"
            direct = "-" if healthy else f"{med['direct']:.2f}"
            print(
                f"  {name:20s} {med['closed']:13.2f} {opened:>11s} {direct:>13s} {med['seed']:9.2f} {med['lite']:9.2f}"
                f"   {goal:>16s}"
                f"   {med['seed'] / med['closed']:14.1f}x {med['lite'] / med['closed']:18.1f}x"
                f" {'-' if healthy else format(med['lite'] / med['open'], '.1f') + 'x':>17s}"
                f"   closed {split(where_closed)}, open {split(where_open)}"
                f"   (answered by: {', '.join('/'.join(sorted(answered[c])) for c in columns)};"
                f" closed runs {', '.join(f'{v:.2f}' for v in columns['closed'])};"
                f" open runs {', '.join(f'{v:.2f}' for v in columns['open'])})"
            )
        fault(None)
        reset_breakers()


if __name__ == "__main__":
    main()
