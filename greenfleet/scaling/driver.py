"""The scaling controller's I/O, a named step of the control pass (once a second): for each scalable target,
load its state, observe (the endpoint row and the pass's snapshot: desired and healthy instances, whether a
deployment runs; the policies and the states and latest datapoints of their alarms), step the pure machine,
save the state (compare-and-set), then apply the actions (record activities, set the capacity)."""

from __future__ import annotations

import logging
from typing import Any

from greenfleet.alarms import AlarmService
from greenfleet.alarms.spec import ALARM
from greenfleet.control.snapshot import Snapshot
from greenfleet.errors import GreenfleetError
from greenfleet.resources.endpoint_state import DesiredState
from greenfleet.scaling import config
from greenfleet.scaling.alarms import AlarmShape, is_high, per_target
from greenfleet.scaling.machine import (
    Action,
    Deregister,
    FinishActivity,
    Limits,
    NotScaled,
    Observation,
    SetCapacity,
    StartActivity,
    TargetState,
    step,
)
from greenfleet.scaling.names import NAMESPACE, RESOURCE
from greenfleet.scaling.policy import PolicyView, Signal
from greenfleet.scaling.repository import Key, ScalingRepository, StaleTarget
from greenfleet.scaling.service import ScalingService
from greenfleet.services.endpoints import EndpointService

log = logging.getLogger("greenfleet.scaling")
Row = dict[str, Any]


