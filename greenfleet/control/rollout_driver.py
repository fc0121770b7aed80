"""The deployment driver: the I/O around the pure rollout machine. Each tick, for every endpoint with
a deployment in progress: load its state, observe (instances, in-flight requests, alarms), step,
save the new rollout state together with the desired fleets and traffic in one transaction, then
emit its events. The reconciler converges instances and routing to the saved desired state, so
"applying" an action is recording it, and re-applying after a crash is harmless."""

from __future__ import annotations

import copy
import logging
from typing import Any, Protocol

from greenfleet.control.check_runner import CheckRunner
from greenfleet.control.instance_groups import GroupHealth, Managed
from greenfleet.control.judge_samples import collect
from greenfleet.control.reconciler import Hooks, Reconciler
from greenfleet.errors import ConflictError
from greenfleet.metrics import MetricService
from greenfleet.registry.eventshapes import DEPLOYMENT_STATE_CHANGE, SOURCE, deployment_detail
from greenfleet.rollout import (
    AlarmObservation,
    AlarmState,
    Command,
    CommandKind,
    Emit,
    Finish,
    FleetObservation,
    Observations,
    Outcome,
    RolloutState,
    RunCheck,
    SetFleet,
    SetTraffic,
    VariantObservation,
    step,
)
from greenfleet.rollout.judging import judge_request
from greenfleet.rollout.view import describe as describe_rollout
from greenfleet.rollout.view import endpoint_status
from greenfleet.services.deployments import dump_rollout, load_rollout
from greenfleet.services.endpoints import describe as describe_endpoint
from greenfleet.store.repository import Repository

log = logging.getLogger("greenfleet.deployments")
Doc = dict[str, Any]


class AlarmSource(Protocol):
    def states(self, names: list[str]) -> dict[str, Any]: ...

    def in_alarm_since(self, names: list[str], since: float) -> dict[str, bool]: ...


class EventSink(Protocol):
    def append(self, source: str, detail_type: str, resource: str | None, detail: dict[str, Any],
               now: float) -> Any: ...


class DeploymentDriver(Hooks):
    def __init__(self, repo: Repository, reconciler: Reconciler, alarms: AlarmSource | None = None,
                 events: EventSink | None = None, metrics: MetricService | None = None) -> None:
        self.repo, self.reconciler, self.alarms, self.events = repo, reconciler, alarms, events
        self.checks = CheckRunner()
        self.metrics = metrics

    def tick(self, now: float) -> None:
        for row in self.repo.list_endpoints():
            if row["state"].get("deployment") and row["status"] not in ("Deleting", "Failed"):
                try:
                    self.advance(row, now)
                except ConflictError:
                    continue  # a concurrent writer won; the next tick retries from the stored state
                except Exception:
                    log.exception("deployment tick of %s failed", row["name"])

    def advance(self, row: Doc, now: float) -> None:
        document = row["state"]["deployment"]
        rollout = load_rollout(document["rollout"])
        history = self.repo.get_deployment(document["id"])
        emitted = history["emitted_seq"] if history else -1
        observations = self.observe(row, rollout, emitted, now)
        rollout, actions = step(rollout, observations, now)
        state, status, config_name, failure, outcome = apply(row, rollout, actions, observations)
        changes: Doc = {"state": state, "status": status, "config_name": config_name, "failure_reason": failure}
        if status != row["status"] or config_name != row["config_name"]:
            changes["modified_at"] = now
        self.repo.save_deployment(row["name"], row["revision"], changes, {
            "id": rollout.deployment_id, "endpoint_name": row["name"], "started_at": rollout.started_at,
            "finished_at": now if outcome else None, "outcome": str(outcome) if outcome else None,
            "emitted_seq": emitted, "state": dump_rollout(rollout)})
        for check in (a for a in actions if isinstance(a, RunCheck)):  # side effects only after the save
            self.checks.start(check, self._addresses(row["name"], check.fleet_id))
        self.reconciler.wake()  # converge to the new desired fleets and traffic without waiting a tick
        self._emit(row, [a for a in actions if isinstance(a, Emit)], rollout.deployment_id, emitted)

    def _emit(self, row: Doc, emits: list[Emit], deployment_id: str, emitted: int) -> None:
        last = emitted
        for emit in emits:
            if emit.seq <= last:
                continue
            if self.events is not None:
                # EventBridge's shape (registry, issue 11), plus greenfleet's step of the deployment.
                saved = self.repo.get_endpoint(row["name"]) or row
                detail = {**deployment_detail(describe_endpoint(saved)), "DeploymentId": deployment_id,
                          "Sequence": emit.seq, "Phase": str(emit.phase), "Message": emit.message, "Time": emit.at}
                self.events.append(SOURCE, DEPLOYMENT_STATE_CHANGE, row["arn"], detail, emit.at)
            last = emit.seq
        if last != emitted:
            self.repo.set_emitted_seq(deployment_id, last)

    def _addresses(self, endpoint: str, fleet_id: str) -> list[str]:
        prefix = f"{endpoint}/{fleet_id}/"
        return [f"http://{m.handle.host}:{m.handle.port}" for m in list(self.reconciler.instances.values())
                if m.group_key.startswith(prefix) and m.phase == "ready"]

    # --- observations ------------------------------------------------------------------------------
    def observe(self, row: Doc, rollout: RolloutState, emitted: int, now: float) -> Observations:
        members = [m for m in self.reconciler.instances.values() if m.spec.endpoint_name == row["name"]]
        fleets = {spec.fleet_id: self._fleet(row["name"], spec.fleet_id, spec.variant_names, members,
                                             rollout.started_at)
                  for spec in (rollout.blue, rollout.green)}
        handled = set(rollout.handled_commands)
        commands = tuple(Command(c["command_id"], CommandKind(c["kind"]), c["by"], c.get("reason", ""), c["at"])
                         for c in row["state"]["deployment"].get("commands", []) if c["command_id"] not in handled)
        request = judge_request(rollout, now) if self.metrics is not None else None
        report = request.evaluate(collect(self.metrics, row["name"], request, now), now) \
            if request is not None and self.metrics is not None else None
        return Observations(fleets=fleets, alarms=self._alarms(rollout), commands=commands, last_event_seq=emitted,
                            check_results=dict(self.checks.results), judge=report)

    def _fleet(self, endpoint: str, fleet_id: str, variants: tuple[str, ...], members: list[Managed],
               since: float) -> FleetObservation:
        observed = {}
        in_flight = 0
        for variant in variants:
            key = f"{endpoint}/{fleet_id}/{variant}"
            group = [m for m in members if m.group_key == key]
            ready = sum(1 for m in group if m.phase == "ready")
            health = self.reconciler.health.get(key) or GroupHealth()
            failed = health.startup_failures if (health.startup_failure_at or 0) >= since else 0
            observed[variant] = VariantObservation(
                desired=len([m for m in group if m.phase in ("starting", "ready")]), ready=ready, failed=failed,
                failure_reason=health.failure if failed else None)
            in_flight += sum(self.reconciler.router.outstanding.of(m.instance_id) for m in group)
        return FleetObservation(variants=observed, in_flight=in_flight)

    def _alarms(self, rollout: RolloutState) -> dict[str, AlarmObservation]:
        names = list(rollout.alarm_names)
        if not names or self.alarms is None:
            return {}
        states = self.alarms.states(names)
        touched = self.alarms.in_alarm_since(names, rollout.started_at)
        observed = {}
        for name, status in states.items():
            state = AlarmState(status.state)
            entered = status.updated_at if state is AlarmState.ALARM else (
                rollout.started_at if touched.get(name) else None)
            observed[name] = AlarmObservation(state=state, entered_alarm_at=entered)
        return observed


