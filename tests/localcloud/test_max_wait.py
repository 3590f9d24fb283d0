"""``--max-wait``: the machines' fixed waits capped for development and tests."""

from __future__ import annotations

import copy
from typing import Any

from localcloud.aws import cap_waits

DEFINITION: dict[str, Any] = {
    "StartAt": "Emit",
    "States": {
        "Emit": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Emit",
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "MaxDelaySeconds": 60, "MaxAttempts": 3}],
            "Next": "Fan",
        },
        "Fan": {
            "Type": "Map",
            "ItemProcessor": {
                "StartAt": "Pause",
                "States": {"Pause": {"Type": "Wait", "Seconds": 60, "End": True}},
            },
            "Next": "Until",
        },
        "Until": {"Type": "Wait", "SecondsPath": "$.wait_seconds", "Next": "Short"},
        "Short": {"Type": "Wait", "Seconds": 0, "End": True},
    },
}


def test_fixed_waits_and_retry_intervals_are_capped_and_input_waits_kept() -> None:
    # Given a machine with fixed waits, a nested one and a wait read from its input
    definition = copy.deepcopy(DEFINITION)

    # When its waits are capped at 2 s
    cap_waits(definition, 2)

    # Then the fixed ones are at most 2 s, shorter ones unchanged, the input's untouched
    states = definition["States"]
    assert states["Emit"]["Retry"][0] == {
        "ErrorEquals": ["States.ALL"],
        "IntervalSeconds": 2,
        "MaxDelaySeconds": 2,
        "MaxAttempts": 3,
    }
    assert states["Fan"]["ItemProcessor"]["States"]["Pause"]["Seconds"] == 2
    assert states["Until"] == DEFINITION["States"]["Until"]
    assert states["Short"]["Seconds"] == 0
