"""The reusable "try provider A, then B, then C, then park it" pattern, as JSONPath ASL.

Each provider attempt is a Lambda task invoked with ``$.request`` plus ``provider``:
* Retry on Lambda service errors (AWS best practice: 2 s, backoff 2, full jitter), and once
  on RateLimitedError (3 s, full jitter); never on ProviderUnavailableError: the function
  already retried what a quick retry can fix (hub.retry: one retry of a 5xx), so what is left
  means "this provider is down or stuck" (refused, connect/read/first-byte timeout, circuit
  open, 5xx twice) and the next provider answers sooner than the same one again
  (docs/resilience.md, "Fallback chains"). A poll of a job already running at a provider
  retries ProviderUnavailableError (2 s, 4 s): no other provider holds that job;
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
]
_RETRY_POLL = {
    "ErrorEquals": ["ProviderUnavailableError"],
    "IntervalSeconds": 2,
    "BackoffRate": 2,
    "MaxAttempts": 2,
    "JitterStrategy": "FULL",
}
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
    # InvalidRequestError at one provider moves on to the next instead of ending the run
    # (a number not on WhatsApp can still get an SMS).
    cascade_invalid: bool = False
    # Providers the input marks ``$.request.plan.<provider> = false`` are skipped.
    planned: bool = False
    # Handed to every task as ``$.request.execution_arn`` (records link sends to the run).
    pass_execution: bool = False
    # A channel whose send may have happened (OutcomeUnknownError) ends the run: moving on to the
    # next channel would notify the contact twice. The requester resolves it (docs/errors.md).
    stop_on_unknown_outcome: bool = False
    # What goes on the bus when every provider failed.
    parked_detail_type: str = "fallback.parked"
    parked_detail: dict[str, str] = field(default_factory=dict)


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
            *(
                [{"ErrorEquals": ["OutcomeUnknownError"], "ResultPath": "$.error", "Next": "OutcomeUnknown"}]
                if chain.stop_on_unknown_outcome
                else []
            ),
            *(
                []
                if chain.cascade_invalid
                else [{"ErrorEquals": ["InvalidRequestError"], "ResultPath": "$.error", "Next": "RequestRejected"}]
            ),
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
            "Retry": [_RETRY_SERVICE, *_RETRY_PROVIDER, _RETRY_POLL],
            "Next": f"Check_{provider}",
        },
    }


def _entry(chain: Chain, provider: str) -> str:
    return f"Consider_{provider}" if chain.planned else f"Use_{provider}"


def build(chain: Chain) -> dict[str, Any]:
    first = _entry(chain, chain.providers[0])
    states: dict[str, Any] = {
        "Start": {
            "Type": "Pass",
            "Comment": "Failed attempts are collected here, one key per provider.",
            "Result": {},
            "ResultPath": "$.attempts",
            "Next": "RememberExecution" if chain.pass_execution else first,
        }
    }
    if chain.pass_execution:
        states["RememberExecution"] = {
            "Type": "Pass",
            "Comment": "Every task learns which run it belongs to.",
            "Parameters": {"arn.$": "$$.Execution.Id"},
            "ResultPath": "$.execution",
            "Next": "AttachExecution",
        }
        states["AttachExecution"] = {
            "Type": "Pass",
            "InputPath": "$.execution.arn",
            "ResultPath": "$.request.execution_arn",
            "Next": first,
        }
    for index, provider in enumerate(chain.providers):
        following = chain.providers[index + 1] if index + 1 < len(chain.providers) else None
        on_failure = _entry(chain, following) if following else "ForgetProvider"
        if chain.planned:
            states[f"Consider_{provider}"] = {
                "Type": "Choice",
                "Comment": f"Skip {provider} when the plan rules it out.",
                "Choices": [
                    {
                        "And": [
                            {"Variable": f"$.request.plan.{provider}", "IsPresent": True},
                            {"Variable": f"$.request.plan.{provider}", "BooleanEquals": True},
                        ],
                        "Next": f"Use_{provider}",
                    }
                ],
                "Default": on_failure,
            }
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
                    "DetailType": chain.parked_detail_type,
                    "EventBusName": "${EventBusName}",
                    "Detail": {
                        "chain": chain.name,
                        "org_id.$": "$.request.org_id",
                        "execution.$": "$$.Execution.Id",
                        "failed_attempts.$": "$.attempts",
                        **chain.parked_detail,
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
    if chain.stop_on_unknown_outcome:
        states["OutcomeUnknown"] = {"Type": "Fail", "Error": "OutcomeUnknownError", "CausePath": "$.error.Cause"}
    if not chain.cascade_invalid:
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


CHAINS.append(
    Chain(
        name="notify",
        comment="Notification chain: WhatsApp -> SMS -> email -> notify the requester. Channels the plan "
        "rules out are skipped; any failure (including InvalidRequestError: a number not on WhatsApp, a "
        "closed 24-hour window) moves on, except a send whose outcome is unknown, which ends the run "
        '(OutcomeUnknownError). Input: {"request": NotifyContact plan}.',
        function_arn_variable="NotifyChannelSendArn",
        providers=["whatsapp", "sms", "email"],
        task_timeout_seconds=40,
        timeout_seconds=600,
        cascade_invalid=True,
        planned=True,
        pass_execution=True,
        stop_on_unknown_outcome=True,
        parked_detail_type="notification.failed",
        parked_detail={
            "notification_id.$": "$.request.notification_id",
            "requester.$": "$.request.requester",
            "skipped.$": "$.request.skipped",
        },
    )
)


def path_for(chain: Chain) -> Path:
    return HERE / f"{chain.name}_fallback.asl.json"


def render(chain: Chain) -> str:
    return json.dumps(build(chain), indent=2, ensure_ascii=False) + "\n"


NFSE_PATH = HERE / "nfse_workflow.asl.json"


def render_nfse() -> str:
    from statemachines.nfse import build as build_nfse

    return json.dumps(build_nfse(), indent=2, ensure_ascii=False) + "\n"


SOCIAL_PUBLISH_PATH = HERE / "social_publish.asl.json"


def render_social_publish() -> str:
    from statemachines.social_publish import build as build_social_publish

    return json.dumps(build_social_publish(), indent=2, ensure_ascii=False) + "\n"


DESIGN_RENDER_PATH = HERE / "design_render.asl.json"


def render_design_render() -> str:
    from statemachines.design_render import build as build_design_render

    return json.dumps(build_design_render(), indent=2, ensure_ascii=False) + "\n"


CALENDAR_CONFERENCE_PATH = HERE / "calendar_conference.asl.json"


def render_calendar_conference() -> str:
    from statemachines.calendar_conference import build as build_calendar_conference

    return json.dumps(build_calendar_conference(), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    for chain in CHAINS:
        path_for(chain).write_text(render(chain), encoding="utf-8")
    NFSE_PATH.write_text(render_nfse(), encoding="utf-8")
    SOCIAL_PUBLISH_PATH.write_text(render_social_publish(), encoding="utf-8")
    DESIGN_RENDER_PATH.write_text(render_design_render(), encoding="utf-8")
    CALENDAR_CONFERENCE_PATH.write_text(render_calendar_conference(), encoding="utf-8")


if __name__ == "__main__":
    main()
