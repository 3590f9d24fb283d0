"""DesignRenderWorkflow (JSONPath ASL): one execution per render (name = its id).

A loop around one Lambda step (hub.design.render.run_step). The render's state travels in the
execution as ``$.state``; each step answers ``{"state", "next", "wait_seconds"}``:
``next = "wait"`` waits ``wait_seconds`` in a Wait state and steps again (Canva's autofill and
export jobs are polled this way: nothing sleeps in a Lambda), ``"template"`` runs the fallback
step (DesignTemplateRender, the org's HTML/CSS template), ``"done"`` ends. If the Canva step
itself fails past its retries, the machine catches it and still takes the template path.
Input: ``{"state": RenderState}`` (hub.design.models).
"""

from __future__ import annotations

from typing import Any

from statemachines.build import _RETRY_SERVICE

TIMEOUT_SECONDS = 3600
_RETRY_STEP = [
    _RETRY_SERVICE,
    {
        "ErrorEquals": ["States.Timeout"],
        "IntervalSeconds": 2,
        "MaxAttempts": 2,
        "BackoffRate": 2,
        "JitterStrategy": "FULL",
    },
]
_ANSWER = {
    "state.$": "$.Payload.state",
    "next.$": "$.Payload.next",
    "wait_seconds.$": "$.Payload.wait_seconds",
    # Always present (null) so the Template task can read it; set by the Catch of Advance.
    "error.$": "$.Payload.error",
}


def _task(payload: dict[str, Any], next_state: str, catch: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "${DesignRenderStepArn}", "Payload": payload},
        "ResultSelector": _ANSWER,
        "ResultPath": "$",
        "TimeoutSeconds": 300,
        "Retry": _RETRY_STEP,
        "Catch": catch,
        "Next": next_state,
    }


def build() -> dict[str, Any]:
    states: dict[str, Any] = {
        "Advance": _task(
            {"op": "advance", "state.$": "$.state"},
            "Route",
            [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Template"}],
        ),
        "Route": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.next", "StringEquals": "wait", "Next": "WaitForCanva"},
                {"Variable": "$.next", "StringEquals": "advance", "Next": "Advance"},
                {"Variable": "$.next", "StringEquals": "template", "Next": "Template"},
            ],
            "Default": "Done",
        },
        "WaitForCanva": {"Type": "Wait", "SecondsPath": "$.wait_seconds", "Next": "Advance"},
        "Template": {
            **_task(
                {"op": "template", "state.$": "$.state", "error.$": "$.error"},
                "Done",
                [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
            ),
            "Comment": "The fallback: DesignTemplateRender renders the org's HTML/CSS template.",
        },
        "Failed": {"Type": "Fail", "Error": "DesignRenderFailed", "Cause": "the template step failed"},
        "Done": {"Type": "Succeed"},
    }
    return {
        "Comment": "DesignRenderWorkflow: one render, Canva then the HTML/CSS template (hub.design; docs/design.md)",
        "StartAt": "Advance",
        "TimeoutSeconds": TIMEOUT_SECONDS,
        "States": states,
    }
