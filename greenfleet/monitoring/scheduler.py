"""The monitoring scheduler's pure half: ``step(state, now) -> (state, actions)``. A schedule that is due
yields one ``RunExecution`` (absolute: its id is derived from the schedule and the scheduled time, so
applying it twice starts one execution) and moves to its next time. Runs missed while the server was down
are not back-filled: only the latest due time runs, as SageMaker does."""

from __future__ import annotations

from dataclasses import dataclass, replace

from greenfleet.monitoring.schedule import Rule

SCHEDULED, STOPPED, PENDING, FAILED = "Scheduled", "Stopped", "Pending", "Failed"


@dataclass(frozen=True)
class ScheduleState:
    name: str
    status: str
    rule: Rule
    next_run_at: float | None


@dataclass(frozen=True)
class RunExecution:
    schedule_name: str
    scheduled_time: float
    window_start: float
    window_end: float

    @property
    def execution_id(self) -> str:
        return f"{self.schedule_name}-{int(self.scheduled_time * 1000)}"


def first_run(rule: Rule, created_at: float) -> float | None:
    return created_at if rule.starts_now else rule.next_after(created_at)


def step(state: ScheduleState, now: float, busy: bool = False) -> tuple[ScheduleState, list[RunExecution]]:
    """``busy``: an execution of this schedule is still pending or running; a due run then waits for it
    (and, when it starts, covers the latest window) instead of piling up behind it."""
    if state.status != SCHEDULED or state.next_run_at is None or now < state.next_run_at or busy:
        return state, []
    due = state.next_run_at
    following = state.rule.next_after(due)
    while following is not None and following <= now:  # missed runs: keep only the latest
        due, following = following, state.rule.next_after(following)
    start, end = state.rule.window(due)
    return replace(state, next_run_at=following), [RunExecution(state.name, due, start, end)]
