"""Time until a caller gets an answer when the primary LLM provider is down.

Failure modes of the primary (Anthropic sandbox): connection refused, a hang (no answer
for 100 s), 503. The secondary (OpenAI sandbox) is healthy. Compared, on the same fakes:
* hub, breaker closed: the LlmFallbackChain state machine, as a caller runs it;
* hub, breaker open: the same after the primary's breaker opened (shared in DynamoDB);
* seed: the seed's design implemented literally (tenacity 3 attempts, waits 2-30 s,
  30 s timeout, retry on timeouts and HTTP errors, then the next provider);
* LiteLLM: Router with a fallback from the Claude deployment to the GPT one (defaults).

Run: make bench (or python -m bench.fallback). Takes several minutes: hangs are real.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import httpx
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "hub"), str(ROOT)]

from bench.common import bench_cloud  # noqa: E402
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


def hub_answer(cloud: LocalCloud) -> str:
    assert cloud.template is not None
    arn = cloud.template.resolve(cloud.template.raw["Outputs"]["LlmFallbackChainArn"]["Value"])
    sfn = boto3.client("stepfunctions", endpoint_url=cloud.aws_url, region_name="us-east-1")
    request = {"org_id": demo.DEMO_ORG_ID, "messages": PROMPT, "max_tokens": 200}
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"request": request}))
    while True:
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        if described["status"] != "RUNNING":
            break
        time.sleep(0.05)
    if described["status"] != "SUCCEEDED":
        raise RuntimeError(f"chain ended {described['status']}")
    return str(json.loads(described["output"])["provider"])


def timed(fn: Callable[[], str]) -> tuple[float, str]:
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        answered_by = fn()
    return time.perf_counter() - started, answered_by


def main() -> None:
    # the scenarios repoint the primary's secret
    with bench_cloud("ERROR", env={"SECRETS_CACHE_SECONDS": "0"}) as cloud:
        from hub.config import get_settings
        from hub.resilience.breaker import CircuitBreaker

        sandbox_anthropic = f"{cloud.sandbox_url}/anthropic"
        openai_url = f"{cloud.sandbox_url}/openai/v1"
        secrets = boto3.client("secretsmanager", endpoint_url=cloud.aws_url, region_name="us-east-1")
        breaker = CircuitBreaker(get_settings().require("resilience_table"), "anthropic")
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

        scenarios: list[tuple[str, str, dict[str, Any] | None]] = [
            ("connection refused", refused_url, None),
            ("503", sandbox_anthropic, {"mode": "error", "status": 503}),
            (f"hang ({HANG_SECONDS} s)", sandbox_anthropic, {"mode": "slow", "delay_seconds": HANG_SECONDS}),
        ]
        print("Time until the caller has an answer, primary down, secondary healthy (seconds)")
        print(
            f"  {'failure':20s} {'hub (closed)':>13s} {'hub (open)':>11s} {'seed':>9s} {'LiteLLM':>9s}"
            f"   seed/hub-closed  seed/hub-open  LiteLLM/hub-open"
        )
        for name, primary_url, spec in scenarios:
            set_primary(primary_url)
            fault(spec)
            breaker_reset = boto3.client("dynamodb", endpoint_url=cloud.aws_url, region_name="us-east-1")
            breaker_reset.delete_item(TableName=breaker.table, Key={"pk": {"S": breaker.key}})
            closed, by_closed = timed(lambda: hub_answer(cloud))
            for _ in range(5):  # the primary keeps failing: its shared breaker opens
                breaker.record_failure(probe=False)
            opened, by_open = timed(lambda: hub_answer(cloud))
            seed, by_seed = timed(functools.partial(seed_answer, primary_url, openai_url))
            router = litellm_router(primary_url, openai_url)  # built once, as a caller would
            lite, by_lite = timed(functools.partial(litellm_answer, router))
            print(
                f"  {name:20s} {closed:13.2f} {opened:11.2f} {seed:9.2f} {lite:9.2f}"
                f"   {seed / closed:15.1f}x {seed / opened:13.1f}x {lite / opened:16.1f}x"
                f"   (answered by: {by_closed}, {by_open}, {by_seed}, {by_lite})"
            )
        fault(None)


if __name__ == "__main__":
    main()
