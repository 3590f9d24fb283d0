"""CalendarConferenceWorkflow (JSONPath ASL): one execution per new event whose Google Meet link
is still ``pending`` (name ``conf-<event id>``, started by CalendarEventCreate).

A loop around CalendarConferenceStep (hub.calendar.conference.advance): it answers
``{"wait_seconds", "polls"}`` while Google is still creating the conference, and the machine
waits in a Wait state — nothing sleeps in a Lambda — or ``{"done": true, ...}`` once it
published ``calendar.conference.ready`` / ``calendar.conference.failed``. The step stops after
CALENDAR_CONFERENCE_MAX_POLLS on its own; ``TimeoutSeconds`` bounds the whole run too.
Input: ``{"org_id", "calendar_id", "event_id", "polls": 0}``.
"""

from __future__ import annotations

from typing import Any

from statemachines.build import _RETRY_SERVICE

TIMEOUT_SECONDS = 3600
_RETRY_STEP = [
    _RETRY_SERVICE,
    # Google's quota (429/403 rateLimitExceeded) or an outage: a read, safe to repeat.
    {
        "ErrorEquals": ["RateLimitedError", "ProviderUnavailableError", "States.Timeout"],
        "IntervalSeconds": 5,
        "MaxAttempts": 3,
        "BackoffRate": 2,
        "JitterStrategy": "FULL",
    },
]


def build() -> dict[str, Any]:
    ids = {"org_id.$": "$.org_id", "calendar_id.$": "$.calendar_id", "event_id.$": "$.event_id"}
    states: dict[str, Any] = {
        "Poll": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {
                "FunctionName": "${CalendarConferenceStepArn}",
                "Payload": {**ids, "polls.$": "$.polls"},
            },
            "ResultSelector": {"value.$": "$.Payload"},
            "ResultPath": "$.step",
            "TimeoutSeconds": 60,
            "Retry": _RETRY_STEP,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
            "Next": "Route",
        },
        "Route": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.step.value.wait_seconds", "IsPresent": True, "Next": "NextPoll"}],
            "Default": "Done",
        },
        "NextPoll": {
            "Type": "Pass",
            "Parameters": {
                **ids,
                "polls.$": "$.step.value.polls",
                "wait_seconds.$": "$.step.value.wait_seconds",
            },
            "Next": "Wait",
        },
        "Wait": {"Type": "Wait", "SecondsPath": "$.wait_seconds", "Next": "Poll"},
        "Failed": {
            "Type": "Fail",
            "Error": "CalendarConferenceFailed",
            "Cause": "the Meet link could not be read (see the step's error)",
        },
        "Done": {"Type": "Succeed"},
    }
    return {
        "Comment": "CalendarConferenceWorkflow: a pending Google Meet link (hub.calendar.conference; docs/calendar.md)",
        "StartAt": "Poll",
        "TimeoutSeconds": TIMEOUT_SECONDS,
        "States": states,
    }
