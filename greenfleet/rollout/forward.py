"""Moving forward: for each stage of the plan, launch its added capacity (PROVISIONING), run the checks due
before its traffic (CHECKING), apply its traffic and bake (BAKING; a judged stage also waits for the
judge's CONTINUE), run the STEP checks (CHECKING), wait for an approval if the step asks for one
(AWAITING_APPROVAL). After the last stage: TERMINATION_WAIT (blue/green, if TerminationWaitInSeconds),
DRAINING (blue's in-flight requests finish, bounded), SUCCEEDED (blue stopped).

A pause stops all of this (rollback causes still apply). After PROMOTE, bakes, judgements, STEP checks,
approvals and the termination wait are skipped and a blue/green plan jumps to its last stage; a rolling
plan still goes batch by batch (each needs its capacity). Checks before traffic still run, including
PRE_TRAFFIC ones when green had no traffic yet.
"""

from __future__ import annotations

from itertools import chain

from greenfleet.rollout.baseline import stop_baseline
from greenfleet.rollout.checks import not_passed, run_complete, start_checks
from greenfleet.rollout.observations import Observations
from greenfleet.rollout.rollback import ready
from greenfleet.rollout.state import CheckTiming, Phase, RolloutState, Strategy

__all__ = ["after_bake", "describe_counts", "drain", "enter_stage", "next_stage", "progress"]


def progress(state: RolloutState, obs: Observations, now: float) -> RolloutState:
    if state.paused:
        return state
    stage = state.stage
    if state.phase is Phase.PROVISIONING and stage is not None:
        if not ready(stage.await_ready, obs):
            return state
        return _enter_traffic(state, _target(state, state.stage_index), state.stage_index, now)
    if state.phase is Phase.CHECKING:
        return _checked(state, obs, now)
    if state.phase is Phase.BAKING and stage is not None:
        promoted = state.promoted_by is not None
        if not promoted and now - (state.bake_started_at or now) < stage.bake_s:
            return state
        if not promoted and stage.judged and state.judge_next_at is not None:
            return state  # the bake is over; waiting for the judge's CONTINUE (judging.py)
        return after_bake(state, obs, now)
    if state.phase is Phase.TERMINATION_WAIT:
        if state.promoted_by is not None or now - (state.bake_started_at or now) >= state.termination_wait_s:
            return drain(state, now)
        return state
    if state.phase is Phase.DRAINING:
        in_flight = obs.fleet(state.blue.fleet_id).in_flight
        if in_flight == 0:
            return _succeed(state, now, "old fleet drained")
        if now - state.phase_started_at >= state.limits.drain_timeout_s:
            return _succeed(state, now, f"drain timed out with {in_flight} request(s) in flight")
    return state


def _target(state: RolloutState, index: int) -> int:
    """After PROMOTE a blue/green plan jumps to its last stage (green is at full capacity from stage 0)."""
    if state.promoted_by is not None and state.strategy is not Strategy.ROLLING:
        return len(state.plan) - 1
    return index


def enter_stage(state: RolloutState, index: int, obs: Observations, now: float) -> RolloutState:
    """Start stage ``index``: set its instance targets; go on once its capacity is ready."""
    target = _target(state, index)
    stage = state.plan[target]
    if ready(stage.await_ready, obs):
        return _enter_traffic(state, target, index, now)
    return state.enter(
        Phase.PROVISIONING,
        now,
        f"Launching {describe_counts(stage.await_ready)} of {state.green.config_name} for {stage.label}",
        stage_index=target,
        fleets=stage.fleets,
        bake_started_at=None,
    )


def _enter_traffic(state: RolloutState, index: int, first: int, now: float) -> RolloutState:
    """Stage ``index``'s capacity is ready: run the checks due before the traffic of stages first..index
    that have not passed, else apply its traffic."""
    stage = state.plan[index]
    due = tuple(chain.from_iterable(s.pre_checks for s in state.plan[first : index + 1]))
    names = not_passed(state, due, index)
    if names:
        return start_checks(
            state.evolve(stage_index=index, fleets=stage.fleets),
            index,
            CheckTiming.BEFORE_TRAFFIC,
            names,
            now,
            f"{stage.label}: new capacity ready",
        )
    return _enter_bake(state, index, now)


