"""The canary judge inside the rollout: when it runs, on which window, and what its reports do.

The judge compares green with its control: the fresh baseline (baseline.py) when the deployment runs one,
else blue. It is active while green and blue share traffic (0 < green's share < 100) in an active phase, once
the DeploymentConfig has a Judge, unless the deployment was promoted. Its window starts when green first
takes traffic next to blue and grows until the end of the deployment (one window, so the sequential
tests' running minima stay valid across steps). A judged stage's bake ends in a judgement point; a HOLD
there sets the next one IntervalInSeconds later.

The driver, each tick: ``request = judge_request(state, now)``; when not None, it collects the samples of
each configured metric for blue (control) and green (experiment) from ``request.window_start`` to now and
passes ``request.evaluate(samples, now)`` as Observations.judge. The machine (``consume_report``):

- stores every report for the current window that is newer than the stored one (a restart resumes from
  it: running minima, no-data counts);
- ROLLBACK, at any look -> roll back;
- at a judgement point (report.judgement, at or after judge_next_at): CONTINUE lets the bake end (the
  stage goes on), HOLD keeps the traffic and moves the judgement point.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from greenfleet.judge.config import JudgeConfig
from greenfleet.judge.judgement import evaluate
from greenfleet.judge.report import Decision, JudgeReport
from greenfleet.judge.samples import MetricSamples
from greenfleet.rollout.causes import where
from greenfleet.rollout.fleet import FleetSpec
from greenfleet.rollout.observations import Observations
from greenfleet.rollout.state import ACTIVE_PHASES, CauseKind, RollbackCause, RolloutState

__all__ = ["JudgeRequest", "compared", "consume_report", "judge_active", "judge_request"]


@dataclass(frozen=True)
class JudgeRequest:
    """What the driver must judge this tick."""

    config: JudgeConfig
    control: FleetSpec
    """The fresh baseline, or blue (Judge.Baseline): collect each metric on its ``metrics_config``
    (EndpointConfigName) and variants."""
    experiment: FleetSpec
    """Green."""
    window_start: float
    judgement: bool
    """This tick is a judgement point."""
    previous: JudgeReport | None
    compared: str = ""
    """Which fleets are compared, for the report."""

    def evaluate(self, samples: Mapping[str, MetricSamples], now: float, excluded: tuple[str, ...] = ()) -> JudgeReport:
        """``excluded``: what the collected samples leave out and why (warm-up), for the report."""
        report = evaluate(
            self.config,
            samples,
            at=now,
            window_start=self.window_start,
            judgement=self.judgement,
            previous=self.previous,
        )
        return report.model_copy(update={"compared": self.compared, "excluded": excluded})


def judge_active(state: RolloutState) -> bool:
    return (
        state.judge is not None
        and state.judge_window_started_at is not None
        and state.promoted_by is None
        and state.phase in ACTIVE_PHASES
        and 0 < state.green_share < 100
    )


def judge_request(state: RolloutState, now: float) -> JudgeRequest | None:
    if not judge_active(state) or state.judge is None or state.judge_window_started_at is None:
        return None
    window = state.judge_window_started_at
    previous = state.judge_report if state.judge_report and state.judge_report.window_start == window else None
    return JudgeRequest(
        config=state.judge,
        control=state.baseline or state.blue,
        experiment=state.green,
        window_start=window,
        judgement=state.judge_next_at is not None and now >= state.judge_next_at,
        previous=previous,
        compared=compared(state),
    )


def compared(state: RolloutState) -> str:
    """What the judge compares in this deployment, in words."""
    green = f"green {state.green.config_name} (fleet {state.green.fleet_id})"
    if state.baseline is not None:
        return (f"{green} vs baseline: a fresh copy of {state.baseline.config_name} (fleet "
                f"{state.baseline.fleet_id}) started with green, at green's share")
    return f"{green} vs blue {state.blue.config_name} (fleet {state.blue.fleet_id}), the serving fleet"


def consume_report(state: RolloutState, obs: Observations, now: float) -> tuple[RolloutState, RollbackCause | None]:
    report = obs.judge
    if report is None or not judge_active(state) or report.window_start != state.judge_window_started_at:
        return state, None
    if state.judge_report is not None and report.at <= state.judge_report.at:
        return state, None  # already seen (a repeated tick) or older
    state = state.evolve(judge_report=report)
    if report.decision is Decision.ROLLBACK:
        return state, RollbackCause(
            kind=CauseKind.JUDGE,
            at=now,
            message=f"Deployment rolled back because the canary judge rejected the new fleet during "
            f"{where(state)}: {report.reason}.",
        )
    due = state.judge_next_at
    if not report.judgement or due is None or report.at < due:
        return state, None
    label = state.stage.label if state.stage else "the last step"
    if report.decision is Decision.CONTINUE:
        return state.note(now, f"Judge passed {label}: {report.reason}", judge_verdict=report, judge_next_at=None), None
    interval = state.judge.IntervalInSeconds if state.judge else 60
    return state.note(
        now,
        f"Judge holds {label}: {report.reason}; judging again in {interval} s",
        judge_verdict=report,
        judge_next_at=now + interval,
    ), None
