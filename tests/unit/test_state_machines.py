"""The fallback chains are generated from one pattern; the committed files must match it,
and every machine keeps the rules: TimeoutSeconds, every Task with Retry and Catch,
InvalidRequestError never falling through to another provider."""

from __future__ import annotations

import json
from typing import Any

import pytest

from statemachines.build import (
    CHAINS,
    LAMBDA_SERVICE_ERRORS,
    NFSE_PATH,
    SOCIAL_PUBLISH_PATH,
    Chain,
    path_for,
    render,
    render_nfse,
    render_social_publish,
)


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
            assert "RateLimitedError" in errors, name
            # A provider that is down or stuck is not tried again: the next one is (see below).
            assert ("ProviderUnavailableError" in errors) == name.startswith("Poll_"), name
            assert all(rule["MaxAttempts"] <= 3 for rule in task["Retry"]), name
            # A write whose outcome is unknown is never retried by Step Functions.
            assert "OutcomeUnknownError" not in errors and "States.ALL" not in errors, name
            catches = task["Catch"]
            if chain.stop_on_unknown_outcome:
                # ...nor tried on the next channel: that could notify the contact twice.
                unknown = {"ErrorEquals": ["OutcomeUnknownError"], "ResultPath": "$.error", "Next": "OutcomeUnknown"}
                assert catches[0] == unknown, name
                catches = catches[1:]
            first_catch = catches[0]
            if chain.cascade_invalid:
                # The notify chain: a channel refusing the request (no WhatsApp account)
                # is one more reason to try the next channel.
                assert first_catch["ErrorEquals"] == ["States.ALL"]
            else:
                assert first_catch["ErrorEquals"] == ["InvalidRequestError"]
                assert first_catch["Next"] == "RequestRejected"
    if not chain.cascade_invalid:
        assert definition["States"]["RequestRejected"]["Type"] == "Fail"
    if chain.stop_on_unknown_outcome:
        assert definition["States"]["OutcomeUnknown"] == {
            "Type": "Fail",
            "Error": "OutcomeUnknownError",
            "CausePath": "$.error.Cause",
        }
    order = [name.removeprefix("Try_") for name in definition["States"] if name.startswith("Try_")]
    assert order == chain.providers


def _retried(task: dict[str, Any], error: str) -> bool:
    """Whether Step Functions' Retry of ``task`` matches a task failure with this errorType (it
    matches the name exactly, or States.ALL / States.TaskFailed)."""
    return any(
        error in rule["ErrorEquals"] or {"States.ALL", "States.TaskFailed"} & set(rule["ErrorEquals"])
        for rule in task.get("Retry", [])
    )


@pytest.mark.parametrize("chain", CHAINS, ids=lambda c: c.name)
def test_a_provider_that_is_down_or_stuck_goes_straight_to_the_next_one(chain: Chain) -> None:
    # Given every way a provider attempt says "down or stuck" (refused, connect/read/first-byte
    # timeout, open breaker, 5xx after the function's own quick retry): Lambda reports each as
    # errorType ProviderUnavailableError, the only thing Retry/Catch can match
    states = json.loads(render(chain))["States"]
    for index, provider in enumerate(chain.providers):
        attempt = states[f"Try_{provider}"]
        # Then the chain never retries it on the same provider ...
        assert not _retried(attempt, "ProviderUnavailableError"), provider
        # ... but catches it and moves on to the next provider (or parks after the last)
        [catch_all] = [c for c in attempt["Catch"] if c["ErrorEquals"] == ["States.ALL"]]
        following = chain.providers[index + 1] if index + 1 < len(chain.providers) else None
        expected = (f"Consider_{following}" if chain.planned else f"Use_{following}") if following else "ForgetProvider"
        assert catch_all["Next"] == expected, provider
        # while a Lambda service error and a rate limit still get their retry
        assert _retried(attempt, "Lambda.ServiceException") and _retried(attempt, "RateLimitedError"), provider


def test_a_poll_of_a_running_job_retries_a_blip_at_the_provider_that_holds_it() -> None:
    chain = next(c for c in CHAINS if c.polls)
    states = json.loads(render(chain))["States"]
    for provider in chain.polls:
        assert _retried(states[f"Poll_{provider}"], "ProviderUnavailableError")


def _successors(state: dict[str, object]) -> set[str]:
    found: set[str] = set()
    for key in ("Next", "Default"):
        if isinstance(state.get(key), str):
            found.add(str(state[key]))
    for rule in state.get("Choices", []) or []:  # type: ignore[attr-defined]
        found.add(rule["Next"])
    for rule in state.get("Catch", []) or []:  # type: ignore[attr-defined]
        found.add(rule["Next"])
    return found


