"""SocialPublishWorkflow (JSONPath ASL): one execution per publication (name = its id).

A loop around one Lambda step (hub.social.publish.advance) that answers how long to wait:
``{"wait_seconds": n}`` (media processing, a lookup, a retry), ``{"wait_until": "…Z"}`` (a
quota's reset) or ``{"done": true}``. Every wait is a Wait state — nothing sleeps in a Lambda —
and a scheduled post first waits until ``$.publish_at``. If the step fails past its retries,
``Park`` moves the post to the manual queue. Input: ``{"org_id", "publication_id",
"publish_at"?}``.
"""

from __future__ import annotations

from typing import Any

from statemachines.build import _RETRY_SERVICE

# A scheduled post may wait up to SOCIAL_MAX_SCHEDULE_DAYS (≤ 360) plus its delays: under the
# one-year limit of a Standard execution.
TIMEOUT_SECONDS = 364 * 86400
_RETRY_STEP = [
    _RETRY_SERVICE,
    # AWS (DynamoDB, EventBridge) throttling or a Lambda timeout: the step is safe to repeat.
    {
        "ErrorEquals": ["States.Timeout", "ProviderUnavailableError"],
        "IntervalSeconds": 5,
        "MaxAttempts": 3,
        "BackoffRate": 2,
        "JitterStrategy": "FULL",
    },
]


def _task(payload: dict[str, Any], next_state: str, catch: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "${SocialPublishStepArn}", "Payload": payload},
        "ResultSelector": {"value.$": "$.Payload"},
        "ResultPath": "$.step",
        "TimeoutSeconds": 900,
        "Retry": _RETRY_STEP,
        "Catch": catch,
        "Next": next_state,
    }


def build() -> dict[str, Any]:
    ids = {"org_id.$": "$.org_id", "publication_id.$": "$.publication_id"}
    states: dict[str, Any] = {
        "Scheduled": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.publish_at", "IsPresent": True, "Next": "WaitForPublishAt"}],
            "Default": "Advance",
        },
        "WaitForPublishAt": {"Type": "Wait", "TimestampPath": "$.publish_at", "Next": "Advance"},
        "Advance": _task(
            {"op": "advance", **ids},
            "Route",
            [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Park"}],
        ),
        "Route": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.step.value.wait_seconds", "IsPresent": True, "Next": "WaitSeconds"},
                {"Variable": "$.step.value.wait_until", "IsPresent": True, "Next": "WaitUntil"},
            ],
            "Default": "Done",
        },
        "WaitSeconds": {"Type": "Wait", "SecondsPath": "$.step.value.wait_seconds", "Next": "Advance"},
        "WaitUntil": {"Type": "Wait", "TimestampPath": "$.step.value.wait_until", "Next": "Advance"},
        "Park": _task(
            {"op": "park", **ids, "error.$": "$.error"},
            "Done",
            [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
        ),
        "Failed": {"Type": "Fail", "Error": "SocialPublishFailed", "Cause": "the step and its park both failed"},
        "Done": {"Type": "Succeed"},
    }
    return {
        "Comment": "SocialPublishWorkflow: one publication (hub.social.publish; docs/social.md)",
        "StartAt": "Scheduled",
        "TimeoutSeconds": TIMEOUT_SECONDS,
        "States": states,
    }
