"""The NFS-e workflow (JSONPath ASL), run once per paid charge (execution name = the charge):

validate → emit at Nuvem Fiscal (→ Focus NFe when Nuvem Fiscal surely holds no note) →
``processando``: Wait and poll (never a sleeping Lambda) → ``autorizada``: finalize |
``negada``: reject (``invoice.rejected``, no retry loop). ``retry_emit`` (the first
provider's outcome is unknown) waits and asks the same provider again. Anything else that
fails parks the request in the manual-retry queue with ``fallback.parked`` (chain ``nfse``).
Input: ``{"request": {"org_id", "charge_id", "action": "emit" | "cancel"}}``.
"""

from __future__ import annotations

from typing import Any

from statemachines.build import _RETRY_AWS, _RETRY_SERVICE

POLL_SECONDS = 10
RETRY_EMIT_SECONDS = 60
_RETRY_STEP = [
    _RETRY_SERVICE,
    {"ErrorEquals": ["RateLimitedError"], "IntervalSeconds": 10, "MaxAttempts": 3, "BackoffRate": 2},
    {"ErrorEquals": ["ProviderUnavailableError"], "IntervalSeconds": 5, "MaxAttempts": 3, "BackoffRate": 2},
]


def _step(
    op: str, result_path: str | None, next_state: str, *, catch: list[dict[str, Any]], **extra: str
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "op": op,
        "org_id.$": "$.request.org_id",
        "charge_id.$": "$.request.charge_id",
        **extra,
    }
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "${NfseWorkflowStepArn}", "Payload": payload},
        "ResultSelector": {"value.$": "$.Payload"},
        "ResultPath": result_path,
        "OutputPath": "$",
        "TimeoutSeconds": 120,
        "Retry": _RETRY_STEP,
        "Catch": catch,
        "Next": next_state,
    }


def _unwrap(name: str, path: str, next_state: str) -> dict[str, Any]:
    return {"Type": "Pass", "InputPath": f"{path}.value", "ResultPath": path, "Next": next_state, "Comment": name}


REJECT = {"ErrorEquals": ["InvalidRequestError"], "ResultPath": "$.error", "Next": "Reject"}
PARK = {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Park"}


def build() -> dict[str, Any]:
    states: dict[str, Any] = {
        "Init": {
            "Type": "Pass",
            "Comment": "Every path below may read $.invoice and $.error.",
            "Parameters": {"request.$": "$.request", "invoice": {}, "error": {}},
            "Next": "Route",
        },
        "Route": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.request.action", "StringEquals": "cancel", "Next": "Cancel"}],
            "Default": "Validate",
        },
        "Validate": _step("validate", "$.validated", "EmitNuvemFiscal", catch=[REJECT, PARK]),
        "EmitNuvemFiscal": _step(
            "emit",
            "$.invoice",
            "UnwrapNuvemFiscal",
            catch=[
                REJECT,
                {"ErrorEquals": ["States.ALL"], "ResultPath": "$.attempts_nuvemfiscal", "Next": "EmitFocus"},
            ],
            provider="nuvemfiscal",
        ),
        "UnwrapNuvemFiscal": _unwrap("Nuvem Fiscal's answer", "$.invoice", "Check"),
        "EmitFocus": _step("emit", "$.invoice", "UnwrapFocus", catch=[REJECT, PARK], provider="focusnfe"),
        "UnwrapFocus": _unwrap("Focus NFe's answer", "$.invoice", "Check"),
        "Check": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.invoice.status", "StringEquals": "processando", "Next": "WaitForAuthorisation"},
                {"Variable": "$.invoice.status", "StringEquals": "autorizada", "Next": "Finalize"},
                {"Variable": "$.invoice.status", "StringEquals": "negada", "Next": "Reject"},
                {"Variable": "$.invoice.status", "StringEquals": "retry_emit", "Next": "WaitToRetryEmit"},
            ],
            "Default": "Park",
        },
        "WaitForAuthorisation": {"Type": "Wait", "Seconds": POLL_SECONDS, "Next": "Poll"},
        "Poll": {
            **_step("status", "$.invoice", "UnwrapPoll", catch=[PARK]),
            "Parameters": {
                "FunctionName": "${NfseWorkflowStepArn}",
                "Payload": {
                    "op": "status",
                    "org_id.$": "$.request.org_id",
                    "charge_id.$": "$.request.charge_id",
                    "invoice.$": "$.invoice",
                },
            },
        },
        "UnwrapPoll": _unwrap("the provider's status", "$.invoice", "Check"),
        "WaitToRetryEmit": {"Type": "Wait", "Seconds": RETRY_EMIT_SECONDS, "Next": "RetryEmitSameProvider"},
        "RetryEmitSameProvider": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.invoice.provider", "StringEquals": "focusnfe", "Next": "EmitFocus"}],
            "Default": "EmitNuvemFiscal",
        },
        "Finalize": {
            **_step("finalize", "$.issued", "Issued", catch=[PARK]),
            "Parameters": {
                "FunctionName": "${NfseWorkflowStepArn}",
                "Payload": {
                    "op": "finalize",
                    "org_id.$": "$.request.org_id",
                    "charge_id.$": "$.request.charge_id",
                    "invoice.$": "$.invoice",
                },
            },
        },
        "Issued": {"Type": "Succeed"},
        "Reject": {
            **_step("reject", "$.rejected", "Rejected", catch=[PARK]),
            "Parameters": {
                "FunctionName": "${NfseWorkflowStepArn}",
                "Payload": {
                    "op": "reject",
                    "org_id.$": "$.request.org_id",
                    "charge_id.$": "$.request.charge_id",
                    "invoice.$": "$.invoice",
                    "error.$": "$.error",
                },
            },
        },
        "Rejected": {"Type": "Succeed", "Comment": "A rejection is an answer: no retry loop."},
        "Cancel": _step("cancel", "$.cancelled", "Cancelled", catch=[PARK]),
        "Cancelled": {"Type": "Succeed"},
        "Park": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage",
            "Parameters": {
                "QueueUrl": "${ManualRetryQueueUrl}",
                "MessageBody": {"chain": "nfse", "request.$": "$.request", "execution.$": "$$.Execution.Id"},
            },
            "ResultPath": None,
            "Retry": _RETRY_AWS,
            "Next": "NotifyParked",
        },
        "NotifyParked": {
            "Type": "Task",
            "Resource": "arn:aws:states:::events:putEvents",
            "Parameters": {
                "Entries": [
                    {
                        "Source": "integrations-hub",
                        "DetailType": "fallback.parked",
                        "EventBusName": "${EventBusName}",
                        "Detail": {
                            "chain": "nfse",
                            "org_id.$": "$.request.org_id",
                            "charge_id.$": "$.request.charge_id",
                            "execution.$": "$$.Execution.Id",
                        },
                    }
                ]
            },
            "ResultPath": None,
            "Retry": _RETRY_AWS,
            "Next": "Parked",
        },
        "Parked": {"Type": "Fail", "Error": "InvoiceParked", "Cause": "Parked for a manual retry; the org was told."},
    }
    return {
        "Comment": __doc__.strip().splitlines()[0] if __doc__ else "NFS-e workflow",
        "TimeoutSeconds": 6 * 3600,
        "StartAt": "Init",
        "States": states,
    }
