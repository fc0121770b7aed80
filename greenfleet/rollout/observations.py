"""What the driver observes before each tick. The machine reads nothing else about the world.

Missing entries are read conservatively: an unknown fleet or variant has no ready instances, an
unknown alarm is not in ALARM (INSUFFICIENT_DATA), a check without a result is pending, no judge report
means no verdict (a judged bake waits for one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from greenfleet.judge.report import JudgeReport

__all__ = [
    "AlarmObservation",
    "AlarmState",
    "CheckResult",
    "CheckStatus",
    "Command",
    "CommandKind",
    "FleetObservation",
    "Observations",
    "VariantObservation",
]


class AlarmState(StrEnum):
    OK = "OK"
    ALARM = "ALARM"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


@dataclass(frozen=True)
class AlarmObservation:
    state: AlarmState
    entered_alarm_at: float | None = None
    """When the alarm last went into ALARM (None: never). Lets the machine see an ALARM that came and
    went between two ticks: it trips the rollback if it is at or after the deployment's start."""


@dataclass(frozen=True)
class VariantObservation:
    desired: int
    """Instances the driver is currently keeping for this variant (its last applied SetFleet); for
    display and debugging, the machine decides on ``ready`` and ``failed``."""
    ready: int
    """Instances running and passing health checks (may receive traffic)."""
    failed: int = 0
    """Instances that could not be launched or did not pass their startup health check in time
    (ContainerStartupHealthCheckTimeoutInSeconds). Not crashes the supervisor is restarting."""
    failure_reason: str | None = None


@dataclass(frozen=True)
class FleetObservation:
    variants: Mapping[str, VariantObservation] = field(default_factory=dict)
    in_flight: int = 0
    """Requests being processed by this fleet's instances right now."""

    def ready(self, variant: str) -> int:
        v = self.variants.get(variant)
        return v.ready if v else 0


class CommandKind(StrEnum):
    ABORT = "ABORT"  # roll back now
    PAUSE = "PAUSE"  # stop advancing (rollback causes still apply; the deadline stops counting)
    RESUME = "RESUME"  # undo PAUSE
    APPROVE = "APPROVE"  # let a step held for approval (AWAITING_APPROVAL) go on
    PROMOTE = "PROMOTE"  # skip the remaining bakes, approvals, judgements, STEP checks and the termination wait


class CheckStatus(StrEnum):
    PENDING = "PENDING"
    PASSED = "PASSED"  # a 2xx answer (load test: within its bounds), possibly after retries
    FAILED = "FAILED"  # non-2xx or timeout on the last attempt (load test: out of bounds)


@dataclass(frozen=True)
class CheckResult:
    status: CheckStatus
    detail: str = ""
    """Shown in the timeline and FailureReason, e.g. "HTTP 503 after 3 attempts"."""


@dataclass(frozen=True)
class Command:
    """An operator's command to one deployment, recorded with who and why; ``command_id`` makes its
    re-delivery harmless (the state remembers handled ids)."""

    command_id: str
    kind: CommandKind
    by: str
    reason: str = ""
    at: float = 0.0


@dataclass(frozen=True)
class Observations:
    fleets: Mapping[str, FleetObservation] = field(default_factory=dict)
    """Per fleet id (the FleetSpec's, by default the endpoint config name)."""
    alarms: Mapping[str, AlarmObservation] = field(default_factory=dict)
    """Per AlarmName of the deployment's AutoRollbackConfiguration."""
    commands: tuple[Command, ...] = ()
    """Pending commands for this deployment, oldest first; handled ones may be repeated."""
    last_event_seq: int | None = None
    """Highest timeline seq already in the event log, or None. When given, every later timeline entry
    is (re-)emitted, so events lost to a crash between save and apply are sent again."""
    check_results: Mapping[str, CheckResult] = field(default_factory=dict)
    """Per RunCheck.check_id started for this deployment: its result so far (missing: pending)."""
    judge: JudgeReport | None = None
    """The judge's report for judging.judge_request(state, now), when there is one."""

    def fleet(self, fleet_id: str) -> FleetObservation:
        return self.fleets.get(fleet_id) or FleetObservation()
