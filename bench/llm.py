"""Added latency of LlmGenerate over a direct provider call, and against litellm.completion,
all on the same fake Anthropic server (the local sandbox), warm.

LlmGenerate does: validate, budget check, breaker, rate limits, the call, pricing, spend
counters (DynamoDB on the local moto server), idempotency off (no key).
Run: python -m bench.llm (part of make bench).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "hub"), str(ROOT)]

from bench.common import (  # noqa: E402
    Ctx,
    bench_cloud,
    percentile,
)
from localcloud import demo  # noqa: E402
from localcloud.sandboxes import anthropic as anthropic_sandbox  # noqa: E402

MESSAGES = [{"role": "user", "content": "Escreva uma saudação curta para a Maria."}]
N = 200


def measure(fn: Callable[[], Any], n: int) -> list[float]:
    for _ in range(20):
        fn()
    samples = []
    with contextlib.redirect_stdout(io.StringIO()):
        for _ in range(n):
            started = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    with bench_cloud("ERROR") as cloud:
        os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
        base = f"{cloud.sandbox_url}/anthropic"
        body = {"model": "claude-sonnet-5-5", "max_tokens": 200, "messages": MESSAGES}
        headers = {"x-api-key": anthropic_sandbox.DEMO_API_KEY, "anthropic-version": "2023-06-01"}
        http = httpx.Client()

        def direct() -> None:
            http.post(f"{base}/v1/messages", json=body, headers=headers).raise_for_status()

        spec = importlib.util.spec_from_file_location("bench_llm_generate", ROOT / "functions/llm_generate/app.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        event = {"org_id": demo.DEMO_ORG_ID, "provider": "anthropic", "messages": MESSAGES, "max_tokens": 200}

        def hub() -> None:
            module.handler(event, Ctx())

        import litellm

        def lite() -> None:
            litellm.completion(
                model="anthropic/claude-sonnet-5-5",
                messages=MESSAGES,
                max_tokens=200,
                api_base=base,
                api_key=anthropic_sandbox.DEMO_API_KEY,
            )

        results = {
            name: measure(fn, N)
            for name, fn in (("direct httpx call", direct), ("LlmGenerate", hub), ("litellm.completion", lite))
        }
        base_p50 = percentile(results["direct httpx call"], 50)
        print(f"LLM call latency, warm, {N} calls each, same fake Anthropic server (ms)")
        for name, samples in results.items():
            p50, p99 = percentile(samples, 50), percentile(samples, 99)
            added = f"added over direct: p50 {p50 - base_p50:+7.2f}  ({p50 / base_p50:4.1f}x)"
            print(f"  {name:20s} p50 {p50:7.2f}  p99 {p99:7.2f}   {added}")
        hub50, lite50 = percentile(results["LlmGenerate"], 50), percentile(results["litellm.completion"], 50)
        print(f"  LlmGenerate / litellm.completion p50: {hub50 / lite50:.2f}x")


if __name__ == "__main__":
    main()
