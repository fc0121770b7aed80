"""The persisted progress of one deployment: a closed set of phases and every bit of progress as a field.

Times are epoch seconds (float), as everywhere in greenfleet's store. ``blue`` is the fleet serving when
the deployment began and ``green`` the one it moves to, for rolling deployments too (SageMaker's docs
call them the old and the new fleet).

A deployment walks ``plan``, a list of stages compiled from the DeploymentConfig (plans.py). Each stage
names absolute instance targets for every fleet, the traffic split once its new capacity is ready, and
a bake. A rollback walks ``rollback_plan`` the same way, without bakes.

greenfleet's extension (DeploymentConfig.GreenfleetRollout) adds to a stage: checks before its traffic
(PRE_TRAFFIC, PRE_PROMOTION) and after its bake (STEP), an approval gate after its bake, and whether the
judge runs while it bakes. The state keeps the checks' outcomes, the judge's last reports (with the running
minima it needs to resume), a pause flag and who promoted, so a restart resumes all of it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from greenfleet.judge.config import JudgeConfig
from greenfleet.judge.report import JudgeReport
from greenfleet.rollout.extension import CheckConfig
from greenfleet.rollout.fleet import FleetSpec
from greenfleet.rollout.policy import CapacitySize

__all__ = [
    "ACTIVE_PHASES",
    "HUMAN_WAIT_PHASES",
    "TERMINAL_PHASES",
    "CauseKind",
    "CheckOutcome",
    "CheckRun",
    "CheckTiming",
    "Limits",
    "Phase",
    "RollbackCause",
    "RolloutState",
    "Stage",
    "Strategy",
    "TimelineEntry",
]


class Strategy(StrEnum):
    ALL_AT_ONCE = "ALL_AT_ONCE"  # blue/green: all traffic in one step (also the default without a config)
    CANARY = "CANARY"  # blue/green: a canary share, bake, then the rest
    LINEAR = "LINEAR"  # blue/green: equal steps, each baked
    ROLLING = "ROLLING"  # batches of new instances replace batches of old ones
    STEPS = "STEPS"  # blue/green: an explicit list of traffic steps (GreenfleetRollout.Steps)


class Phase(StrEnum):
    PROVISIONING = "PROVISIONING"  # the current stage's added capacity is launching; traffic unchanged
    BAKING = "BAKING"  # the current stage's traffic split is in place and its bake is running
    TERMINATION_WAIT = "TERMINATION_WAIT"  # all traffic on green, blue kept for TerminationWaitInSeconds
    DRAINING = "DRAINING"  # blue has no traffic; waiting (bounded) for its in-flight requests to finish
    ROLLING_BACK = "ROLLING_BACK"  # traffic back to blue (rolling: batch by batch); green stops at the end
    SUCCEEDED = "SUCCEEDED"  # terminal: the endpoint serves green's config; blue is stopped
    ROLLED_BACK = "ROLLED_BACK"  # terminal: the endpoint serves blue's config again; green is stopped
    ROLLBACK_FAILED = "ROLLBACK_FAILED"  # terminal: blue could not be restored (UpdateRollbackFailed)
    # GreenfleetRollout (appended: the values above are stored as they are)
    CHECKING = "CHECKING"  # the current stage's checks are running (check_run says which); traffic unchanged
    AWAITING_APPROVAL = "AWAITING_APPROVAL"  # the stage baked; its traffic is held until APPROVE (or PROMOTE)


ACTIVE_PHASES = frozenset(
    {
        Phase.PROVISIONING,
        Phase.CHECKING,
        Phase.BAKING,
        Phase.AWAITING_APPROVAL,
        Phase.TERMINATION_WAIT,
        Phase.DRAINING,
    }
)
"""Phases in which alarms, green failures, checks, the judge, commands and the deadline can start a rollback."""

HUMAN_WAIT_PHASES = frozenset({Phase.AWAITING_APPROVAL})
"""Phases (besides a pause) spent waiting for a person: not counted against the deadline."""

TERMINAL_PHASES = frozenset({Phase.SUCCEEDED, Phase.ROLLED_BACK, Phase.ROLLBACK_FAILED})


class CauseKind(StrEnum):
    ALARM = "ALARM"  # an AutoRollbackConfiguration alarm was in ALARM during the deployment
    FLEET_FAILED = "FLEET_FAILED"  # green instances failed to launch or to pass their health check
    TIMEOUT = "TIMEOUT"  # MaximumExecutionTimeoutInSeconds was exceeded
    ABORTED = "ABORTED"  # an operator's abort command
    CHECK_FAILED = "CHECK_FAILED"  # a PRE_TRAFFIC, STEP or PRE_PROMOTION check failed or did not report in time
    JUDGE = "JUDGE"  # the canary judge decided to roll back


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Stage(_Record):
    """One step of a plan. On entry every fleet is set to ``fleets``; once each variant named in
    ``await_ready`` has that many ready instances, ``traffic`` is applied and the bake starts."""

    label: str
    fleets: dict[str, dict[str, int]]
    traffic: dict[str, int]
    bake_s: float = 0.0
    await_ready: dict[str, dict[str, int]] = Field(default_factory=dict)
    pre_checks: tuple[str, ...] = ()
    """Checks (by name) that must pass once the capacity is ready, before the traffic is applied."""
    post_checks: tuple[str, ...] = ()
    """Checks that must pass after the bake (and the judge's CONTINUE), before the next stage."""
    approval: bool = False
    """After the bake and post checks, hold the traffic until an APPROVE command."""
    judged: bool = False
    """The judge runs while this stage bakes; its end is a judgement point."""


class CheckTiming(StrEnum):
    BEFORE_TRAFFIC = "BEFORE_TRAFFIC"  # a stage's pre_checks: its capacity is ready, its traffic not applied
    AFTER_BAKE = "AFTER_BAKE"  # a stage's post_checks: its bake is over, its traffic still in place


class CheckRun(_Record):
    """The checks running now."""

    stage_index: int
    timing: CheckTiming
    names: tuple[str, ...]
    started_at: float


class CheckOutcome(_Record):
    check_id: str
    name: str
    point: str
    stage_index: int
    passed: bool
    at: float
    detail: str = ""


class Limits(_Record):
    """Bounds that SageMaker does not expose; the server fills them from its settings."""

    default_timeout_s: float = 28800.0
    """Deadline when the DeploymentConfig gives no MaximumExecutionTimeoutInSeconds (SageMaker's max)."""
    drain_timeout_s: float = 30.0
    """Longest wait for blue's in-flight requests before it is stopped anyway."""
    rollback_timeout_s: float = 600.0
    """Longest wait for blue to be fully ready again before the rollback counts as failed."""
    check_grace_s: float = 30.0
    """Beyond a check's own budget (TimeoutInSeconds x (Retries + 1)), how long to wait for its result
    before it counts as failed."""


class RollbackCause(_Record):
    kind: CauseKind
    at: float
    message: str


class TimelineEntry(_Record):
    seq: int
    at: float
    phase: Phase
    message: str


class RolloutState(_Record):
    deployment_id: str
    endpoint_name: str
    strategy: Strategy
    phase: Phase
    blue: FleetSpec
    green: FleetSpec
    plan: tuple[Stage, ...]
    stage_index: int = 0
    """Index in ``plan`` of the stage being provisioned or baked."""
    fleets: dict[str, dict[str, int]]
    """Instance targets now in effect, per fleet id and variant (rolling: instances moved so far)."""
    traffic: dict[str, int]
    """Traffic shares now in effect, integer percentages per fleet id summing to 100."""
    started_at: float
    deadline_at: float
    phase_started_at: float
    bake_started_at: float | None = None
    termination_wait_s: float = 0.0
    alarm_names: tuple[str, ...] = ()
    limits: Limits = Field(default_factory=Limits)
    deployment_config: dict[str, Any] | None = None
    """The DeploymentConfig JSON this deployment runs (for LastDeploymentConfig)."""
    rollback_batch: CapacitySize | None = None
    """RollbackMaximumBatchSize (rolling); None: restore blue at once."""
    rollback_plan: tuple[Stage, ...] = ()
    rollback_index: int = 0
    """Index in ``rollback_plan`` of the stage whose capacity is awaited; len(plan) once all applied."""
    rollback_started_at: float | None = None
    rollback_cause: RollbackCause | None = None
    failure_reason: str | None = None
    handled_commands: tuple[str, ...] = ()
    timeline: tuple[TimelineEntry, ...] = ()
    # --- GreenfleetRollout ---
    checks: tuple[CheckConfig, ...] = ()
    check_run: CheckRun | None = None
    check_outcomes: tuple[CheckOutcome, ...] = ()
    judge: JudgeConfig | None = None
    judge_window_started_at: float | None = None
    """When green first took a share of traffic next to blue: the start of the judged window."""
    judge_next_at: float | None = None
    """The next judgement point (end of the judged bake, then every IntervalInSeconds while held); None
    when the current stage has had its CONTINUE (or is not judged)."""
    judge_report: JudgeReport | None = None
    """The judge's latest report (interim or judgement); the next look starts from it."""
    judge_verdict: JudgeReport | None = None
    """The report of the latest judgement point."""
    baseline: FleetSpec | None = None
    """The judge's fresh baseline (baseline.py): a copy of blue's config that green is judged against; None
    when the judge compares green with blue (or there is no judge)."""
    paused: bool = False
    waiting_since: float | None = None
    """Start of the current wait for a person (pause, approval)."""
    waited_s: float = 0.0
    """Time spent waiting for a person so far: the deadline is deadline_at + waited_s."""
    promoted_by: str | None = None
    """Who sent PROMOTE: bakes, approvals, the judge, STEP checks and the termination wait are skipped."""

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str | bytes) -> RolloutState:
        return cls.model_validate_json(text)

    def evolve(self, **changes: Any) -> RolloutState:
        unknown = changes.keys() - type(self).model_fields.keys()
        if unknown:
            raise TypeError(f"RolloutState has no field(s) {sorted(unknown)}")
        return self.model_copy(update=changes)

    def enter(self, phase: Phase, now: float, message: str, **changes: Any) -> RolloutState:
        """A phase transition (or a new stage), recorded on the timeline."""
        entry = TimelineEntry(seq=len(self.timeline), at=now, phase=phase, message=message)
        return self.evolve(phase=phase, phase_started_at=now, timeline=(*self.timeline, entry), **changes)

    def note(self, now: float, message: str, **changes: Any) -> RolloutState:
        """Progress within a phase (a rollback batch, an ignored command), recorded on the timeline."""
        entry = TimelineEntry(seq=len(self.timeline), at=now, phase=self.phase, message=message)
        return self.evolve(timeline=(*self.timeline, entry), **changes)

    @property
    def is_terminal(self) -> bool:
        return self.phase in TERMINAL_PHASES

    @property
    def stage(self) -> Stage | None:
        return self.plan[self.stage_index] if self.stage_index < len(self.plan) else None

    @property
    def green_share(self) -> int:
        return self.traffic.get(self.green.fleet_id, 0)
