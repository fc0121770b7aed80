"""The rollout engine: ``begin`` and ``step``, pure functions of (state, observations, now).

Each ``step`` makes at most one transition (a phase change, a new stage, a rollback batch, a command
recorded) and returns the whole desired world as absolute actions (actions.py), so the driver can
save the state, then apply the actions, and re-apply them after a crash.

Forward: for each stage of the plan, launch its added capacity (PROVISIONING), then apply its traffic
and bake (BAKING). After the last stage: TERMINATION_WAIT (blue/green, if TerminationWaitInSeconds),
DRAINING (blue's in-flight requests finish, bounded), SUCCEEDED (blue stopped).

In PROVISIONING, BAKING, TERMINATION_WAIT and DRAINING, before any progress: an operator's abort, any
AutoRollbackConfiguration alarm in ALARM now or at any moment since the deployment started, failed
green instances, or the deadline start ROLLING_BACK. That phase walks the rollback plan (traffic back
to blue, in RollbackMaximumBatchSize batches for rolling, each batch once its blue capacity is ready),
then ROLLED_BACK stops green once blue is fully ready; blue failing or not ready within
``limits.rollback_timeout_s`` ends in ROLLBACK_FAILED.
"""

from __future__ import annotations

from greenfleet.rollout.actions import Action, render
from greenfleet.rollout.causes import alarm_cause, fleet_failure, timeout, where
from greenfleet.rollout.fleet import FleetSpec
from greenfleet.rollout.observations import Command, CommandKind, Observations
from greenfleet.rollout.plans import compile_plan, rollback_plan
from greenfleet.rollout.policy import DeploymentConfig, check_fleets
from greenfleet.rollout.state import ACTIVE_PHASES, CauseKind, Limits, Phase, RollbackCause, RolloutState

__all__ = ["begin", "step"]


def begin(
    *,
    deployment_id: str,
    endpoint_name: str,
    blue: FleetSpec,
    green: FleetSpec,
    config: DeploymentConfig | None,
    now: float,
    limits: Limits | None = None,
) -> tuple[RolloutState, list[Action]]:
    """A new deployment from ``blue`` (serving now) to ``green``; raises ValidationError when the
    DeploymentConfig does not fit the fleets. Save the state, then apply the actions."""
    if blue.fleet_id == green.fleet_id:
        raise ValueError("blue and green need distinct fleet ids")
    check_fleets(config, blue, green)
    limits = limits or Limits()
    strategy, plan, termination_wait = compile_plan(config, blue, green)
    policy = (config.BlueGreenUpdatePolicy or config.RollingUpdatePolicy) if config else None
    timeout = policy.MaximumExecutionTimeoutInSeconds if policy else None
    rolling = config.RollingUpdatePolicy if config else None
    state = RolloutState(
        deployment_id=deployment_id,
        endpoint_name=endpoint_name,
        strategy=strategy,
        phase=Phase.PROVISIONING,
        blue=blue,
        green=green,
        plan=plan,
        fleets={blue.fleet_id: blue.counts(), green.fleet_id: green.zero()},
        traffic={blue.fleet_id: 100, green.fleet_id: 0},
        started_at=now,
        deadline_at=now + (float(timeout) if timeout is not None else limits.default_timeout_s),
        phase_started_at=now,
        termination_wait_s=termination_wait,
        alarm_names=config.alarm_names if config else (),
        limits=limits,
        deployment_config=config.to_json() if config else None,
        rollback_batch=rolling.RollbackMaximumBatchSize if rolling else None,
    )
    stage = plan[0]
    state = state.enter(
        Phase.PROVISIONING,
        now,
        f"Deployment started: {strategy} update from {blue.config_name} to {green.config_name}; "
        f"launching {_describe_counts(stage.await_ready)} of {green.config_name} for {stage.label}",
        fleets=stage.fleets,
    )
    return state, render(state, Observations(), 0)


def step(state: RolloutState, obs: Observations, now: float) -> tuple[RolloutState, list[Action]]:
    """One tick: at most one transition, then the whole desired world as actions."""
    before = len(state.timeline)
    nxt = _advance(state, obs, now)
    return nxt, render(nxt, obs, before)


def _advance(state: RolloutState, obs: Observations, now: float) -> RolloutState:
    if state.is_terminal:
        return state
    command = next((c for c in obs.commands if c.command_id not in state.handled_commands), None)
    if command is not None:
        return _on_command(state, command, obs, now)
    if state.phase is Phase.ROLLING_BACK:
        return _rolling_back(state, obs, now)
    cause = alarm_cause(state, obs, now) or fleet_failure(state, obs, now) or timeout(state, now)
    if cause is not None:
        return _start_rollback(state, cause, obs, now)
    return _progress(state, obs, now)


# --- forward ---------------------------------------------------------------------------------------


def _progress(state: RolloutState, obs: Observations, now: float) -> RolloutState:
    stage = state.stage
    if state.phase is Phase.PROVISIONING and stage is not None:
        return _enter_stage(state, state.stage_index, obs, now) if _ready(stage.await_ready, obs) else state
    if state.phase is Phase.BAKING and stage is not None:
        if now - (state.bake_started_at or now) < stage.bake_s:
            return state
        if state.stage_index + 1 < len(state.plan):
            return _enter_stage(state, state.stage_index + 1, obs, now)
        if state.termination_wait_s > 0:
            return state.enter(
                Phase.TERMINATION_WAIT,
                now,
                f"All traffic on the new fleet; baking {state.termination_wait_s:g} s "
                "(TerminationWaitInSeconds) before stopping the old fleet",
                bake_started_at=now,
                stage_index=len(state.plan),
            )
        return _drain(state, now)
    if state.phase is Phase.TERMINATION_WAIT:
        if now - (state.bake_started_at or now) >= state.termination_wait_s:
            return _drain(state, now)
        return state
    if state.phase is Phase.DRAINING:
        in_flight = obs.fleet(state.blue.fleet_id).in_flight
        if in_flight == 0:
            return _succeed(state, now, "old fleet drained")
        if now - state.phase_started_at >= state.limits.drain_timeout_s:
            return _succeed(state, now, f"drain timed out with {in_flight} request(s) in flight")
    return state