def _enter_bake(state: RolloutState, index: int, now: float) -> RolloutState:
    stage = state.plan[index]
    share = stage.traffic[state.green.fleet_id]
    promoted = state.promoted_by is not None
    window = state.judge_window_started_at
    if window is None and state.judge is not None and 0 < share < 100 and not promoted:
        window = now
    bake = f"; baking {stage.bake_s:g} s" if stage.bake_s and not promoted else ""
    return state.enter(
        Phase.BAKING,
        now,
        f"{stage.label}: {share}% of traffic on the new fleet{bake}",
        stage_index=index,
        fleets=stage.fleets,
        traffic=stage.traffic,
        bake_started_at=now,
        judge_window_started_at=window,
        judge_next_at=now + stage.bake_s if stage.judged and not promoted else None,
    )


def _checked(state: RolloutState, obs: Observations, now: float) -> RolloutState:
    run = state.check_run
    if run is None or not run_complete(state):
        return state  # failures roll back (checks.check_failure)
    if run.timing is CheckTiming.BEFORE_TRAFFIC:
        return _enter_traffic(state, _target(state, run.stage_index), run.stage_index, now)
    return _after_checks(state, obs, now)


def after_bake(state: RolloutState, obs: Observations, now: float) -> RolloutState:
    stage = state.plan[state.stage_index]
    if state.promoted_by is None:
        names = not_passed(state, stage.post_checks, state.stage_index)
        if names:
            return start_checks(state, state.stage_index, CheckTiming.AFTER_BAKE, names, now, f"{stage.label} baked")
    return _after_checks(state, obs, now)


def _after_checks(state: RolloutState, obs: Observations, now: float) -> RolloutState:
    stage = state.plan[state.stage_index]
    if stage.approval and state.promoted_by is None:
        return state.enter(
            Phase.AWAITING_APPROVAL,
            now,
            f"{stage.label}: holding {state.green_share}% of traffic on the new fleet until approved "
            "(APPROVE to go on, PROMOTE to finish, ABORT to roll back)",
        )
    return next_stage(state, obs, now)


def next_stage(state: RolloutState, obs: Observations, now: float) -> RolloutState:
    if state.stage_index + 1 < len(state.plan):
        return enter_stage(state, state.stage_index + 1, obs, now)
    if state.termination_wait_s > 0 and state.promoted_by is None:
        return state.enter(
            Phase.TERMINATION_WAIT,
            now,
            f"All traffic on the new fleet; baking {state.termination_wait_s:g} s "
            "(TerminationWaitInSeconds) before stopping the old fleet",
            bake_started_at=now,
            stage_index=len(state.plan),
        )
    return drain(state, now)


def drain(state: RolloutState, now: float) -> RolloutState:
    return state.enter(
        Phase.DRAINING,
        now,
        f"No traffic on the old fleet; draining in-flight requests (at most {state.limits.drain_timeout_s:g} s)",
        bake_started_at=None,
        stage_index=len(state.plan),
    )


def _succeed(state: RolloutState, now: float, how: str) -> RolloutState:
    blue, green = state.blue, state.green
    fleets, traffic = stop_baseline(state.baseline, {blue.fleet_id: blue.zero(), green.fleet_id: green.counts()},
                                    {blue.fleet_id: 0, green.fleet_id: 100})
    return state.enter(
        Phase.SUCCEEDED,
        now,
        f"Deployment succeeded ({how}): endpoint on {green.config_name}; old fleet stopped",
        fleets=fleets,
        traffic=traffic,
    )


def describe_counts(counts: dict[str, dict[str, int]]) -> str:
    parts = [f"{n} x {variant}" for fleet in counts.values() for variant, n in fleet.items()]
    return ", ".join(parts) + " instance(s)" if parts else "nothing"
