"""The deployment driver (the pass's ``deployments`` step): the I/O around the pure rollout machine.
Each pass, for every endpoint with a deployment in progress: load its rollout state (deployments table),
observe (the pass's instance snapshot, alarms, commands, checks, the judge), step, save the new rollout
state together with the desired fleets and traffic in one transaction, then act (checks, events) and
record its view of the rollout as observed state. The reconciler converges instances and routing to
the saved desired state, so "applying" an action is recording it, and re-applying after a crash is
harmless."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sqlalchemy import Connection

from greenfleet.control.check_runner import CheckRunner, webhook_body
from greenfleet.control.instance_groups import GroupKey
from greenfleet.control.judge_samples import collect
from greenfleet.control.snapshot import Snapshot
from greenfleet.errors import ConflictError
from greenfleet.metrics import MetricService
from greenfleet.registry.eventshapes import DEPLOYMENT_STATE_CHANGE, SOURCE, deployment_detail
from greenfleet.resources.endpoint_state import DesiredState
from greenfleet.rollout import (
    AlarmObservation,
    AlarmState,
    Command,
    CommandKind,
    Emit,
    Finish,
    FleetObservation,
    FleetSpec,
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

    def enqueue_webhook(self, conn: Connection, url: str, payload: Mapping[str, Any], dedup_id: str,
                        now: float, *, kind: str, context: Mapping[str, Any] | None = None) -> str: ...

    def wake(self) -> None: ...


class DeploymentDriver:
    name = "deployments"

    def __init__(self, repo: Repository, wake: Callable[[], None] = lambda: None, alarms: AlarmSource | None = None,
                 events: EventSink | None = None, metrics: MetricService | None = None) -> None:
        self.repo, self.wake, self.alarms, self.events = repo, wake, alarms, events
        self.checks = CheckRunner()
        self.metrics = metrics
        self._views: dict[str, Doc | None] = {}

    def run(self, snapshot: Snapshot) -> None:
        for row in self.repo.list_endpoints():
            if row["state"].deployment is not None and row["status"] not in ("Deleting", "Failed"):
                try:
                    self.advance(row, snapshot)
                except ConflictError:
                    continue  # a concurrent writer won; the next tick retries from the stored state
                except Exception:
                    log.exception("deployment tick of %s failed", row["name"])

    def advance(self, row: Doc, snapshot: Snapshot) -> None:
        now = snapshot.now
        desired: DesiredState = row["state"]
        if desired.deployment is None:
            return
        history = self.repo.get_deployment(desired.deployment.id)
        if history is None:
            log.error("endpoint %s refers to deployment %s, which is not stored", row["name"], desired.deployment.id)
            return
        rollout = load_rollout(history["state"])
        emitted = history["emitted_seq"]
        observations = self.observe(row, rollout, emitted, snapshot)
        rollout, actions = step(rollout, observations, now)
        state, status, config_name, failure, outcome = apply(row, rollout, actions)
        changes: Doc = {}
        if state != desired:
            changes["state"] = state
        if status != row["status"] or config_name != row["config_name"]:
            changes.update(status=status, config_name=config_name, modified_at=now)
        if failure != row["failure_reason"]:
            changes["failure_reason"] = failure
        checks = [a for a in actions if isinstance(a, RunCheck)]
        # POST_COMPLETION / POST_ROLLBACK webhooks go into the durable outbox in the transaction that saves the
        # outcome (the only tick that renders them): delivered at least once, even across a crash.
        notices = [c for c in checks if not c.report and c.url is not None]
        addresses = {c.fleet_id: self._addresses(row["name"], c.fleet_id, snapshot) for c in notices}

        def enqueue(conn: Connection) -> None:
            for notice in notices if self.events is not None else []:
                assert notice.url is not None and self.events is not None
                self.events.enqueue_webhook(conn, notice.url, webhook_body(notice, addresses[notice.fleet_id]),
                                            notice.check_id, now, kind="deployment-check",
                                            context={"DeploymentId": rollout.deployment_id, "Check": notice.name,
                                                     "Point": notice.point})

        self.repo.save_deployment(row["name"], row["revision"], changes, {
            "id": rollout.deployment_id, "endpoint_name": row["name"], "started_at": rollout.started_at,
            "finished_at": now if outcome else None, "outcome": str(outcome) if outcome else None,
            "emitted_seq": emitted, "state": dump_rollout(rollout)}, also=enqueue)
        if notices and self.events is not None:
            self.events.wake()
        for check in checks:  # side effects only after the save
            if check not in notices:
                self.checks.start(check, self._addresses(row["name"], check.fleet_id, snapshot))
        if outcome is not None:
            self.checks.forget(rollout.deployment_id)  # nobody reads this deployment's results any more
        self.wake()  # converge to the new desired fleets and traffic without waiting a tick
        over = outcome is not None and outcome is not Outcome.ROLLBACK_FAILED
        self._record_view(row["name"], None if over else describe_rollout(rollout, observations), now)
        self._emit(row, [a for a in actions if isinstance(a, Emit)], rollout.deployment_id, emitted)

    def _record_view(self, endpoint: str, view: Doc | None, now: float) -> None:
        if endpoint in self._views and self._views[endpoint] == view:
            return
        self.repo.save_deployment_view(endpoint, view, now)
        self._views[endpoint] = view

    def _emit(self, row: Doc, emits: list[Emit], deployment_id: str, emitted: int) -> None:
        last = emitted
        for emit in emits:
            if emit.seq <= last:
                continue
            if self.events is not None:
                # EventBridge's shape (registry, issue 11), plus greenfleet's step of the deployment.
                saved = self.repo.get_endpoint(row["name"]) or row
                detail = {**deployment_detail(describe_endpoint(saved, self.repo.get_observation(row["name"]))),
                          "DeploymentId": deployment_id,
                          "Sequence": emit.seq, "Phase": str(emit.phase), "Message": emit.message, "Time": emit.at}
                self.events.append(SOURCE, DEPLOYMENT_STATE_CHANGE, row["arn"], detail, emit.at)
            last = emit.seq
        if last != emitted:
            self.repo.set_emitted_seq(deployment_id, last)

    @staticmethod
    def _addresses(endpoint: str, fleet_id: str, snapshot: Snapshot) -> list[str]:
        return [f"http://{i.address.host}:{i.address.port}" for i in snapshot.members(endpoint, int(fleet_id))
                if i.phase == "ready" and i.address is not None]

    # --- observations ------------------------------------------------------------------------------
    def observe(self, row: Doc, rollout: RolloutState, emitted: int, snapshot: Snapshot) -> Observations:
        now = snapshot.now
        specs = (rollout.blue, rollout.green) + ((rollout.baseline,) if rollout.baseline is not None else ())
        fleets = {spec.fleet_id: _fleet(row["name"], spec, snapshot, rollout.started_at) for spec in specs}
        handled = set(rollout.handled_commands)
        desired: DesiredState = row["state"]
        queued = desired.deployment.commands if desired.deployment else []
        commands = tuple(Command(c.command_id, CommandKind(c.kind), c.by, c.reason, c.at)
                         for c in queued if c.command_id not in handled)
        request = judge_request(rollout, now) if self.metrics is not None else None
        report = None
        if request is not None and self.metrics is not None:
            samples, excluded = collect(self.metrics, row["name"], request, now)
            report = request.evaluate(samples, now, excluded)
        return Observations(fleets=fleets, alarms=self._alarms(rollout), commands=commands, last_event_seq=emitted,
                            check_results=dict(self.checks.results), judge=report)

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


def _fleet(endpoint: str, spec: FleetSpec, snapshot: Snapshot, since: float) -> FleetObservation:
    observed = {}
    in_flight = 0
    for variant in spec.variant_names:
        group = snapshot.members(endpoint, int(spec.fleet_id), variant)
        ready = sum(1 for i in group if i.phase == "ready")
        health = snapshot.group(GroupKey(endpoint, int(spec.fleet_id), variant))
        failed = health.startup_failures if (health.startup_failure_at or 0) >= since else 0
        observed[variant] = VariantObservation(
            desired=len([i for i in group if i.phase in ("starting", "ready")]), ready=ready, failed=failed,
            failure_reason=health.failure if failed else None)
        in_flight += sum(i.in_flight for i in group)
    return FleetObservation(variants=observed, in_flight=in_flight)


def apply(row: Doc, rollout: RolloutState,
          actions: list[Any]) -> tuple[DesiredState, str, str, str | None, Outcome | None]:
    """The endpoint's new desired state for a tick's actions: fleets, traffic, and the outcome."""
    state: DesiredState = row["state"].copy_deep()
    blue, green = state.current, state.pending
    if green is None or state.deployment is None:
        raise ValueError(f"endpoint {row['name']} has a deployment without a green fleet")
    baseline = next((f for f in state.fleets if f.role == "baseline"), None)
    ours = {str(f.id): f for f in (blue, green, baseline) if f is not None}
    for action in actions:
        if isinstance(action, SetFleet) and action.fleet_id in ours:
            fleet = ours[action.fleet_id]
            for variant in fleet.variants:
                variant.desired_count = int(action.instance_counts.get(variant.name, 0))
                variant.desired_weight = float(action.weights.get(variant.name, variant.desired_weight))
        elif isinstance(action, SetTraffic):
            green.traffic = float(action.shares.get(str(green.id), 0))
            if baseline is not None:
                baseline.traffic = float(action.shares.get(str(baseline.id), 0))
            blue.traffic = 100.0 - green.traffic - (baseline.traffic if baseline is not None else 0.0)
    handled = set(rollout.handled_commands)  # keep the queue short: the rollout remembers handled ids
    state.deployment.commands = [c for c in state.deployment.commands if c.command_id not in handled]
    finish = next((a for a in actions if isinstance(a, Finish)), None)
    config_name, failure = row["config_name"], rollout.failure_reason
    if finish is not None:  # the judge's baseline goes with the deployment, whatever its outcome
        state.fleets = [f for f in state.fleets if f.role != "baseline"]
    if finish is None:
        return state, endpoint_status(rollout), config_name, failure, None
    if finish.outcome is Outcome.ROLLBACK_FAILED:
        state.deployment = None
        return state, "UpdateRollbackFailed", config_name, failure, finish.outcome
    if finish.outcome is Outcome.SUCCEEDED:
        for variant in green.variants:
            variant.desired_count = int(green.target_counts[variant.name])
        green.traffic, green.target_counts = 100.0, {}
        # The new config's shadow (if it has one) replaces the old config's; an experiment's shadow stays.
        state.fleets = [green] + [f for f in state.fleets if f.role not in ("production", "baseline") and not (
            f.role == "shadow" and f.experiment is None and not f.pending)]
        for fleet in state.fleets:
            fleet.pending = False
        state.current_fleet_id = green.id
        config_name, failure = finish.endpoint_config, None
    else:
        blue.traffic = 100.0
        state.fleets = [f for f in state.fleets if f.id != green.id and not f.pending]
    state.deployment = None
    return state, "InService", config_name, failure, finish.outcome
