"""What DescribeEndpoint and the CLI show of a deployment, rendered from its state alone.

``describe`` returns the deployment's part of DescribeEndpoint in SageMaker's member names (timestamps
as epoch seconds, as the JSON protocol sends them). The server merges in what the rollout does not
know (EndpointArn, CreationTime, InstanceType, DeployedImages, ...). Weights: DesiredWeight is the
variant's weight in its config; CurrentWeight is that weight times its fleet's current traffic share,
so a canary at 10 % shows CurrentWeight 0.1 for a variant of weight 1. The judge's fresh baseline
(``baseline.py``) runs blue's config, its models and its variant names, so its share is shown in blue's
CurrentWeight (a canary at 25 % with its baseline at 25 %: blue 0.75, green 0.25, summing to the whole as
SageMaker's do); SageMaker has no baseline fleet, and an entry of its own would repeat blue's VariantNames.
Blue's instance counts stay its own (the baseline's are in ``rollout_details``' Judge.Baseline).

``rollout_details`` is greenfleet's own part (``greenfleet deployment describe``): steps, pause, approval,
checks and the judge's figures and verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from greenfleet.judge.report import JudgeReport
from greenfleet.rollout.fleet import FleetSpec
from greenfleet.rollout.judging import compared
from greenfleet.rollout.observations import Observations
from greenfleet.rollout.state import ACTIVE_PHASES, CheckTiming, Phase, RolloutState, Strategy

__all__ = ["Progress", "describe", "endpoint_status", "progress", "rollout_details", "timeline"]

_STATUS = {
    Phase.ROLLING_BACK: "RollingBack",
    Phase.SUCCEEDED: "InService",
    Phase.ROLLED_BACK: "InService",
    Phase.ROLLBACK_FAILED: "UpdateRollbackFailed",
}


def endpoint_status(state: RolloutState) -> str:
    return _STATUS.get(state.phase, "Updating")


def describe(state: RolloutState, obs: Observations | None = None) -> dict[str, Any]:
    """EndpointStatus, EndpointConfigName, ProductionVariants, PendingDeploymentSummary (while the
    deployment runs), FailureReason and LastDeploymentConfig."""
    current = state.green if state.phase is Phase.SUCCEEDED else state.blue
    out: dict[str, Any] = {
        "EndpointStatus": endpoint_status(state),
        "EndpointConfigName": current.config_name,
        "ProductionVariants": _variants(state, current, obs),
    }
    if not state.is_terminal:
        out["PendingDeploymentSummary"] = {
            "EndpointConfigName": state.green.config_name,
            "ProductionVariants": _variants(state, state.green, obs),
            "StartTime": state.started_at,
        }
    if state.failure_reason and state.phase is not Phase.SUCCEEDED:
        out["FailureReason"] = state.failure_reason
    if state.deployment_config is not None:
        out["LastDeploymentConfig"] = state.deployment_config
    return out


def _variants(state: RolloutState, fleet: FleetSpec, obs: Observations | None) -> list[dict[str, Any]]:
    share = state.traffic.get(fleet.fleet_id, 0)
    if state.baseline is not None and fleet.fleet_id == state.blue.fleet_id:
        share += state.traffic.get(state.baseline.fleet_id, 0)  # blue's model, blue's variant names
    targets = state.fleets.get(fleet.fleet_id, {})
    observed = obs.fleet(fleet.fleet_id) if obs is not None else None
    statuses = _statuses(state, fleet)
    return [
        {
            "VariantName": v.name,
            "CurrentWeight": v.weight * share / 100,
            "DesiredWeight": v.weight,
            "CurrentInstanceCount": observed.ready(v.name) if observed else targets.get(v.name, 0),
            "DesiredInstanceCount": v.instance_count,
            "VariantStatus": statuses,
        }
        for v in fleet.variants
    ]


def _statuses(state: RolloutState, fleet: FleetSpec) -> list[dict[str, Any]]:
    green = fleet.fleet_id == state.green.fleet_id
    phase, stage = state.phase, state.stage
    if phase is Phase.ROLLING_BACK:
        if green:
            return [_status("Deleting", "Rolling back: stopping once traffic is back on the old fleet", state)]
        return [_status("ActivatingTraffic", "Rolling back: moving traffic back to this fleet", state)]
    if phase not in ACTIVE_PHASES:
        return []
    if not green:
        if phase is Phase.DRAINING:
            return [_status("Deleting", "Draining in-flight requests before stopping", state)]
        if state.strategy is Strategy.ROLLING:
            left = sum(state.fleets.get(fleet.fleet_id, {}).values())
            return [_status("Updating", f"Replacing instances: {left} of {fleet.total} old instance(s) left", state)]
        return []
    if phase is Phase.PROVISIONING and stage is not None:
        kind = "Updating" if state.strategy is Strategy.ROLLING else "Creating"
        return [_status(kind, f"Launching instances for {stage.label}", state)]
    if phase is Phase.CHECKING and state.check_run is not None:
        run = state.check_run
        names = ", ".join(run.names)
        if run.timing is CheckTiming.BEFORE_TRAFFIC:
            kind = "Updating" if state.strategy is Strategy.ROLLING else "Creating"
            label = state.plan[run.stage_index].label
            return [_status(kind, f"Running checks {names} before {label}", state)]
        return [_status("Baking", f"Running checks {names} with {state.green_share}% of traffic", state)]
    if phase is Phase.AWAITING_APPROVAL and stage is not None:
        return [_status("Baking", f"Waiting for approval with {state.green_share}% of traffic ({stage.label})", state)]
    if phase is Phase.BAKING and stage is not None:
        share = state.green_share
        if stage.bake_s <= 0:
            return [_status("ActivatingTraffic", f"{share}% of traffic ({stage.label})", state)]
        return [
            _status(
                "Baking",
                f"Baking for {stage.bake_s:g} seconds (WaitIntervalInSeconds) with {share}% of traffic ({stage.label})",
                state,
                state.bake_started_at,
            )
        ]
    if phase is Phase.TERMINATION_WAIT:
        return [
            _status(
                "Baking",
                f"Baking for {state.termination_wait_s:g} seconds (TerminationWaitInSeconds) with all traffic",
                state,
                state.bake_started_at,
            )
        ]
    return []


def _status(kind: str, message: str, state: RolloutState, start: float | None = None) -> dict[str, Any]:
    return {
        "Status": kind,
        "StatusMessage": message,
        "StartTime": start if start is not None else state.phase_started_at,
    }


@dataclass(frozen=True)
class Progress:
    """What ``endpoint update --wait`` prints on each refresh."""

    phase: Phase
    strategy: Strategy
    stage: str | None
    stage_number: int
    stage_count: int
    traffic: dict[str, int]
    bake_remaining_s: float | None
    deadline_in_s: float
    failure_reason: str | None
    paused: bool = False
    awaiting_approval: bool = False
    judge: str | None = None
    """The judge's latest decision and reason, e.g. "HOLD: score 66.67 (MARGINAL): latency HIGH"."""


