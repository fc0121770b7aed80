"""What a tick asks the driver to do. Every action is absolute and idempotent.

Each tick returns the whole desired world, not a diff: a ``SetFleet`` per fleet and one ``SetTraffic``,
a ``RunCheck`` per check that should be running, plus ``Emit`` for new timeline entries and, once the
deployment is over, ``Finish``. Re-applying the list after a crash (or applying it twice) is harmless.

The driver applies the list in order and must not start an action before the previous one is in
effect. The order is chosen so that traffic never points at a stopped instance:

1. ``SetFleet`` for fleets that receive traffic in the ``SetTraffic`` below (launches first);
2. ``SetTraffic``;
3. ``SetFleet`` for fleets that receive no traffic (stops last);
4. ``RunCheck`` (start once per check_id, do not wait for it);
5. ``Emit`` events, then ``Finish``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from greenfleet.rollout.checks import notification_checks, waiting_checks
from greenfleet.rollout.extension import CheckConfig, LoadTestConfig
from greenfleet.rollout.observations import Observations
from greenfleet.rollout.state import Phase, RolloutState

__all__ = ["Action", "Emit", "Finish", "Outcome", "RunCheck", "SetFleet", "SetTraffic", "render"]


@dataclass(frozen=True)
class SetFleet:
    """Keep exactly ``instance_counts[v]`` instances of each variant of ``config_name`` under
    ``fleet_id`` (0 for every variant = the fleet is stopped). When removing instances the driver takes
    them out of routing first and lets their in-flight requests finish (bounded by its drain timeout).
    ``weights`` are the fleet's own variant weights, used inside the fleet's traffic share."""

    fleet_id: str
    config_name: str
    instance_counts: Mapping[str, int]
    weights: Mapping[str, float]


@dataclass(frozen=True)
class SetTraffic:
    """Route exactly ``shares[f]`` percent of the endpoint's requests to fleet ``f`` (integers summing
    to 100; inside a fleet, requests go to its variants by their weights, then to ready instances)."""

    shares: Mapping[str, int]


@dataclass(frozen=True)
class Emit:
    """Append a timeline entry to the event log (and its webhooks). (deployment_id, seq) is unique:
    the driver drops an Emit it already stored."""

    deployment_id: str
    endpoint_name: str
    seq: int
    at: float
    phase: Phase
    message: str


class Outcome(StrEnum):
    SUCCEEDED = "SUCCEEDED"  # EndpointStatus InService on the new config
    ROLLED_BACK = "ROLLED_BACK"  # EndpointStatus InService on the old config, with FailureReason
    ROLLBACK_FAILED = "ROLLBACK_FAILED"  # EndpointStatus UpdateRollbackFailed


@dataclass(frozen=True)
class Finish:
    """The deployment is over: record that the endpoint now runs ``endpoint_config`` (on ``fleet_id``)
    with this outcome. Idempotent; the driver keeps ticking until it has applied one."""

    deployment_id: str
    endpoint_name: str
    outcome: Outcome
    endpoint_config: str
    fleet_id: str
    failure_reason: str | None = None


@dataclass(frozen=True)
class RunCheck:
    """Run check ``check_id`` once: the driver remembers the ids it started and ignores a repeat. A
    webhook (``url``): POST ``payload`` as JSON, pass on 2xx, else retry up to ``retries`` times, each
    attempt bounded by ``timeout_s``. A load test (``load_test``): send its requests to fleet ``fleet_id``
    (green) directly, not through the endpoint's traffic split. With ``report`` the driver puts the result
    in Observations.check_results[check_id] on every later tick of this deployment; without (POST_COMPLETION
    / POST_ROLLBACK, sent with Finish) nobody waits and the driver only logs the result."""

    check_id: str
    name: str
    point: str
    url: str | None
    load_test: LoadTestConfig | None
    timeout_s: float
    retries: int
    fleet_id: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    report: bool = True


Action = SetFleet | SetTraffic | RunCheck | Emit | Finish

_OUTCOMES = {
    Phase.SUCCEEDED: Outcome.SUCCEEDED,
    Phase.ROLLED_BACK: Outcome.ROLLED_BACK,
    Phase.ROLLBACK_FAILED: Outcome.ROLLBACK_FAILED,
}


def render(state: RolloutState, obs: Observations, first_new: int) -> list[Action]:
    """The desired world as ordered absolute actions, new timeline entries as Emit, Finish when over."""
    specs = (state.blue, state.green) + ((state.baseline,) if state.baseline is not None else ())
    fleets = [
        SetFleet(
            fleet_id=spec.fleet_id,
            config_name=spec.config_name,
            instance_counts={**spec.zero(), **state.fleets.get(spec.fleet_id, {})},
            weights=spec.weights(),
        )
        for spec in specs
    ]
    serving = [f for f in fleets if state.traffic.get(f.fleet_id, 0) > 0]
    idle = [f for f in fleets if state.traffic.get(f.fleet_id, 0) <= 0]
    actions: list[Action] = [*serving, SetTraffic(shares=dict(state.traffic)), *idle]
    actions += [_run_check(state, *c, report=True) for c in waiting_checks(state)]
    actions += [_run_check(state, *c, report=False) for c in notification_checks(state)]
    since = obs.last_event_seq + 1 if obs.last_event_seq is not None else first_new
    actions += [
        Emit(state.deployment_id, state.endpoint_name, e.seq, e.at, e.phase, e.message)
        for e in state.timeline[max(since, 0) :]
    ]
    outcome = _OUTCOMES.get(state.phase)
    if outcome is not None:
        final = state.green if outcome is Outcome.SUCCEEDED else state.blue
        actions.append(
            Finish(
                deployment_id=state.deployment_id,
                endpoint_name=state.endpoint_name,
                outcome=outcome,
                endpoint_config=final.config_name,
                fleet_id=final.fleet_id,
                failure_reason=state.failure_reason,
            )
        )
    return actions


def _run_check(state: RolloutState, check_id: str, config: CheckConfig, stage_index: int, *, report: bool) -> RunCheck:
    stage = state.plan[stage_index] if stage_index < len(state.plan) else None
    payload = {
        "CheckId": check_id,
        "Name": config.Name,
        "Point": config.Point,
        "DeploymentId": state.deployment_id,
        "EndpointName": state.endpoint_name,
        "OldEndpointConfigName": state.blue.config_name,
        "NewEndpointConfigName": state.green.config_name,
        "NewFleetId": state.green.fleet_id,
        "Step": stage.label if stage is not None else None,
        "NewFleetTrafficPercent": state.green_share,
        "Phase": str(state.phase),
        "Metadata": dict(config.Metadata),
    }
    if state.is_terminal:
        payload["FailureReason"] = state.failure_reason
    return RunCheck(
        check_id=check_id,
        name=config.Name,
        point=config.Point,
        url=config.Url,
        load_test=config.LoadTest,
        timeout_s=float(config.TimeoutInSeconds),
        retries=config.Retries,
        fleet_id=state.green.fleet_id,
        payload=payload,
        report=report,
    )
