"""DesignRenderWorkflow (statemachines/design_render.py): generated, polls Canva in a Wait state,
and every way out of the Canva step reaches the template fallback."""

from __future__ import annotations

import json

from statemachines.build import DESIGN_RENDER_PATH, render_design_render
from tests.unit.test_state_machines import assert_every_state_reachable


def test_the_design_render_workflow_is_generated_and_polls_in_a_wait_state() -> None:
    assert DESIGN_RENDER_PATH.read_text(encoding="utf-8") == render_design_render(), (
        "run: python -m statemachines.build"
    )
    definition = json.loads(render_design_render())
    states = definition["States"]
    assert_every_state_reachable(states, definition["StartAt"])
    for name, state in states.items():
        if state["Type"] == "Task":
            assert state.get("Retry") and state.get("Catch"), name
            assert state["Parameters"]["FunctionName"] == "${DesignRenderStepArn}"
    # The step's "wait" answer is a Wait state of the seconds it asked for, then the step again.
    route = {choice["StringEquals"]: choice["Next"] for choice in states["Route"]["Choices"]}
    assert route == {"wait": "WaitForCanva", "advance": "Advance", "template": "Template"}
    assert states["WaitForCanva"] == {"Type": "Wait", "SecondsPath": "$.wait_seconds", "Next": "Advance"}
    # The Canva step failing past its retries still takes the template path.
    assert states["Advance"]["Catch"][0] == {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Template"}
    assert states["Template"]["Parameters"]["Payload"]["op"] == "template"


def test_the_sample_events_are_valid_payloads() -> None:
    from hub.design.models import DesignRenderRef, DesignRenderRequest, RenderState
    from tests.helpers import ROOT

    def sample(name: str) -> dict[str, object]:
        loaded: dict[str, object] = json.loads((ROOT / "events" / f"{name}.json").read_text(encoding="utf-8"))
        return loaded

    DesignRenderRequest.model_validate(sample("design_render"))
    DesignRenderRef.model_validate(sample("design_render_status"))
    step = sample("design_render_step")
    assert step["op"] == "advance"
    RenderState.model_validate(step["state"])
