"""The pure rollout engine behind UpdateEndpoint: no I/O, no clock; the driver owns both.

policy.py        DeploymentConfig (SageMaker's JSON), parse_deployment_config, check_fleets
fleet.py         FleetSpec / VariantSpec: what a fleet is
plans.py         config + fleets -> stages (traffic schedules, rolling and rollback batches)
state.py         Phase, RolloutState (persisted as JSON)
observations.py  what the driver observes before each tick
actions.py       the absolute, idempotent actions a tick returns, and render(state)
causes.py        what starts a rollback (alarms, failed green instances, the deadline)
machine.py       begin() and step(state, observations, now) -> (state, actions)
view.py          DescribeEndpoint's view of a deployment, CLI progress, timeline
"""

from greenfleet.rollout.actions import Action, Emit, Finish, Outcome, SetFleet, SetTraffic
from greenfleet.rollout.fleet import FleetSpec, VariantSpec
from greenfleet.rollout.machine import begin, step
from greenfleet.rollout.observations import (
    AlarmObservation,
    AlarmState,
    Command,
    CommandKind,
    FleetObservation,
    Observations,
    VariantObservation,
)
from greenfleet.rollout.policy import DeploymentConfig, check_fleets, parse_deployment_config
from greenfleet.rollout.state import Limits, Phase, RolloutState, Strategy
from greenfleet.rollout.view import describe, progress, timeline

__all__ = [
    "Action",
    "AlarmObservation",
    "AlarmState",
    "Command",
    "CommandKind",
    "DeploymentConfig",
    "Emit",
    "Finish",
    "FleetObservation",
    "FleetSpec",
    "Limits",
    "Observations",
    "Outcome",
    "Phase",
    "RolloutState",
    "SetFleet",
    "SetTraffic",
    "Strategy",
    "VariantObservation",
    "VariantSpec",
    "begin",
    "check_fleets",
    "describe",
    "parse_deployment_config",
    "progress",
    "step",
    "timeline",
]
