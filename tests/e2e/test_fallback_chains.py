"""The LLM fallback chain (Step Functions, executed by the local cloud) with sandbox faults."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from localcloud import LocalCloud
from tests.e2e.conftest import client, fault

pytestmark = pytest.mark.e2e

REQUEST = {
    "org_id": "demo",
    "messages": [{"role": "user", "content": "Resuma em uma frase o pedido de orçamento da Maria."}],
    "max_tokens": 200,
}


@pytest.fixture(autouse=True)
def no_faults(cloud: LocalCloud) -> Iterator[None]:
    yield
    for provider in ("anthropic", "openai", "gemini"):
        httpx.delete(f"{cloud.sandbox_url}/__sandbox/faults/{provider}", timeout=5)


def run_chain(
    cloud: LocalCloud, request: dict[str, Any] | None = None, chain: str = "LlmFallbackChain"
) -> dict[str, Any]:
    """Start a chain as a caller does and wait for its end (DescribeExecution)."""
    assert cloud.template is not None
    arn = cloud.template.resolve(cloud.template.raw["Outputs"][f"{chain}Arn"]["Value"])
    sfn = client(cloud, "stepfunctions")
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"request": request or REQUEST}))
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution["executionArn"])
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.5)
    raise AssertionError("the chain did not finish")


def test_primary_answers_when_healthy(cloud: LocalCloud) -> None:
    result = run_chain(cloud)
    assert result["status"] == "SUCCEEDED", result
    output = json.loads(result["output"])
    assert output["provider"] == "anthropic"
    assert output["answer"]["text"]
    assert output["answer"]["cost"]["usd"]
    assert output["failed_attempts"] == {}


def test_primary_down_falls_back_to_openai(cloud: LocalCloud) -> None:
    fault(cloud, "anthropic", mode="error", status=529)
    result = run_chain(cloud)
    assert result["status"] == "SUCCEEDED", result
    output = json.loads(result["output"])
    assert output["provider"] == "openai"
    assert output["failed_attempts"]["anthropic"]["Error"] == "ProviderUnavailableError"


def test_all_down_parks_the_request_and_notifies(cloud: LocalCloud) -> None:
    sqs, events = client(cloud, "sqs"), client(cloud, "events")
    tap = sqs.create_queue(QueueName="parked-tap")["QueueUrl"]
    tap_arn = sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert cloud.template is not None
    bus = cloud.template.env_value("EVENT_BUS_NAME")
    events.put_rule(Name="parked", EventBusName=bus, EventPattern=json.dumps({"detail-type": ["fallback.parked"]}))
    events.put_targets(Rule="parked", EventBusName=bus, Targets=[{"Id": "t", "Arn": tap_arn}])
    for provider in ("anthropic", "openai", "gemini"):
        fault(cloud, provider, mode="down")
    result = run_chain(cloud, {**REQUEST, "org_id": "demo"})
    assert result["status"] == "FAILED"
    assert result.get("error") == "AllProvidersUnavailable"
    assert cloud.template is not None
    queue = cloud.template.resolve(cloud.template.raw["Outputs"]["ManualRetryQueueUrl"]["Value"])
    [parked] = client(cloud, "sqs").receive_message(QueueUrl=queue, WaitTimeSeconds=2)["Messages"]
    body = json.loads(parked["Body"])
    assert body["request"]["messages"] == REQUEST["messages"]
    assert set(body["failed_attempts"]) == {"anthropic", "openai", "gemini"}
    [note] = sqs.receive_message(QueueUrl=tap, WaitTimeSeconds=2)["Messages"]
    detail = json.loads(note["Body"])["detail"]
    assert (detail["chain"], detail["org_id"]) == ("llm", "demo")
    assert "messages" not in json.dumps(detail)  # the requester is told, without the prompt


def test_invalid_request_does_not_cascade(cloud: LocalCloud) -> None:
    fault(cloud, "anthropic", mode="error", status=400)
    result = run_chain(cloud)
    assert result["status"] == "FAILED"
    assert result.get("error") == "InvalidRequestError"
    history = client(cloud, "stepfunctions").get_execution_history(executionArn=result["executionArn"])["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    assert "Try_openai" not in entered and "Try_gemini" not in entered


def test_image_chain_falls_back_to_flux_and_polls_a_slow_prediction(cloud: LocalCloud) -> None:
    # GPT Image is down; Flux takes longer than the function waits (SLOWJOB), so the chain polls
    fault(cloud, "openai", mode="error", status=503)
    result = run_chain(cloud, {"org_id": "demo", "prompt": "Logo minimalista SLOWJOB"}, chain="ImageFallbackChain")
    assert result["status"] == "SUCCEEDED", result
    output = json.loads(result["output"])
    assert output["provider"] == "replicate"
    answer = output["answer"]
    assert answer["status"] == "succeeded"
    stored = client(cloud, "s3").get_object(Bucket=answer["bucket"], Key=answer["key"])["Body"].read()
    assert stored.startswith(b"\x89PNG")
    history = client(cloud, "stepfunctions").get_execution_history(executionArn=result["executionArn"])["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    assert entered.count("Poll_replicate") >= 1


def open_breaker(cloud: LocalCloud, provider: str) -> None:
    """Open ``provider``'s shared breaker, as five failures elsewhere would have (DynamoDB), and
    wait until LlmGenerate's warm containers see it (their per-container cache expires)."""
    assert cloud.template is not None
    table = cloud.template.env_value("RESILIENCE_TABLE")
    now = str(time.time())
    client(cloud, "dynamodb").put_item(
        TableName=table,
        Item={
            "pk": {"S": f"breaker#{provider}"},
            "state": {"S": "open"},
            "opened_at": {"N": now},
            "failures": {"N": "5"},
            "window_start": {"N": now},
        },
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = client(cloud, "lambda").invoke(
            FunctionName="LlmGenerate", Payload=json.dumps({**REQUEST, "provider": provider}).encode()
        )
        body = json.loads(answer["Payload"].read())
        if answer.get("FunctionError") and "circuit open" in body.get("errorMessage", ""):
            return
        time.sleep(0.2)
    raise AssertionError("LlmGenerate never saw the open breaker")


def close_breaker(cloud: LocalCloud, provider: str) -> None:
    assert cloud.template is not None
    table = cloud.template.env_value("RESILIENCE_TABLE")
    client(cloud, "dynamodb").delete_item(TableName=table, Key={"pk": {"S": f"breaker#{provider}"}})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = client(cloud, "lambda").invoke(
            FunctionName="LlmGenerate", Payload=json.dumps({**REQUEST, "provider": provider}).encode()
        )
        if not answer.get("FunctionError"):
            return
        time.sleep(0.2)
    raise AssertionError("LlmGenerate never saw the breaker closed again")


def test_an_open_primary_breaker_goes_straight_to_the_secondary(cloud: LocalCloud) -> None:
    # Given a healthy Claude whose shared breaker is open (it failed for other callers)
    open_breaker(cloud, "anthropic")
    try:
        # When a caller runs the chain
        result = run_chain(cloud)
    finally:
        close_breaker(cloud, "anthropic")
    # Then OpenAI answers, Claude's attempt says why it was skipped ...
    assert result["status"] == "SUCCEEDED", result
    output = json.loads(result["output"])
    assert output["provider"] == "openai"
    skipped = output["failed_attempts"]["anthropic"]
    assert skipped["Error"] == "ProviderUnavailableError"
    assert "circuit open" in skipped["Cause"]
    # ... and Claude's task ran once: no retry of an open breaker before moving on
    history = client(cloud, "stepfunctions").get_execution_history(executionArn=result["executionArn"])["events"]
    states: list[str] = []
    scheduled: dict[str, int] = {}
    for event in history:
        if "stateEnteredEventDetails" in event:
            states.append(event["stateEnteredEventDetails"]["name"])
        elif event["type"] == "TaskScheduled":
            scheduled[states[-1]] = scheduled.get(states[-1], 0) + 1
    assert scheduled == {"Try_anthropic": 1, "Try_openai": 1}, [e["type"] for e in history]
