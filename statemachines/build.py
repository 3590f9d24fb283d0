"""The reusable "try provider A, then B, then C, then park it" pattern, as JSONPath ASL.

Each provider attempt is a Lambda task invoked with ``$.request`` plus ``provider``:
* Retry on Lambda service errors (AWS best practice: 2 s, backoff 2, full jitter), and once
  on RateLimitedError / ProviderUnavailableError (the function already retried inside, within
  its ≤2 s budget; an open circuit breaker fails fast, so the fallback starts at once);
* Catch InvalidRequestError → fail the execution (it would fail at every provider too);
* Catch anything else → remember it under ``$.attempts.<provider>`` and try the next one;
* after the last: park the request in the manual-retry queue, emit ``fallback.parked`` on
  the hub's bus, and fail with AllProvidersUnavailable.
A caller gets ``{"status": "answered", "provider", "answer", "failed_attempts"}``.
Later issues add chains by adding a ``Chain`` to ``CHAINS`` and running this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

LAMBDA_SERVICE_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]
_RETRY_SERVICE = {
    "ErrorEquals": LAMBDA_SERVICE_ERRORS,
    "IntervalSeconds": 2,
    "BackoffRate": 2,
    "MaxAttempts": 3,
    "JitterStrategy": "FULL",
}
_RETRY_PROVIDER = [
    {"ErrorEquals": ["RateLimitedError"], "IntervalSeconds": 3, "MaxAttempts": 1, "JitterStrategy": "FULL"},
    {"ErrorEquals": ["ProviderUnavailableError"], "IntervalSeconds": 1, "MaxAttempts": 1, "JitterStrategy": "FULL"},
]
_RETRY_AWS = [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "BackoffRate": 2, "MaxAttempts": 3}]


@dataclass(frozen=True)
class Poll:
    """A provider whose answer may be ``{"status": "pending"}``: wait and ask again."""

    wait_seconds: int
    payload: dict[str, str]  # the poll call's payload (JSONPath values end in ".$")


@dataclass(frozen=True)
class Chain:
    name: str
    comment: str
    function_arn_variable: str  # DefinitionSubstitutions name of the provider-call function
    providers: list[str]
    task_timeout_seconds: int
    timeout_seconds: int = 900
    polls: dict[str, Poll] = field(default_factory=dict)


def _attempt(chain: Chain, provider: str, on_failure: str) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": f"${{{chain.function_arn_variable}}}", "Payload.$": "$.request"},
        "ResultSelector": {"answer.$": "$.Payload"},
        "ResultPath": "$.result",
        "TimeoutSeconds": chain.task_timeout_seconds,
        "Retry": [_RETRY_SERVICE, *_RETRY_PROVIDER],
        "Catch": [
            {"ErrorEquals": ["InvalidRequestError"], "ResultPath": "$.error", "Next": "RequestRejected"},
            {"ErrorEquals": ["States.ALL"], "ResultPath": f"$.attempts.{provider}", "Next": on_failure},
        ],
        "Next": f"Check_{provider}" if provider in chain.polls else f"AnsweredBy_{provider}",
    }


def _poll_states(chain: Chain, provider: str, on_failure: str) -> dict[str, Any]:
    poll = chain.polls[provider]
    return {
        f"Check_{provider}": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.result.answer.status", "StringEquals": "pending", "Next": f"Wait_{provider}"}],
            "Default": f"AnsweredBy_{provider}",
        },
        f"Wait_{provider}": {"Type": "Wait", "Seconds": poll.wait_seconds, "Next": f"Poll_{provider}"},
        f"Poll_{provider}": {
            **_attempt(chain, provider, on_failure),
            "Parameters": {"FunctionName": f"${{{chain.function_arn_variable}}}", "Payload": poll.payload},
            "Next": f"Check_{provider}",
        },
    }


def build(chain: Chain) -> dict[str, Any]:
    states: dict[str, Any] = {
        "Start": {
            "Type": "Pass",
            "Comment": "Failed attempts are collected here, one key per provider.",
            "Result": {},
            "ResultPath": "$.attempts",
            "Next": f"Use_{chain.providers[0]}",
        }
    }
    for index, provider in enumerate(chain.providers):
        following = chain.providers[index + 1] if index + 1 < len(chain.providers) else None
        on_failure = f"Use_{following}" if following else "ForgetProvider"
        states[f"Use_{provider}"] = {
            "Type": "Pass",
            "Comment": f"Route this attempt to {provider}.",
            "Result": provider,
            "ResultPath": "$.request.provider",
            "Next": f"Try_{provider}",
        }
        states[f"Try_{provider}"] = _attempt(chain, provider, on_failure)
        if provider in chain.polls:
            states.update(_poll_states(chain, provider, on_failure))
        states[f"AnsweredBy_{provider}"] = {
            "Type": "Pass",
            "Parameters": {
                "status": "answered",
                "provider": provider,
                "answer.$": "$.result.answer",
                "failed_attempts.$": "$.attempts",
            },
            "End": True,
        }
    states["ForgetProvider"] = {
        "Type": "Pass",
        "Comment": "A manual retry routes afresh.",
        "Result": None,
        "ResultPath": "$.request.provider",
        "Next": "ParkForManualRetry",
    }
    states["ParkForManualRetry"] = {
        "Type": "Task",
        "Comment": "Every provider failed: keep the request for a manual retry.",
        "Resource": "arn:aws:states:::sqs:sendMessage",
        "Parameters": {
            "QueueUrl": "${ManualRetryQueueUrl}",
            "MessageBody": {
                "chain": chain.name,
                "request.$": "$.request",
                "failed_attempts.$": "$.attempts",
                "execution.$": "$$.Execution.Id",
            },
        },
        "ResultPath": None,
        "Retry": _RETRY_AWS,
        "Next": "NotifyParked",
    }
    states["NotifyParked"] = {
        "Type": "Task",
        "Comment": "Tell the requester (ids and errors only, never the request's content).",
        "Resource": "arn:aws:states:::events:putEvents",
        "Parameters": {
            "Entries": [
                {
                    "Source": "integrations-hub",
                    "DetailType": "fallback.parked",
                    "EventBusName": "${EventBusName}",
                    "Detail": {
                        "chain": chain.name,
                        "org_id.$": "$.request.org_id",
                        "execution.$": "$$.Execution.Id",
                        "failed_attempts.$": "$.attempts",
                    },
                }
            ]
        },
        "ResultPath": None,
        "Retry": _RETRY_AWS,
        "Next": "AllProvidersFailed",
    }
    states["AllProvidersFailed"] = {
        "Type": "Fail",
        "Error": "AllProvidersUnavailable",
        "Cause": "Every provider failed; the request is parked in the manual-retry queue and the requester notified.",
    }
    states["RequestRejected"] = {"Type": "Fail", "Error": "InvalidRequestError", "CausePath": "$.error.Cause"}
    return {"Comment": chain.comment, "TimeoutSeconds": chain.timeout_seconds, "StartAt": "Start", "States": states}


CHAINS = [
    Chain(
        name="llm",
        comment="LLM fallback chain: Claude -> OpenAI GPT -> Gemini -> manual-retry queue. "
        'Input: {"request": LlmRequest without provider}.',
        function_arn_variable="LlmGenerateArn",
        providers=["anthropic", "openai", "gemini"],
        task_timeout_seconds=160,
    ),
    Chain(
        name="image",
        comment="Image fallback chain: OpenAI GPT Image -> Flux (Replicate, polled while pending) -> "
        'manual-retry queue and notify the requester. Input: {"request": ImageRequest without provider}.',
        function_arn_variable="ImageGenerateArn",
        providers=["openai", "replicate"],
        task_timeout_seconds=160,
        polls={
            "replicate": Poll(
                wait_seconds=5,
                payload={
                    "org_id.$": "$.request.org_id",
                    "provider": "replicate",
                    "prediction_id.$": "$.result.answer.prediction_id",
                },
            )
        },
    ),
]


def path_for(chain: Chain) -> Path:
    return HERE / f"{chain.name}_fallback.asl.json"


def render(chain: Chain) -> str:
    return json.dumps(build(chain), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    for chain in CHAINS:
        path_for(chain).write_text(render(chain), encoding="utf-8")


if __name__ == "__main__":
    main()
