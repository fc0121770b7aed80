"""The pure rollout engine behind UpdateEndpoint: no I/O, no clock; the driver owns both.

policy.py        DeploymentConfig (SageMaker's JSON), parse_deployment_config, check_fleets
extension.py     DeploymentConfig.GreenfleetRollout: Steps, Checks, Judge
fleet.py         FleetSpec / VariantSpec: what a fleet is
plans.py         config + fleets -> stages (traffic schedules, rolling and rollback batches, gates)
state.py         Phase, RolloutState (persisted as JSON)
observations.py  what the driver observes before each tick (fleets, alarms, commands, checks, judge)
actions.py       the absolute, idempotent actions a tick returns, and render(state)
causes.py        what starts a rollback (alarms, failed green instances, the deadline)
checks.py        webhook / load-test checks: when they run, their results
judging.py       the canary judge in the rollout: judge_request(state, now), consuming its reports
forward.py       stages, bakes, checks, approvals, termination wait, drain
rollback.py      the rollback plan walked to ROLLED_BACK or ROLLBACK_FAILED
commands.py      ABORT, PAUSE, RESUME, APPROVE, PROMOTE
machine.py       begin() and step(state, observations, now) -> (state, actions)
view.py          DescribeEndpoint's view of a deployment, CLI progress, timeline, rollout details
"""

from greenfleet.rollout.actions import Action, Emit, Finish, Outcome, RunCheck, SetFleet, SetTraffic
from greenfleet.rollout.extension import CheckConfig, RolloutExtension, RolloutStep
from greenfleet.rollout.fleet import FleetSpec, VariantSpec
from greenfleet.rollout.judging import JudgeRequest, judge_request
from greenfleet.rollout.machine import begin, step
from greenfleet.rollout.observations import (
    AlarmObservation,
    AlarmState,
    CheckResult,
    CheckStatus,
    Command,
    CommandKind,
    FleetObservation,
    Observations,
    VariantObservation,
)
from greenfleet.rollout.policy import DeploymentConfig, check_fleets, parse_deployment_config
from greenfleet.rollout.state import Limits, Phase, RolloutState, Strategy
from greenfleet.rollout.view import describe, progress, rollout_details, timeline

__all__ = [
    "Action",
    "AlarmObservation",
    "AlarmState",
    "CheckConfig",
    "CheckResult",
    "CheckStatus",
    "Command",
    "CommandKind",
    "DeploymentConfig",
    "Emit",
    "Finish",
    "FleetObservation",
    "FleetSpec",
    "JudgeRequest",
    "Limits",
    "Observations",
    "Outcome",
    "Phase",
    "RolloutExtension",
    "RolloutState",
    "RolloutStep",
    "RunCheck",
    "SetFleet",
    "SetTraffic",
    "Strategy",
    "VariantObservation",
    "VariantSpec",
    "begin",
    "check_fleets",
    "describe",
    "judge_request",
    "parse_deployment_config",
    "progress",
    "rollout_details",
    "step",
    "timeline",
]
