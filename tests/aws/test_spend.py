"""AI spend per org: exact under concurrency, budget events once per month, hard stop, report."""

from __future__ import annotations

import io
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import respx

from hub.ai.spend import Budget, check_budget, month_total_nano, record_spend, set_budget, usage_report
from hub.brasilia import brasilia_today
from hub.errors import InvalidRequestError
from hub.observability import logger
from tests.aws.conftest import HubAws
from tests.helpers import FakeLambdaContext, load_function

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_fifty_concurrent_calls_add_up_exactly(hub_aws: HubAws) -> None:
    barrier = threading.Barrier(50)

    def spend(i: int) -> None:
        barrier.wait()
        record_spend(
            "acme",
            "anthropic",
            "claude-sonnet-5-5",
            input_tokens=1000 + i,
            output_tokens=500,
            cost_usd=Decimal("0.012345"),
            now=NOW,
        )

    with ThreadPoolExecutor(max_workers=50) as pool:
        list(pool.map(spend, range(50)))
    assert month_total_nano("acme", "2026-11") == 50 * 12_345_000
    report = usage_report("acme", date(2026, 11, 1), date(2026, 11, 30))
    [line] = report.lines
    assert (line.calls, line.input_tokens, line.output_tokens) == (50, 50 * 1000 + sum(range(50)), 25_000)
    assert line.cost_usd == Decimal("0.617250000")
    assert report.total_brl == (Decimal("0.61725") * report.usd_brl_rate).quantize(Decimal("0.01"))


def test_budget_events_fire_once_each_under_concurrency(hub_aws: HubAws) -> None:
    url = hub_aws.bus_tap("budget-tap", {"detail-type": ["budget.threshold"]})
    set_budget("acme", Budget(monthly_usd=Decimal("1.00")))
    barrier = threading.Barrier(30)

    def spend(_: int) -> None:  # 30 x $0.05 = $1.50: crosses 80 %, 100 % and 120 %
        barrier.wait()
        record_spend("acme", "openai", "gpt-6-luna", input_tokens=1, output_tokens=1, cost_usd=Decimal("0.05"), now=NOW)

    with ThreadPoolExecutor(max_workers=30) as pool:
        list(pool.map(spend, range(30)))
    messages = []
    while batch := hub_aws.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        messages += batch
        for m in batch:
            hub_aws.client("sqs").delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    thresholds = sorted(json.loads(m["Body"])["detail"]["threshold_percent"] for m in messages)
    assert thresholds == [80, 100, 120]


def test_hard_stop_refuses_calls_once_the_budget_is_spent(hub_aws: HubAws) -> None:
    set_budget("acme", Budget(monthly_usd=Decimal("0.10"), hard_stop=True))
    check_budget("acme", now=NOW)  # nothing spent yet
    record_spend("acme", "openai", "gpt-6-luna", input_tokens=1, output_tokens=1, cost_usd=Decimal("0.10"), now=NOW)
    with pytest.raises(InvalidRequestError) as info:
        check_budget("acme", now=NOW)
    assert info.value.code == "budget_exhausted"


ANSWER = {
    "id": "msg_01",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-5-5",
    "content": [{"type": "text", "text": "Olá Maria!"}],
    "stop_reason": "end_turn",
    "usage": {"input_tokens": 1200, "output_tokens": 300},
}


def test_llm_generate_records_what_the_call_cost(hub_aws: HubAws) -> None:
    hub_aws.put_secret("acme", "anthropic", {"api_key": "k", "base_url": "https://claude.test"})
    fn = load_function("llm_generate")
    with respx.mock() as mock:
        mock.post("https://claude.test/v1/messages").respond(200, json=ANSWER)
        result = fn.handler(
            {"org_id": "acme", "task": "sdr_whatsapp", "messages": [{"role": "user", "content": "Oi"}]},
            FakeLambdaContext("LlmGenerate"),
        )
    # claude-sonnet-5-5: $2 / $10 per 1M tokens -> 1200 * 2e-6 + 300 * 10e-6 = 0.0054
    assert result["provider"] == "anthropic"
    assert Decimal(result["cost"]["usd"]) == Decimal("0.0054")
    today = brasilia_today()  # day lines are Brasília days
    [line] = usage_report("acme", today, today).lines
    assert (line.model, line.calls, line.cost_usd) == ("claude-sonnet-5-5", 1, Decimal("0.005400000"))