def _enter_stage(state: RolloutState, index: int, obs: Observations, now: float) -> RolloutState:
    """Start stage ``index``: set its instance targets; apply its traffic once its capacity is ready."""
    stage = state.plan[index]
    if _ready(stage.await_ready, obs):
        bake = f"; baking {stage.bake_s:g} s" if stage.bake_s else ""
        return state.enter(
            Phase.BAKING,
            now,
            f"{stage.label}: {stage.traffic[state.green.fleet_id]}% of traffic on the new fleet{bake}",
            stage_index=index,
            fleets=stage.fleets,
            traffic=stage.traffic,
            bake_started_at=now,
        )
    return state.enter(
        Phase.PROVISIONING,
        now,
        f"Launching {_describe_counts(stage.await_ready)} of {state.green.config_name} for {stage.label}",
        stage_index=index,
        fleets=stage.fleets,
        bake_started_at=None,
    )


def _drain(state: RolloutState, now: float) -> RolloutState:
    return state.enter(
        Phase.DRAINING,
        now,
        f"No traffic on the old fleet; draining in-flight requests (at most {state.limits.drain_timeout_s:g} s)",
        bake_started_at=None,
        stage_index=len(state.plan),
    )


def _succeed(state: RolloutState, now: float, how: str) -> RolloutState:
    blue, green = state.blue, state.green
    return state.enter(
        Phase.SUCCEEDED,
        now,
        f"Deployment succeeded ({how}): endpoint on {green.config_name}; old fleet stopped",
        fleets={blue.fleet_id: blue.zero(), green.fleet_id: green.counts()},
        traffic={blue.fleet_id: 0, green.fleet_id: 100},
    )


def _on_command(state: RolloutState, command: Command, obs: Observations, now: float) -> RolloutState:
    handled = state.evolve(handled_commands=(*state.handled_commands, command.command_id))
    if command.kind is CommandKind.ABORT and state.phase in ACTIVE_PHASES:
        why = f": {command.reason}" if command.reason else ""
        cause = RollbackCause(
            kind=CauseKind.ABORTED,
            at=now,
            message=f"Deployment rolled back because {command.by} aborted it during {where(state)}{why}.",
        )
        return _start_rollback(handled, cause, obs, now)
    return handled.note(now, f"{command.kind} by {command.by} ignored: the deployment is {state.phase}")


# --- rollback --------------------------------------------------------------------------------------


def _start_rollback(state: RolloutState, cause: RollbackCause, obs: Observations, now: float) -> RolloutState:
    plan = rollback_plan(state.fleets, state.blue, state.green, state.rollback_batch)
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
    )
    return _apply_rollback_stage(rolling, obs, now, quiet=True)


def _rolling_back(state: RolloutState, obs: Observations, now: float) -> RolloutState:
    blue = state.blue
    fleet = obs.fleet(blue.fleet_id)
    if state.rollback_index >= len(state.rollback_plan) and _ready({blue.fleet_id: blue.counts()}, obs):
        return state.enter(
            Phase.ROLLED_BACK,
            now,
            f"Rolled back: endpoint on {blue.config_name} again; new fleet stopped",
            fleets={blue.fleet_id: blue.counts(), state.green.fleet_id: state.green.zero()},
            traffic={blue.fleet_id: 100, state.green.fleet_id: 0},
        )
    failed = [f"variant '{n}': {v.failure_reason or 'failed'}" for n, v in sorted(fleet.variants.items()) if v.failed]
    if failed:
        return _rollback_failed(state, now, "the old fleet failed to launch: " + "; ".join(failed))
    if now - (state.rollback_started_at or now) >= state.limits.rollback_timeout_s:
        ready = ", ".join(f"'{v.name}' {fleet.ready(v.name)} of {v.instance_count}" for v in blue.variants)
        return _rollback_failed(
            state, now, f"the old fleet was not ready within {state.limits.rollback_timeout_s:g} s (ready: {ready})"
        )
    return _apply_rollback_stage(state, obs, now, quiet=False)


def _apply_rollback_stage(state: RolloutState, obs: Observations, now: float, *, quiet: bool) -> RolloutState:
    """Apply the awaited rollback stage's traffic once its blue capacity is ready; start the next one."""
    index = state.rollback_index
    if index >= len(state.rollback_plan) or not _ready(state.rollback_plan[index].await_ready, obs):
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


# --- helpers ---------------------------------------------------------------------------------------


def _ready(await_ready: dict[str, dict[str, int]], obs: Observations) -> bool:
    return all(
        obs.fleet(fleet_id).ready(variant) >= n
        for fleet_id, counts in await_ready.items()
        for variant, n in counts.items()
    )


def _describe_counts(counts: dict[str, dict[str, int]]) -> str:
    parts = [f"{n} x {variant}" for fleet in counts.values() for variant, n in fleet.items()]
    return ", ".join(parts) + " instance(s)" if parts else "nothing"