class ScalingDriver:
    name = "scaling"

    def __init__(self, repo: ScalingRepository, service: ScalingService, alarms: AlarmService,
                 endpoints: EndpointService, *, limits: Limits | None = None, shape: AlarmShape | None = None,
                 default_cooldown_s: float = 300.0) -> None:
        self.repo, self.service, self.alarms, self.endpoints = repo, service, alarms, endpoints
        self.limits = limits or Limits()
        self.shape = shape or AlarmShape()
        self.default_cooldown_s = default_cooldown_s

    def run(self, snapshot: Snapshot) -> None:
        targets = self.repo.list_targets(NAMESPACE)
        if not targets:
            return
        rows = {r["name"]: r for r in snapshot.endpoints}
        for target in targets:
            try:
                self._one(target, rows, snapshot)
            except Exception:  # one target must not stop the others
                log.exception("scaling target %s failed; retrying next pass", target["resource_id"])

    def _one(self, target: Row, rows: dict[str, Row], snapshot: Snapshot) -> None:
        key: Key = (target["namespace"], target["resource_id"], target["dimension"])
        seen = self.observe(target, rows, snapshot)
        state = TargetState.model_validate(target["state"] or {})
        after, actions = step(state, seen, snapshot.now, self.limits)
        if any(isinstance(a, Deregister) for a in actions):
            log.info("deregistering %s: its variant no longer exists", key[1])
            self.service.deregister(key)
            return
        if after != state:
            try:
                self.repo.update_target(key, {"state": after.model_dump()}, revision=target["revision"])
            except StaleTarget:
                return  # re-registered or deregistered meanwhile: the next pass sees the new row
        self.apply(key, after, actions, snapshot.now)

    def observe(self, target: Row, rows: dict[str, Row], snapshot: Snapshot) -> Observation:
        match = RESOURCE.fullmatch(target["resource_id"])
        endpoint, variant = (match.group(1), match.group(2)) if match else ("", "")
        row = rows.get(endpoint)
        state: DesiredState | None = row["state"] if row is not None else None
        desired = state.current.variant(variant) if state is not None else None
        if row is None or state is None or desired is None or row["status"] == "Deleting":
            return Observation(endpoint, variant, exists=False)  # DeleteEndpoint deregisters its targets
        serving = sum(1 for i in snapshot.members(endpoint, state.current.id, variant) if i.phase == "ready")
        blocked = None
        if state.deployment is not None:
            blocked = f"a deployment is running on endpoint {endpoint}"
        elif row["status"] != "InService":
            blocked = f"endpoint {endpoint} is {row['status']}"
        suspended = target["suspended"] or {}
        policies, signals = self._policies(target, endpoint, variant, snapshot.now)
        # MinCapacity 0 was accepted for an asynchronous variant; were the endpoint changed to real time since,
        # its variant keeps at least one instance
        least = target["min_capacity"] if state.current.asynchronous is not None else max(1, target["min_capacity"])
        return Observation(endpoint, variant, True, desired.desired_count, serving, blocked, least,
                           target["max_capacity"], bool(suspended.get("DynamicScalingInSuspended")),
                           bool(suspended.get("DynamicScalingOutSuspended")), tuple(policies), tuple(signals))

    def _policies(self, target: Row, endpoint: str, variant: str, now: float) -> tuple[list[PolicyView], list[Signal]]:
        policies: list[PolicyView] = []
        signals: list[Signal] = []
        for row in self.repo.list_policies(target["namespace"], target["resource_id"], target["dimension"]):
            try:
                if row["policy_type"] == "TargetTrackingScaling":
                    tracking = config.target_tracking(row["configuration"], endpoint, variant, self.default_cooldown_s)
                    policies.append(PolicyView(row["arn"], row["name"], tracking=tracking))
                    owned = [a["AlarmName"] for a in row["alarms"] or []]
                    signals += self._tracking_signals(row, tracking, owned, now)
                else:
                    stepping = config.step_scaling(row["configuration"], self.default_cooldown_s)
                    policies.append(PolicyView(row["arn"], row["name"], step=stepping))
                    signals += self._step_signals(row, now)
            except GreenfleetError as exc:  # a stored policy that no longer validates: skipped, said
                log.warning("scaling policy %s is skipped: %s", row["arn"], exc.message)
        return policies, signals

    def _tracking_signals(self, row: Row, tracking: config.TargetTracking, owned: list[str],
                          now: float) -> list[Signal]:
        signals = []
        predefined = tracking.metric.per_minute or tracking.metric.namespace == config.SAGEMAKER_NAMESPACE
        for name, status in self.alarms.states(owned).items():
            if status.state != ALARM:
                continue
            value = self.alarms.latest_value(name, now)
            if value is None:
                if not predefined:
                    continue
                value = 0.0  # SageMaker publishes zeros for an idle variant; greenfleet publishes nothing
            signals.append(Signal(row["arn"], row["name"], name, is_high(name),
                                  per_target(value, tracking.metric, self.shape)))
        return signals

    def _step_signals(self, row: Row, now: float) -> list[Signal]:
        signals = []
        for alarm in self.alarms.describe_alarms(state=ALARM, action_prefix=row["arn"]):
            if row["arn"] not in alarm.get("AlarmActions", []):
                continue
            value = self.alarms.latest_value(alarm["AlarmName"], now)
            if value is None:
                continue
            signals.append(Signal(row["arn"], row["name"], alarm["AlarmName"], True, value, alarm["Threshold"]))
        return signals

    def apply(self, key: Key, state: TargetState, actions: list[Action], now: float) -> None:
        for action in actions:
            if isinstance(action, StartActivity):
                self.repo.add_activity(self._activity(key, action.activity_id, action.description, action.cause,
                                                      action.at, "InProgress"))
            elif isinstance(action, FinishActivity):
                self.repo.finish_activity(action.activity_id, action.status, action.message, action.at)
            elif isinstance(action, NotScaled):
                row = self._activity(key, action.activity_id, action.description, action.cause, action.at, "Failed")
                row.update(end_time=action.at, not_scaled=list(action.reasons))
                self.repo.add_activity(row)
            elif isinstance(action, SetCapacity):
                try:
                    self.endpoints.scale_variant(action.endpoint, action.variant, action.capacity)
                except GreenfleetError as exc:
                    self.repo.finish_activity(action.activity_id, "Failed", f"Failed to set desired instance count "
                                              f"to {action.capacity}. Reason: {exc.message}", now)
                    failed = state.model_copy(update={"activity": None})
                    try:
                        current = self.repo.get_target(key)
                        if current is not None:
                            self.repo.update_target(key, {"state": failed.model_dump()}, revision=current["revision"])
                    except StaleTarget:
                        pass

    @staticmethod
    def _activity(key: Key, activity_id: str, description: str, cause: str, at: float, status: str) -> Row:
        return {"activity_id": activity_id, "namespace": key[0], "resource_id": key[1], "dimension": key[2],
                "description": description, "cause": cause, "start_time": at, "end_time": None,
                "status_code": status, "status_message": None, "not_scaled": None}
