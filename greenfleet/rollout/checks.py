"""Webhook and load-test checks at the points of a deployment (GreenfleetRollout.Checks): which run when,
their ids, their results, and the rollback they cause. Pure reads and updates of the state.

A check run is the set of checks of one stage and timing (state.CheckRun): the machine enters CHECKING,
``render`` asks the driver to run each check that has no outcome yet (actions.RunCheck), and each tick
``record_results`` stores the outcomes observed (Observations.check_results). All passed: the stage goes
on. One failed, or still pending beyond its budget (TimeoutInSeconds x (Retries + 1) + check_grace_s):
the deployment rolls back.

Ids: "<deployment>/<name>" for checks that run once (PRE_TRAFFIC, PRE_PROMOTION, POST_*), and
"<deployment>/<name>/<stage>" for STEP checks, so a re-delivered RunCheck or result is harmless.
"""

from __future__ import annotations

from greenfleet.rollout.causes import where
from greenfleet.rollout.extension import CheckConfig
from greenfleet.rollout.observations import CheckStatus, Observations
from greenfleet.rollout.state import CauseKind, CheckOutcome, CheckRun, CheckTiming, Phase, RollbackCause, RolloutState

__all__ = [
    "check_config",
    "check_failure",
    "check_id",
    "not_passed",
    "notification_checks",
    "record_results",
    "run_complete",
    "start_checks",
    "waiting_checks",
]


def check_config(state: RolloutState, name: str) -> CheckConfig:
    return next(c for c in state.checks if c.Name == name)


def check_id(state: RolloutState, name: str, stage_index: int) -> str:
    if check_config(state, name).Point == "STEP":
        return f"{state.deployment_id}/{name}/{stage_index}"
    return f"{state.deployment_id}/{name}"


def _outcome(state: RolloutState, ident: str) -> CheckOutcome | None:
    return next((o for o in state.check_outcomes if o.check_id == ident), None)


def not_passed(state: RolloutState, names: tuple[str, ...], stage_index: int) -> tuple[str, ...]:
    """The checks among ``names`` that have not passed yet for that stage (in order, once each)."""
    out: list[str] = []
    for name in dict.fromkeys(names):
        outcome = _outcome(state, check_id(state, name, stage_index))
        if outcome is None or not outcome.passed:
            out.append(name)
    return tuple(out)


def start_checks(
    state: RolloutState, index: int, timing: CheckTiming, names: tuple[str, ...], now: float, why: str
) -> RolloutState:
    points = ", ".join(f"'{n}' ({check_config(state, n).Point})" for n in names)
    return state.enter(
        Phase.CHECKING,
        now,
        f"{why}: running check{'s' if len(names) > 1 else ''} {points}",
        check_run=CheckRun(stage_index=index, timing=timing, names=names, started_at=now),
        bake_started_at=None if timing is CheckTiming.BEFORE_TRAFFIC else state.bake_started_at,
    )


def waiting_checks(state: RolloutState) -> list[tuple[str, CheckConfig, int]]:
    """(check id, config, stage) of the current run's checks without an outcome: the driver runs them."""
    run = state.check_run
    if state.phase is not Phase.CHECKING or run is None:
        return []
    out = []
    for name in run.names:
        ident = check_id(state, name, run.stage_index)
        if _outcome(state, ident) is None:
            out.append((ident, check_config(state, name), run.stage_index))
    return out


def notification_checks(state: RolloutState) -> list[tuple[str, CheckConfig, int]]:
    """POST_COMPLETION / POST_ROLLBACK checks once the outcome is settled: run, not waited for."""
    point = {
        Phase.SUCCEEDED: "POST_COMPLETION",
        Phase.ROLLED_BACK: "POST_ROLLBACK",
        Phase.ROLLBACK_FAILED: "POST_ROLLBACK",
    }.get(state.phase)
    if point is None:
        return []
    return [(check_id(state, c.Name, len(state.plan)), c, len(state.plan)) for c in state.checks if c.Point == point]


def record_results(state: RolloutState, obs: Observations, now: float) -> RolloutState:
    """Store the outcomes the driver reports for the running checks, and time out the silent ones."""
    new: list[CheckOutcome] = []
    for ident, config, stage in waiting_checks(state):
        result = obs.check_results.get(ident)
        started = state.check_run.started_at if state.check_run else now
        budget = config.budget_s + state.limits.check_grace_s
        if result is not None and result.status is not CheckStatus.PENDING:
            passed, detail = result.status is CheckStatus.PASSED, result.detail
        elif now - started >= budget:
            passed, detail = False, f"no result within {budget:g} s"
        else:
            continue
        new.append(CheckOutcome(check_id=ident, name=config.Name, point=config.Point, stage_index=stage,
                                passed=passed, at=now, detail=detail))
    if not new:
        return state
    return state.evolve(check_outcomes=(*state.check_outcomes, *new))


def run_complete(state: RolloutState) -> bool:
    run = state.check_run
    if run is None:
        return True
    return not not_passed(state, run.names, run.stage_index)


def check_failure(state: RolloutState, now: float) -> RollbackCause | None:
    run = state.check_run
    if state.phase is not Phase.CHECKING or run is None:
        return None
    failed = [
        o
        for name in run.names
        if (o := _outcome(state, check_id(state, name, run.stage_index))) is not None and not o.passed
    ]
    if not failed:
        return None
    what = "; ".join(f"'{o.name}' ({o.point})" + (f": {o.detail}" if o.detail else "") for o in failed)
    return RollbackCause(
        kind=CauseKind.CHECK_FAILED,
        at=now,
        message=f"Deployment rolled back because check {what} failed during {where(state)}.",
    )
