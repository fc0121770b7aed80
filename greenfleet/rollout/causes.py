"""What starts a rollback: alarms, failed green instances, the deadline. Pure reads of state and
observations, each returning the cause with a SageMaker-like FailureReason, or None. (Checks and the
judge have their own modules: checks.py, judging.py.)"""

from __future__ import annotations

from datetime import UTC, datetime

from greenfleet.rollout.observations import AlarmState, Observations
from greenfleet.rollout.state import HUMAN_WAIT_PHASES, CauseKind, CheckTiming, Phase, RollbackCause, RolloutState

__all__ = ["alarm_cause", "fleet_failure", "iso", "timeout", "where"]


def alarm_cause(state: RolloutState, obs: Observations, now: float) -> RollbackCause | None:
    fired: list[tuple[str, float]] = []
    for name in state.alarm_names:
        alarm = obs.alarms.get(name)
        if alarm is None:
            continue
        if alarm.state is AlarmState.ALARM:
            fired.append((name, alarm.entered_alarm_at if alarm.entered_alarm_at is not None else now))
        elif alarm.entered_alarm_at is not None and alarm.entered_alarm_at >= state.started_at:
            fired.append((name, alarm.entered_alarm_at))
    if not fired:
        return None
    tripped = [(name, at) for name, at in fired if at >= state.started_at]
    already = [(name, at) for name, at in fired if at < state.started_at]
    parts = []
    if tripped:
        names = ", ".join(f"'{name}' (in ALARM at {iso(at)})" for name, at in tripped)
        parts.append(f"CloudWatch alarm{'s' if len(tripped) > 1 else ''} {names} tripped during {where(state)}")
    if already:
        names = ", ".join(f"'{name}' (in ALARM since {iso(at)})" for name, at in already)
        parts.append(f"CloudWatch alarm{'s' if len(already) > 1 else ''} {names} "
                     f"{'were' if len(already) > 1 else 'was'} already in ALARM when the update started "
                     f"and still {'were' if len(already) > 1 else 'was'} during {where(state)}")
    return RollbackCause(kind=CauseKind.ALARM, at=now, message=f"Deployment rolled back because {'; '.join(parts)}.")


def fleet_failure(state: RolloutState, obs: Observations, now: float) -> RollbackCause | None:
    fleets = [("the new fleet", state.green.fleet_id)]
    if state.baseline is not None:
        fleets.append(("the judge's baseline fleet (a copy of the old one)", state.baseline.fleet_id))
    for which, fleet_id in fleets:
        fleet = obs.fleet(fleet_id)
        failures = [
            f"variant '{name}': {v.failed} instance(s) failed" + (f" ({v.failure_reason})" if v.failure_reason else "")
            for name, v in sorted(fleet.variants.items())
            if v.failed > 0
        ]
        if failures:
            return RollbackCause(
                kind=CauseKind.FLEET_FAILED,
                at=now,
                message=f"Deployment rolled back because {which} failed during {where(state)}: "
                + "; ".join(failures)
                + ".",
            )
    return None


def timeout(state: RolloutState, now: float) -> RollbackCause | None:
    """Time waiting for a person (paused, AWAITING_APPROVAL) does not count: the deadline moves by it
    (``waited_s``) when the wait ends (machine.py)."""
    if now < state.deadline_at + state.waited_s or state.paused or state.phase in HUMAN_WAIT_PHASES:
        return None
    limit = state.deadline_at - state.started_at
    return RollbackCause(
        kind=CauseKind.TIMEOUT,
        at=now,
        message=f"Deployment rolled back because it exceeded MaximumExecutionTimeoutInSeconds ({limit:g} s) "
        f"during {where(state)}.",
    )


def where(state: RolloutState) -> str:
    stage = state.stage
    if state.phase is Phase.PROVISIONING and stage is not None:
        return f"provisioning ({stage.label})"
    if state.phase is Phase.BAKING and stage is not None:
        return f"the bake of {stage.label}"
    if state.phase is Phase.CHECKING and state.check_run is not None:
        label = state.plan[min(state.check_run.stage_index, len(state.plan) - 1)].label
        before = state.check_run.timing is CheckTiming.BEFORE_TRAFFIC
        return f"the checks {'before' if before else 'after'} {label}"
    if state.phase is Phase.AWAITING_APPROVAL and stage is not None:
        return f"the approval gate of {stage.label}"
    if state.phase is Phase.TERMINATION_WAIT:
        return "the termination wait"
    return "the drain of the old fleet"


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
