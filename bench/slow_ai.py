"""Time until LlmGenerate / ImageGenerate / EmbeddingsCreate answer when the primary AI provider
hangs (takes the request, sends nothing for 30 s), against the same with a healthy primary,
measured in the same run, interleaved (healthy, hung, healthy, hung, ...), medians of --runs.

* LlmGenerate: the LlmFallbackChain state machine (Anthropic -> OpenAI -> Gemini), as a caller
  runs it; and LlmGenerate invoked directly without a provider (its in-function fallback).
* ImageGenerate: the ImageFallbackChain (OpenAI GPT Image -> Replicate Flux); and direct calls,
  OpenAI (until it gives up) then Replicate, as the chain does once a first-byte timeout goes
  straight to the next provider (the chain's same-provider retry is wt-failover's change).
* EmbeddingsCreate: direct (it has one provider, OpenAI, and no chain): the time until the caller
  holds an answer, here the ProviderUnavailableError its own fallback acts on.

The primary's breaker is reset before each hung run (closed: the first-byte clock is measured,
not the breaker). Run: python -m bench.slow_ai [--runs 3] [--hang 30]. Takes a few minutes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "layers" / "hub") not in sys.path:
    sys.path[:0] = [str(ROOT / "layers" / "hub"), str(ROOT)]

from bench.common import bench_cloud, run_chain, timed  # noqa: E402
from localcloud import LocalCloud, demo  # noqa: E402

MESSAGES = [{"role": "user", "content": "Resuma o pedido de orçamento da Maria em uma frase."}]
LLM = {"org_id": demo.DEMO_ORG_ID, "messages": MESSAGES, "max_tokens": 200}
IMAGE = {"org_id": demo.DEMO_ORG_ID, "prompt": "um logo azul para uma gráfica", "size": "1024x1024"}
EMBED = {"org_id": demo.DEMO_ORG_ID, "texts": ["Maria pediu 40 convites.", "Entrega em 10 dias."]}


def chain_answer(cloud: LocalCloud, chain: str, request: dict[str, Any]) -> str:
    """The provider that answered the chain."""
    described, _ = run_chain(cloud, chain, request)
    return str(json.loads(described["output"])["provider"])


def invoke(cloud: LocalCloud, function: str, event: dict[str, Any]) -> str:
    """Invoke a function; the provider that answered, or the error type it raised."""
    from localcloud.runtime import FunctionError

    try:
        return str(cloud.invoke(function, event).get("provider"))
    except FunctionError as exc:
        return exc.error_type


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--hang", type=float, default=30.0, help="seconds the primary holds each request")
    args = parser.parse_args()

    with bench_cloud("ERROR") as cloud:
        from hub.config import get_settings

        ddb = boto3.client("dynamodb", endpoint_url=cloud.aws_url, region_name="us-east-1")
        table = get_settings().require("resilience_table")

        def hang(provider: str | None) -> None:
            for key in ("anthropic", "openai"):
                httpx.delete(f"{cloud.sandbox_url}/__sandbox/faults/{key}")
                ddb.delete_item(TableName=table, Key={"pk": {"S": f"breaker#{key}"}})
            if provider is not None:
                spec = {"mode": "slow", "delay_seconds": args.hang}
                httpx.put(f"{cloud.sandbox_url}/__sandbox/faults/{provider}", json=spec).raise_for_status()

        def image_direct() -> str:
            first = invoke(cloud, "ImageGenerate", {**IMAGE, "provider": "openai"})
            if first == "openai":
                return first
            return invoke(cloud, "ImageGenerate", {**IMAGE, "provider": "replicate"})

        cases: list[tuple[str, str, Callable[[], str]]] = [
            ("LlmGenerate, LlmFallbackChain", "anthropic", lambda: chain_answer(cloud, "LlmFallbackChain", LLM)),
            ("LlmGenerate, direct (in-function fallback)", "anthropic", lambda: invoke(cloud, "LlmGenerate", LLM)),
            ("ImageGenerate, ImageFallbackChain", "openai", lambda: chain_answer(cloud, "ImageFallbackChain", IMAGE)),
            ("ImageGenerate, direct openai then replicate", "openai", image_direct),
            (
                "EmbeddingsCreate, direct (no second provider)",
                "openai",
                lambda: invoke(cloud, "EmbeddingsCreate", EMBED),
            ),
        ]
        # Warm every function (and each chain's path) before measuring.
        hang(None)
        for _, _, case in cases:
            case()

        print(f"A slow AI provider (holds each request {args.hang:.0f} s), medians of {args.runs} interleaved runs")
        print(f"  {'operation':48s} {'healthy':>9s} {'hung':>9s}   hung/healthy   answered by (healthy / hung)")
        for name, primary, case in cases:
            healthy: list[float] = []
            hung: list[float] = []
            outcomes: tuple[str, str] = ("", "")
            for _ in range(args.runs):
                hang(None)
                seconds, ok_by = timed(case)
                healthy.append(seconds)
                hang(primary)
                seconds, hung_by = timed(case)
                hung.append(seconds)
                outcomes = (ok_by, hung_by)
            hang(None)
            good, bad = statistics.median(healthy), statistics.median(hung)
            print(
                f"  {name:48s} {good:8.2f}s {bad:8.2f}s   {bad / good:10.1f}x   {outcomes[0]} / {outcomes[1]}"
                f"   (hung runs: {', '.join(f'{s:.1f}' for s in hung)})"
            )
        settings = get_settings()
        names = (
            "llm_first_byte_timeout",
            "image_first_byte_timeout",
            "embeddings_read_timeout",
            "ai_stream_idle_timeout",
        )
        print("  settings: " + " ".join(f"{n.upper()}={getattr(settings, n, 'n/a')}" for n in names))


if __name__ == "__main__":
    main()