def assert_every_state_reachable(states: dict[str, Any], start: str) -> None:
    """Every state is reached from ``start`` and every transition names a state."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        assert name in states, f"transition to missing state {name}"
        seen.add(name)
        todo.extend(_successors(states[name]))
    assert seen == set(states)


@pytest.mark.parametrize("chain", CHAINS, ids=lambda c: c.name)
def test_every_state_is_reachable_and_every_transition_exists(chain: Chain) -> None:
    """Step Functions rejects a definition with an unreachable state or a dangling Next."""
    states = json.loads(render(chain))["States"]
    assert_every_state_reachable(states, "Start")


def test_the_notify_chain_skips_unplanned_channels_and_tells_the_requester() -> None:
    chain = next(c for c in CHAINS if c.name == "notify")
    states = json.loads(render(chain))["States"]
    consider = states["Consider_whatsapp"]
    assert consider["Default"] == "Consider_sms"
    assert consider["Choices"][0]["Next"] == "Use_whatsapp"
    assert states["Try_email"]["Catch"][-1]["Next"] == "ForgetProvider"
    entry = states["NotifyParked"]["Parameters"]["Entries"][0]
    assert entry["DetailType"] == "notification.failed"
    assert entry["Detail"]["requester.$"] == "$.request.requester"


def test_the_nfse_workflow_is_generated_reachable_and_guarded() -> None:
    assert NFSE_PATH.read_text(encoding="utf-8") == render_nfse(), "run: python -m statemachines.build"
    definition = json.loads(render_nfse())
    states = definition["States"]
    assert_every_state_reachable(states, definition["StartAt"])
    for name, state in states.items():
        if state["Type"] == "Task":
            assert state.get("Retry"), name
    # A rejection ends the run (no loop back to emission); polling goes through a Wait state.
    assert states["Rejected"]["Type"] == "Succeed"
    assert states["Check"]["Choices"][0]["Next"] == "WaitForAuthorisation"
    assert states["WaitForAuthorisation"]["Type"] == "Wait"
    # Focus NFe is tried only after Nuvem Fiscal failed; a rejection at Nuvem Fiscal is final.
    assert states["EmitNuvemFiscal"]["Catch"][0]["Next"] == "Reject"
    assert states["EmitNuvemFiscal"]["Catch"][1]["Next"] == "EmitFocus"


def test_the_social_publish_workflow_is_generated_and_waits_in_wait_states() -> None:
    assert SOCIAL_PUBLISH_PATH.read_text(encoding="utf-8") == render_social_publish(), (
        "run: python -m statemachines.build"
    )
    definition = json.loads(render_social_publish())
    states = definition["States"]
    assert_every_state_reachable(states, definition["StartAt"])
    assert definition["TimeoutSeconds"] < 365 * 86400  # a Standard execution lives at most a year
    for name, state in states.items():
        if state["Type"] == "Task":
            assert state.get("Retry") and state.get("Catch"), name
    # Every wait the step asks for is a Wait state (polling, lookups, retries, quota resets, publish_at).
    waits = {name: state for name, state in states.items() if state["Type"] == "Wait"}
    assert {w.get("SecondsPath") or w.get("TimestampPath") for w in waits.values()} == {
        "$.publish_at",
        "$.step.value.wait_seconds",
        "$.step.value.wait_until",
    }
    assert all(w["Next"] == "Advance" for w in waits.values())
    # The step failing past its retries parks the post in the manual queue.
    assert states["Advance"]["Catch"][0]["Next"] == "Park"


def test_the_calendar_conference_workflow_is_generated_and_polls_in_a_wait_state() -> None:
    from statemachines.build import CALENDAR_CONFERENCE_PATH, render_calendar_conference

    assert CALENDAR_CONFERENCE_PATH.read_text(encoding="utf-8") == render_calendar_conference(), (
        "run: python -m statemachines.build"
    )
    definition = json.loads(render_calendar_conference())
    states = definition["States"]
    assert_every_state_reachable(states, definition["StartAt"])
    assert 0 < definition["TimeoutSeconds"] <= 3600
    poll = states["Poll"]
    assert poll["Retry"] and poll["Catch"]
    errors = {e for rule in poll["Retry"] for e in rule["ErrorEquals"]}
    assert set(LAMBDA_SERVICE_ERRORS) <= errors and "RateLimitedError" in errors
    assert "States.ALL" not in errors and "InvalidRequestError" not in errors
    # The step's "wait n seconds" is a Wait state that loops back to the step: no sleeping Lambda.
    waits = [state for state in states.values() if state["Type"] == "Wait"]
    assert waits == [{"Type": "Wait", "SecondsPath": "$.wait_seconds", "Next": "Poll"}]
    assert states["NextPoll"]["Parameters"]["polls.$"] == "$.step.value.polls"
