"""The fallback chains are generated from one pattern; the committed files must match it,
and every machine keeps the rules: TimeoutSeconds, every Task with Retry and Catch,
InvalidRequestError never falling through to another provider."""

from __future__ import annotations

import json

import pytest

from statemachines.build import CHAINS, LAMBDA_SERVICE_ERRORS, Chain, path_for, render


@pytest.mark.parametrize("chain", CHAINS, ids=lambda c: c.name)
def test_committed_definition_is_generated_from_the_pattern(chain: Chain) -> None:
    assert path_for(chain).read_text(encoding="utf-8") == render(chain), "run: python -m statemachines.build"


@pytest.mark.parametrize("chain", CHAINS, ids=lambda c: c.name)
def test_every_machine_follows_the_rules(chain: Chain) -> None:
    definition = json.loads(render(chain))
    assert definition["TimeoutSeconds"] > 0
    tasks = {name: state for name, state in definition["States"].items() if state["Type"] == "Task"}
    assert tasks
    for name, task in tasks.items():
        assert task.get("Retry"), name
        if task["Resource"] == "arn:aws:states:::lambda:invoke":
            errors = {e for rule in task["Retry"] for e in rule["ErrorEquals"]}
            assert set(LAMBDA_SERVICE_ERRORS) <= errors, name
            assert {"RateLimitedError", "ProviderUnavailableError"} <= errors, name
            assert all(rule["MaxAttempts"] <= 3 for rule in task["Retry"]), name
            first_catch = task["Catch"][0]
            assert first_catch["ErrorEquals"] == ["InvalidRequestError"]
            assert first_catch["Next"] == "RequestRejected"
    assert definition["States"]["RequestRejected"]["Type"] == "Fail"
    order = [name.removeprefix("Try_") for name in definition["States"] if name.startswith("Try_")]
    assert order == chain.providers