def progress(state: RolloutState, now: float) -> Progress:
    stage = state.stage
    bake: float | None = None
    if state.bake_started_at is not None:
        length = state.termination_wait_s if state.phase is Phase.TERMINATION_WAIT else (stage.bake_s if stage else 0)
        bake = max(0.0, state.bake_started_at + length - now)
    return Progress(
        phase=state.phase,
        strategy=state.strategy,
        stage=stage.label if stage else None,
        stage_number=min(state.stage_index + 1, len(state.plan)),
        stage_count=len(state.plan),
        traffic=dict(state.traffic),
        bake_remaining_s=bake if state.phase in ACTIVE_PHASES else None,
        deadline_in_s=max(0.0, _deadline(state, now) - now),
        failure_reason=state.failure_reason,
        paused=state.paused,
        awaiting_approval=state.phase is Phase.AWAITING_APPROVAL,
        judge=f"{state.judge_report.decision}: {state.judge_report.reason}" if state.judge_report else None,
    )


def _deadline(state: RolloutState, now: float) -> float:
    """The deadline, moved by the time spent waiting for a person (frozen during such a wait)."""
    waiting = now - state.waiting_since if state.waiting_since is not None else 0.0
    return state.deadline_at + state.waited_s + waiting


def timeline(state: RolloutState) -> list[dict[str, Any]]:
    """The deployment's history for ``greenfleet deployment describe``."""
    return [{"Seq": e.seq, "At": e.at, "Phase": str(e.phase), "Message": e.message} for e in state.timeline]


def rollout_details(state: RolloutState) -> dict[str, Any]:
    """greenfleet's part of ``deployment describe``: steps, gates, checks and the judge."""
    green = state.green.fleet_id
    out: dict[str, Any] = {
        "Strategy": str(state.strategy),
        "Phase": str(state.phase),
        "Paused": state.paused,
        "PromotedBy": state.promoted_by,
        "Steps": [
            {
                "Label": stage.label,
                "TrafficPercent": stage.traffic.get(green, 0),
                "BakeInSeconds": stage.bake_s,
                "RequireApproval": stage.approval,
                "ChecksBeforeTraffic": list(stage.pre_checks),
                "ChecksAfterBake": list(stage.post_checks),
                "Judged": stage.judged,
                "BaselineTrafficPercent": stage.traffic.get(state.baseline.fleet_id, 0) if state.baseline else None,
                "Current": i == state.stage_index and not state.is_terminal,
            }
            for i, stage in enumerate(state.plan)
        ],
        "Checks": [
            {
                "CheckId": o.check_id,
                "Name": o.name,
                "Point": o.point,
                "Passed": o.passed,
                "At": o.at,
                "Detail": o.detail,
            }
            for o in state.check_outcomes
        ],
    }
    if state.check_run is not None:
        out["RunningChecks"] = list(state.check_run.names)
    if state.judge is not None:
        latest = state.judge_report or state.judge_verdict
        out["Judge"] = {
            "Compared": compared(state),
            "Baseline": _baseline(state),
            "WarmUp": {"Seconds": state.judge.WarmUpInSeconds, "Invocations": state.judge.WarmUpInvocations},
            "Excluded": list(latest.excluded) if latest is not None else [],
            "WindowStart": state.judge_window_started_at,
            "NextJudgementAt": state.judge_next_at,
            "Latest": _report(state.judge_report),
            "LastJudgement": _report(state.judge_verdict),
        }
    return out


def _baseline(state: RolloutState) -> dict[str, Any] | None:
    """The judge's fresh baseline fleet: what it runs, its per-config series, its instances and share now."""
    base = state.baseline
    if base is None:
        return None
    return {"FleetId": base.fleet_id, "EndpointConfigName": base.config_name, "MetricsConfigName": base.metrics_config,
            "InstanceCounts": dict(state.fleets.get(base.fleet_id, {})),
            "TrafficPercent": state.traffic.get(base.fleet_id, 0)}


def _report(report: JudgeReport | None) -> dict[str, Any] | None:
    return report.model_dump(mode="json") if report is not None else None