def apply(row: Doc, rollout: RolloutState, actions: list[Any],
          observations: Observations | None = None) -> tuple[Doc, str, str, str | None, Outcome | None]:
    """The endpoint's new stored state for a tick's actions: fleets, traffic, and the outcome."""
    state = copy.deepcopy(row["state"])
    pending = state["pending"]
    blue_id, green_id = str(state.get("fleet_id", 1)), str(pending["fleet_id"])
    for action in actions:
        if isinstance(action, SetFleet):
            variants = state["variants"] if action.fleet_id == blue_id else pending["variants"]
            for variant in variants:
                variant["DesiredInstanceCount"] = int(action.instance_counts.get(variant["VariantName"], 0))
                variant["DesiredWeight"] = float(action.weights.get(variant["VariantName"], variant["DesiredWeight"]))
        elif isinstance(action, SetTraffic):
            pending["traffic"] = float(action.shares.get(green_id, 0))
    state["deployment"]["rollout"] = dump_rollout(rollout)
    handled = set(rollout.handled_commands)  # keep the queue short: the state remembers handled ids
    state["deployment"]["commands"] = [c for c in state["deployment"].get("commands", [])
                                       if c["command_id"] not in handled]
    state["deployment_view"] = describe_rollout(rollout, observations)
    finish = next((a for a in actions if isinstance(a, Finish)), None)
    config_name, failure = row["config_name"], rollout.failure_reason
    if finish is None:
        return state, endpoint_status(rollout), config_name, failure, None
    if finish.outcome is Outcome.SUCCEEDED:
        for variant in pending["variants"]:
            variant["DesiredInstanceCount"] = int(pending["target_counts"][variant["VariantName"]])
        state["variants"] = pending["variants"]
        state["fleet_id"] = int(green_id)
        state["data_capture"] = pending.get("data_capture")
        state["shadow_variants"] = pending.get("shadow_variants") or []
        config_name, failure = finish.endpoint_config, None
    if finish.outcome is Outcome.ROLLBACK_FAILED:
        state["deployment"] = None
        return state, "UpdateRollbackFailed", config_name, failure, finish.outcome
    state["pending"] = None
    state["deployment"] = None
    state.pop("deployment_view", None)
    return state, "InService", config_name, failure, finish.outcome
