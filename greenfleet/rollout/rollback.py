"""Rolling back: the rollback plan walked stage by stage (traffic back to blue, in RollbackMaximumBatchSize
batches for rolling, each batch once its blue capacity is ready), then ROLLED_BACK once blue is fully
ready; blue failing or not ready within ``limits.rollback_timeout_s`` ends in ROLLBACK_FAILED."""

from __future__ import annotations

from greenfleet.rollout.baseline import stop_baseline
from greenfleet.rollout.observations import Observations
from greenfleet.rollout.plans import rollback_plan
from greenfleet.rollout.state import Phase, RollbackCause, RolloutState

__all__ = ["ready", "rolling_back", "start_rollback"]


def ready(await_ready: dict[str, dict[str, int]], obs: Observations) -> bool:
    return all(
        obs.fleet(fleet_id).ready(variant) >= n
        for fleet_id, counts in await_ready.items()
        for variant, n in counts.items()
    )


def start_rollback(state: RolloutState, cause: RollbackCause, obs: Observations, now: float) -> RolloutState:
    plan = rollback_plan(state.fleets, state.blue, state.green, state.rollback_batch)
    if state.baseline is not None:  # no traffic from the first stage on; stopped once rolled back
        keep = {state.baseline.fleet_id: state.fleets.get(state.baseline.fleet_id, state.baseline.zero())}
        plan = tuple(s.model_copy(update={"fleets": {**s.fleets, **keep},
                                          "traffic": {**s.traffic, state.baseline.fleet_id: 0}}) for s in plan)
    rolling = state.enter(
        Phase.ROLLING_BACK,
        now,
        cause.message,
        rollback_plan=plan,
        rollback_index=0,
        rollback_started_at=now,
        rollback_cause=cause,
        failure_reason=cause.message,
        fleets=plan[0].fleets,
        bake_started_at=None,
        paused=False,
        check_run=None,
        judge_next_at=None,
    )
    return _apply_rollback_stage(rolling, obs, now, quiet=True)


def rolling_back(state: RolloutState, obs: Observations, now: float) -> RolloutState:
    blue = state.blue
    fleet = obs.fleet(blue.fleet_id)
    if state.rollback_index >= len(state.rollback_plan) and ready({blue.fleet_id: blue.counts()}, obs):
        fleets, traffic = stop_baseline(state.baseline,
                                        {blue.fleet_id: blue.counts(), state.green.fleet_id: state.green.zero()},
                                        {blue.fleet_id: 100, state.green.fleet_id: 0})
        return state.enter(
            Phase.ROLLED_BACK,
            now,
            f"Rolled back: endpoint on {blue.config_name} again; new fleet stopped",
            fleets=fleets,
            traffic=traffic,
        )
    failed = [f"variant '{n}': {v.failure_reason or 'failed'}" for n, v in sorted(fleet.variants.items()) if v.failed]
    if failed:
        return _rollback_failed(state, now, "the old fleet failed to launch: " + "; ".join(failed))
    if now - (state.rollback_started_at or now) >= state.limits.rollback_timeout_s:
        ready_now = ", ".join(f"'{v.name}' {fleet.ready(v.name)} of {v.instance_count}" for v in blue.variants)
        return _rollback_failed(
            state,
            now,
            f"the old fleet was not ready within {state.limits.rollback_timeout_s:g} s (ready: {ready_now})",
        )
    return _apply_rollback_stage(state, obs, now, quiet=False)


def _apply_rollback_stage(state: RolloutState, obs: Observations, now: float, *, quiet: bool) -> RolloutState:
    """Apply the awaited rollback stage's traffic once its blue capacity is ready; start the next one."""
    index = state.rollback_index
    if index >= len(state.rollback_plan) or not ready(state.rollback_plan[index].await_ready, obs):
        return state
    stage = state.rollback_plan[index]
    nxt = index + 1
    changes = {
        "traffic": stage.traffic,
        "rollback_index": nxt,
        "fleets": state.rollback_plan[nxt].fleets if nxt < len(state.rollback_plan) else state.fleets,
    }
    if quiet:
        return state.evolve(**changes)
    share = stage.traffic[state.blue.fleet_id]
    return state.note(now, f"{stage.label}: {share}% of traffic on the old fleet", **changes)


def _rollback_failed(state: RolloutState, now: float, why: str) -> RolloutState:
    cause = state.rollback_cause.message if state.rollback_cause else "unknown"
    return state.enter(
        Phase.ROLLBACK_FAILED,
        now,
        f"Rollback failed: {why}.",
        failure_reason=f"Rollback failed: {why}. The deployment was rolling back because: {cause}",
    )
