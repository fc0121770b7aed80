from __future__ import annotations

from typing import Any

from greenfleet.rollout import AlarmState, Phase, RolloutState, describe, progress, rollout_details, step, timeline

from .scenarios import SCENARIOS, Scenario, step_list, webhook
from .world import FakeWorld, drive


def states_of(name: str, alarm_at: Phase | None = None) -> dict[Phase, RolloutState]:
    """The first state seen in each phase of a run."""
    seen: dict[Phase, RolloutState] = {}

    def record(w: FakeWorld, s: RolloutState, now: float) -> None:
        seen.setdefault(s.phase, s)
        if s.phase is alarm_at:
            w.alarm("errors", AlarmState.ALARM, now)

    state, world, _ = SCENARIOS[name].start()
    world.in_flight["c1"] = 1
    final, _ = drive(state, world, script=record)
    seen.setdefault(final.phase, final)
    return seen


def pending(view: dict[str, Any]) -> dict[str, Any]:
    variants: list[dict[str, Any]] = view["PendingDeploymentSummary"]["ProductionVariants"]
    return variants[0]


def test_describe_through_a_canary() -> None:
    states = states_of("canary_count")

    provisioning = describe(states[Phase.PROVISIONING])
    assert provisioning["EndpointStatus"] == "Updating"
    assert provisioning["EndpointConfigName"] == "c1"
    assert provisioning["PendingDeploymentSummary"]["EndpointConfigName"] == "c2"
    assert provisioning["PendingDeploymentSummary"]["StartTime"] == 0.0
    assert pending(provisioning)["VariantStatus"][0]["Status"] == "Creating"
    assert pending(provisioning)["CurrentInstanceCount"] == 3  # targets when no observations are given

    baking = states[Phase.BAKING]
    view = describe(baking)
    green = pending(view)
    assert green["VariantStatus"] == [
        {
            "Status": "Baking",
            "StatusMessage": "Baking for 30 seconds (WaitIntervalInSeconds) with 33% of traffic (canary)",
            "StartTime": baking.bake_started_at,
        }
    ]
    assert (green["CurrentWeight"], green["DesiredWeight"]) == (0.33, 1.0)
    assert view["ProductionVariants"][0]["CurrentWeight"] == 0.67
    assert view["LastDeploymentConfig"]["BlueGreenUpdatePolicy"]["TerminationWaitInSeconds"] == 20

    wait = pending(describe(states[Phase.TERMINATION_WAIT]))["VariantStatus"][0]
    assert (wait["Status"], wait["StatusMessage"]) == (
        "Baking",
        "Baking for 20 seconds (TerminationWaitInSeconds) with all traffic",
    )
    draining = describe(states[Phase.DRAINING])["ProductionVariants"][0]["VariantStatus"][0]
    assert draining["Status"] == "Deleting"

    done = describe(states[Phase.SUCCEEDED])
    assert done["EndpointStatus"] == "InService"
    assert done["EndpointConfigName"] == "c2"
    assert "PendingDeploymentSummary" not in done and "FailureReason" not in done
    assert done["ProductionVariants"][0]["CurrentWeight"] == 1.0


def test_describe_through_a_rollback() -> None:
    states = states_of("canary_count", alarm_at=Phase.BAKING)
    rolling_back = describe(states[Phase.ROLLING_BACK])
    assert rolling_back["EndpointStatus"] == "RollingBack"
    assert pending(rolling_back)["VariantStatus"][0]["Status"] == "Deleting"
    assert "alarm 'errors'" in rolling_back["FailureReason"]

    rolled_back = describe(states[Phase.ROLLED_BACK])
    assert rolled_back["EndpointStatus"] == "InService"
    assert rolled_back["EndpointConfigName"] == "c1"
    assert rolled_back["FailureReason"].startswith("Deployment rolled back because CloudWatch alarm 'errors'")


def test_describe_after_a_failed_rollback() -> None:
    def script(w: FakeWorld, s: RolloutState, now: float) -> None:
        if s.phase is Phase.BAKING and s.stage_index == 1:  # blue down to 3 of 4: rollback must launch
            w.failing["c1"] = "InsufficientInstanceCapacity"
            w.alarm("errors", AlarmState.ALARM, now)

    state, world, _ = SCENARIOS["rolling_count"].start()
    state, _ = drive(state, world, script=script)
    view = describe(state, world.observe(1e6))
    assert view["EndpointStatus"] == "UpdateRollbackFailed"
    assert view["FailureReason"].startswith("Rollback failed")
    assert view["ProductionVariants"][0]["CurrentInstanceCount"] == 3  # observed ready blue instances


def test_rolling_shows_updating_variants() -> None:
    states = states_of("rolling_count")
    view = describe(states[Phase.PROVISIONING])
    assert pending(view)["VariantStatus"][0]["Status"] == "Updating"
    baking = describe(states[Phase.BAKING])
    assert baking["ProductionVariants"][0]["VariantStatus"][0]["StatusMessage"] == (
        "Replacing instances: 4 of 4 old instance(s) left"
    )


def test_progress_and_timeline() -> None:
    states = states_of("linear_count")
    baking = states[Phase.BAKING]
    assert baking.bake_started_at is not None
    p = progress(baking, baking.bake_started_at + 5)
    assert (p.stage, p.stage_number, p.stage_count, p.bake_remaining_s) == ("linear step 1 of 3", 1, 3, 15.0)
    assert p.traffic == {"c1": 67, "c2": 33}
    assert p.deadline_in_s == 3600 - baking.bake_started_at - 5
    entries = timeline(states[Phase.SUCCEEDED])
    assert [e["Seq"] for e in entries] == list(range(len(entries)))
    assert entries[0]["Message"].startswith("Deployment started: LINEAR update from c1 to c2")
    assert entries[-1]["Phase"] == "SUCCEEDED"


# --- GreenfleetRollout -------------------------------------------------------------------------------


def test_describe_and_details_through_checks_and_an_approval_gate() -> None:
    raw = step_list((10, 20), (100, 0), approvals=(0,), Checks=[webhook("it", "PRE_TRAFFIC"), webhook("smoke", "STEP")])
    state, world, _ = Scenario(raw).start()
    seen: dict[Phase, RolloutState] = {}
    for now in range(5, 150, 5):  # nobody approves: the gate holds
        state, actions = step(state, world.observe(now, state), now)
        world.apply(actions, now)
        seen.setdefault(state.phase, state)
    assert state.phase is Phase.AWAITING_APPROVAL
    before = pending(describe(seen[Phase.CHECKING]))["VariantStatus"][0]
    assert (before["Status"], before["StatusMessage"]) == ("Creating", "Running checks it before step 1 of 2")
    gate = pending(describe(state))["VariantStatus"][0]
    assert (gate["Status"], gate["StatusMessage"]) == (
        "Baking",
        "Waiting for approval with 10% of traffic (step 1 of 2)",
    )
    details = rollout_details(state)
    assert details["Strategy"] == "STEPS" and details["Phase"] == "AWAITING_APPROVAL"
    assert [s["TrafficPercent"] for s in details["Steps"]] == [10, 100]
    assert details["Steps"][0]["RequireApproval"] and details["Steps"][0]["Current"]
    assert [(c["Name"], c["Passed"]) for c in details["Checks"]] == [("it", True), ("smoke", True)]
    assert "Judge" not in details
    assert progress(state, state.phase_started_at).awaiting_approval
