"""Operators' commands to a running deployment, each recorded on the timeline with who and why.

    ABORT    any active phase: roll back now.
    PAUSE    any active phase: stop advancing. Rollback causes (alarms, failed instances, checks, the
             judge) still apply; the deadline stops counting until RESUME.
    RESUME   undo PAUSE.
    APPROVE  AWAITING_APPROVAL (and not paused): the step goes on.
    PROMOTE  any active phase but DRAINING: skip the remaining bakes, judgements, STEP checks, approvals
             and the termination wait (forward.py); also resumes a pause.

A command that does not apply is recorded as ignored. Each command id is handled once (re-delivery is
harmless); one command per tick.
"""

from __future__ import annotations

from greenfleet.rollout.causes import where
from greenfleet.rollout.forward import drain, next_stage
from greenfleet.rollout.observations import Command, CommandKind, Observations
from greenfleet.rollout.rollback import start_rollback
from greenfleet.rollout.state import ACTIVE_PHASES, CauseKind, CheckTiming, Phase, RollbackCause, RolloutState

__all__ = ["on_command"]


def on_command(state: RolloutState, command: Command, obs: Observations, now: float) -> RolloutState:
    handled = state.evolve(handled_commands=(*state.handled_commands, command.command_id))
    why = f": {command.reason}" if command.reason else ""
    if state.phase not in ACTIVE_PHASES:
        return _ignored(handled, command, now, f"the deployment is {state.phase}")
    kind = command.kind
    if kind is CommandKind.ABORT:
        cause = RollbackCause(
            kind=CauseKind.ABORTED,
            at=now,
            message=f"Deployment rolled back because {command.by} aborted it during {where(state)}{why}.",
        )
        return start_rollback(handled, cause, obs, now)
    if kind is CommandKind.PAUSE:
        if state.paused:
            return _ignored(handled, command, now, "the deployment is already paused")
        return handled.note(now, f"Paused by {command.by} during {where(state)}{why}", paused=True)
    if kind is CommandKind.RESUME:
        if not state.paused:
            return _ignored(handled, command, now, "the deployment is not paused")
        return handled.note(now, f"Resumed by {command.by}{why}", paused=False)
    if kind is CommandKind.APPROVE:
        if state.phase is not Phase.AWAITING_APPROVAL:
            return _ignored(handled, command, now, "no step is waiting for approval")
        if state.paused:
            return _ignored(handled, command, now, "the deployment is paused (RESUME first)")
        label = state.stage.label if state.stage else "the step"
        return next_stage(handled.note(now, f"{label} approved by {command.by}{why}"), obs, now)
    return _promote(handled, command, obs, now, why)


def _promote(state: RolloutState, command: Command, obs: Observations, now: float, why: str) -> RolloutState:
    if state.promoted_by is not None:
        return _ignored(state, command, now, f"already promoted by {state.promoted_by}")
    if state.phase is Phase.DRAINING:
        return _ignored(state, command, now, "all traffic is already on the new fleet")
    promoted = state.note(
        now,
        f"Promoted by {command.by}{why}: skipping the remaining bakes, judgements, step checks, approvals "
        "and the termination wait",
        promoted_by=command.by,
        paused=False,
        judge_next_at=None,
    )
    run = state.check_run
    if state.phase in (Phase.BAKING, Phase.AWAITING_APPROVAL) or (
        state.phase is Phase.CHECKING and run is not None and run.timing is CheckTiming.AFTER_BAKE
    ):
        return next_stage(promoted, obs, now)
    if state.phase is Phase.TERMINATION_WAIT:
        return drain(promoted, now)
    return promoted  # PROVISIONING, checks before traffic: they go on, then jump (forward.py)


def _ignored(state: RolloutState, command: Command, now: float, why: str) -> RolloutState:
    return state.note(now, f"{command.kind} by {command.by} ignored: {why}")