def test_without_an_explicit_provider_llm_generate_falls_back_and_says_why(hub_aws: HubAws) -> None:
    hub_aws.put_secret("acme", "anthropic", {"api_key": "k", "base_url": "https://claude.test"})
    hub_aws.put_secret("acme", "openai", {"api_key": "k", "base_url": "https://gpt.test/v1"})
    openai_answer = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-6.2-sol",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Olá!"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13},
    }
    fn = load_function("llm_generate")
    secret_prompt = "Cliente CPF 123.456.789-09 pediu orçamento"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    with respx.mock() as mock:
        mock.post("https://claude.test/v1/messages").respond(
            529, json={"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        )
        mock.post("https://gpt.test/v1/chat/completions").respond(200, json=openai_answer)
        result = fn.handler(
            {"org_id": "acme", "messages": [{"role": "user", "content": secret_prompt}]},
            FakeLambdaContext("LlmGenerate"),
        )
    assert result["provider"] == "openai"
    assert [(a["provider"], a["error"]) for a in result["attempts"]] == [("anthropic", "ProviderUnavailableError")]
    # LGPD: the prompt and the completion never reach the logs
    logger.removeHandler(handler)
    logs = stream.getvalue()
    assert "llm_generated" in logs
    assert secret_prompt not in logs and "Olá!" not in logs


def test_an_invalid_request_is_not_tried_elsewhere(hub_aws: HubAws) -> None:
    hub_aws.put_secret("acme", "anthropic", {"api_key": "k", "base_url": "https://claude.test"})
    fn = load_function("llm_generate")
    with respx.mock(assert_all_called=False) as mock:
        claude = mock.post("https://claude.test/v1/messages").respond(
            400, json={"type": "error", "error": {"type": "invalid_request_error", "message": "prompt is too long"}}
        )
        gpt = mock.post("https://gpt.test/v1/chat/completions").respond(200, json={})
        with pytest.raises(InvalidRequestError):
            fn.handler({"org_id": "acme", "messages": [{"role": "user", "content": "x"}]}, FakeLambdaContext())
    assert claude.call_count == 1 and gpt.call_count == 0


def test_an_org_can_route_a_task_to_another_provider(hub_aws: HubAws) -> None:
    from hub.ai.routing import Route
    from hub.ai.spend import set_org_routes

    hub_aws.put_secret("acme", "gemini", {"api_key": "k", "base_url": "https://gemini.test"})
    set_org_routes("acme", {"sdr_whatsapp": Route("gemini", "gemini-3.8-flash")})
    answer = {
        "candidates": [{"content": {"role": "model", "parts": [{"text": "Oi!"}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 2, "totalTokenCount": 7},
    }
    fn = load_function("llm_generate")
    with respx.mock() as mock:
        # streamed since issue 15 (a JSON answer is still read: a proxy may ignore alt=sse)
        route = mock.post("https://gemini.test/v1beta/models/gemini-3.8-flash:streamGenerateContent").respond(
            200, json=answer
        )
        result = fn.handler(
            {"org_id": "acme", "task": "sdr_whatsapp", "messages": [{"role": "user", "content": "Oi"}]},
            FakeLambdaContext(),
        )
    assert route.call_count == 1
    assert (result["provider"], result["model"]) == ("gemini", "gemini-3.8-flash")
    with pytest.raises(InvalidRequestError):
        set_org_routes("acme", {"no_such_task": Route("gemini", "gemini-3.8-flash")})


def test_tiny_costs_are_not_rounded_away(hub_aws: HubAws) -> None:
    # Two short texts on text-embedding-3-small: 12 tokens x $0.02/1M = $0.00000024
    for _ in range(2):
        record_spend(
            "acme",
            "openai",
            "text-embedding-3-small",
            input_tokens=12,
            output_tokens=0,
            cost_usd=Decimal("0.00000024"),
            now=NOW,
        )
    assert month_total_nano("acme", "2026-11") == 480
    [line] = usage_report("acme", date(2026, 11, 1), date(2026, 11, 30)).lines
    assert line.cost_usd == Decimal("0.000000480")


def test_a_free_call_is_counted_without_cost(hub_aws: HubAws) -> None:
    set_budget("acme", Budget(monthly_usd=Decimal("1")))
    for _ in range(2):  # ADD 0 must not break the budget check
        record_spend("acme", "gemini", "unpriced-model", input_tokens=1, output_tokens=1, cost_usd=None, now=NOW)
    [line] = usage_report("acme", date(2026, 11, 1), date(2026, 11, 30)).lines
    assert (line.calls, line.cost_usd) == (2, Decimal("0E-9"))
