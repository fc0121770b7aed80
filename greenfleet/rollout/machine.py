"""The rollout engine: ``begin`` and ``step``, pure functions of (state, observations, now).

Each ``step`` makes at most one transition (a phase change, a new stage, a rollback batch, a command
recorded, a judgement) and returns the whole desired world as absolute actions (actions.py), so the
driver can save the state, then apply the actions, and re-apply them after a crash.

One tick, in order:

1. a terminal state stays as it is;
2. the oldest unhandled operator command is handled, and nothing else (commands.py);
3. ROLLING_BACK walks the rollback plan (rollback.py);
4. check results and the judge's report are recorded (checks.py, judging.py);
5. in an active phase: an AutoRollbackConfiguration alarm in ALARM now or at any moment since the
   deployment started, failed green instances, a failed check, the judge's ROLLBACK or the deadline
   start ROLLING_BACK;
6. otherwise the deployment moves forward (forward.py), unless paused;
7. time spent waiting for a person (paused, AWAITING_APPROVAL) is added to ``waited_s``, which moves the
   deadline.
"""

from __future__ import annotations

from greenfleet.rollout.actions import Action, render
from greenfleet.rollout.baseline import baseline_wanted, stop_baseline, with_baseline
from greenfleet.rollout.causes import alarm_cause, fleet_failure, timeout
from greenfleet.rollout.checks import check_failure, record_results
from greenfleet.rollout.commands import on_command
from greenfleet.rollout.fleet import FleetSpec
from greenfleet.rollout.forward import describe_counts, progress
from greenfleet.rollout.judging import consume_report
from greenfleet.rollout.observations import Observations
from greenfleet.rollout.plans import compile_plan
from greenfleet.rollout.policy import DeploymentConfig, check_fleets
from greenfleet.rollout.rollback import rolling_back, start_rollback
from greenfleet.rollout.state import HUMAN_WAIT_PHASES, Limits, Phase, RolloutState

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
    baseline: FleetSpec | None = None,
) -> tuple[RolloutState, list[Action]]:
    """A new deployment from ``blue`` (serving now) to ``green``; raises ValidationError when the
    DeploymentConfig does not fit the fleets. Save the state, then apply the actions. ``baseline``: the
    judge's fresh baseline fleet (baseline.py), given when ``baseline_wanted``."""
    if len({blue.fleet_id, green.fleet_id} | ({baseline.fleet_id} if baseline else set())) != (3 if baseline else 2):
        raise ValueError("blue, green and the baseline need distinct fleet ids")
    check_fleets(config, blue, green)
    if baseline is not None and not baseline_wanted(config, blue, green):
        raise ValueError("a baseline fleet was given to a deployment that does not judge against one")
    limits = limits or Limits()
    strategy, plan, termination_wait = compile_plan(config, blue, green)
    fleets = {blue.fleet_id: blue.counts(), green.fleet_id: green.zero()}
    traffic = {blue.fleet_id: 100, green.fleet_id: 0}
    if baseline is not None:
        plan = with_baseline(plan, baseline, blue.fleet_id, green.fleet_id)
        fleets, traffic = stop_baseline(baseline, fleets, traffic)
    policy = (config.BlueGreenUpdatePolicy or config.RollingUpdatePolicy) if config else None
    timeout = policy.MaximumExecutionTimeoutInSeconds if policy else None
    rolling = config.RollingUpdatePolicy if config else None
    ext = config.GreenfleetRollout if config else None
    state = RolloutState(
        deployment_id=deployment_id,
        endpoint_name=endpoint_name,
        strategy=strategy,
        phase=Phase.PROVISIONING,
        blue=blue,
        green=green,
        plan=plan,
        fleets=fleets,
        traffic=traffic,
        started_at=now,
        deadline_at=now + (float(timeout) if timeout is not None else limits.default_timeout_s),
        phase_started_at=now,
        termination_wait_s=termination_wait,
        alarm_names=config.alarm_names if config else (),
        limits=limits,
        deployment_config=config.to_json() if config else None,
        rollback_batch=rolling.RollbackMaximumBatchSize if rolling else None,
        checks=tuple(ext.Checks) if ext else (),
        judge=ext.Judge if ext else None,
        baseline=baseline,
    )
    stage = plan[0]
    state = state.enter(
        Phase.PROVISIONING,
        now,
        f"Deployment started: {strategy} update from {blue.config_name} to {green.config_name}; "
        f"launching {describe_counts(stage.await_ready)} of {green.config_name} for {stage.label}",
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
        return _settle(on_command(state, command, obs, now), now)
    if state.phase is Phase.ROLLING_BACK:
        return rolling_back(state, obs, now)
    state = record_results(state, obs, now)
    state, judged = consume_report(state, obs, now)
    cause = (
        alarm_cause(state, obs, now)
        or fleet_failure(state, obs, now)
        or check_failure(state, now)
        or judged
        or timeout(state, now)
    )
    if cause is not None:
        return _settle(start_rollback(state, cause, obs, now), now)
    return _settle(progress(state, obs, now), now)


def _settle(state: RolloutState, now: float) -> RolloutState:
    """Bookkeeping after a transition: drop a finished check run, account for waits for a person."""
    if state.check_run is not None and state.phase is not Phase.CHECKING:
        state = state.evolve(check_run=None)
    waiting = state.paused or state.phase in HUMAN_WAIT_PHASES
    if waiting and state.waiting_since is None:
        return state.evolve(waiting_since=now)
    if not waiting and state.waiting_since is not None:
        return state.evolve(waited_s=state.waited_s + now - state.waiting_since, waiting_since=None)
    return state
