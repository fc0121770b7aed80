"""UpdateEndpoint: record a deployment (desired state); the deployment driver carries it out.

Variant properties follow SageMaker: by default the new config's InitialInstanceCount and
InitialVariantWeight apply; with RetainAllVariantProperties the current DesiredInstanceCount and
DesiredWeight (and DataCaptureConfig) of same-named variants are kept, except those listed in
ExcludeRetainedVariantProperties. RetainDeploymentConfig reuses the endpoint's LastDeploymentConfig."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from greenfleet.clock import Clock
from greenfleet.errors import ConflictError, ResourceLimitExceeded, ValidationError
from greenfleet.resources.endpoint_state import DeploymentRef, DesiredState, Fleet, QueuedCommand
from greenfleet.resources.servicemodel import validate_input
from greenfleet.rollout import (
    CommandKind,
    FleetSpec,
    Limits,
    RolloutState,
    VariantSpec,
    begin,
    parse_deployment_config,
)
from greenfleet.rollout.baseline import baseline_spec, baseline_wanted
from greenfleet.rollout.view import describe as describe_rollout
from greenfleet.rollout.view import rollout_details, timeline
from greenfleet.services.endpoints import EndpointService
from greenfleet.store.repository import Repository

Doc = dict[str, Any]
UPDATABLE = {"InService", "UpdateRollbackFailed"}


def dump_rollout(rollout: RolloutState) -> Doc:
    return json.loads(rollout.to_json())  # type: ignore[no-any-return]


def load_rollout(document: Doc) -> RolloutState:
    return RolloutState.from_json(json.dumps(document))


def fleet_spec(fleet: Fleet) -> FleetSpec:
    """A fleet at full capacity (a green or baseline fleet: its target counts)."""
    return FleetSpec(fleet_id=str(fleet.id), config_name=fleet.config_name, series_name=fleet.series_name,
                     variants=tuple(VariantSpec(name=v.name, instance_count=fleet.target_counts.get(v.name,
                                                                                                v.desired_count),
                                                weight=v.desired_weight) for v in fleet.variants))


def baseline_fleet(current: Fleet, fleet_id: int, green: FleetSpec) -> Fleet:
    """The judge's fresh baseline: the current fleet's variants (the very containers blue runs) under a new
    id, with green's instance counts as targets, no instances and no traffic yet (the deployment starts it)."""
    spec = baseline_spec(str(fleet_id), fleet_spec(current), green)
    fleet = current.model_copy(deep=True)
    fleet.id, fleet.role, fleet.traffic, fleet.series_name = fleet_id, "baseline", 0.0, spec.series_name
    fleet.target_counts = spec.counts()
    for variant in fleet.variants:
        variant.desired_count = 0
    return fleet


class DeploymentService:
    def __init__(self, repo: Repository, endpoints: EndpointService, clock: Clock, limits: Limits,
                 strict_minimums: bool) -> None:
        self.repo, self.endpoints, self.clock = repo, endpoints, clock
        self.limits, self.strict_minimums = limits, strict_minimums
        self.alarm_exists: Callable[[str], bool] | None = None
        """Whether an alarm of that name exists (the server sets it to its alarm service's view)."""
        self.scaled_variants: Callable[[str], set[str]] = lambda endpoint: set()
        """The variants of an endpoint registered as scalable targets (the server sets it: greenfleet.scaling)."""

    def _check_scaled(self, row: Doc, state: DesiredState, target: Fleet) -> None:
        """SageMaker: UpdateEndpoint fails when it would remove a variant that is a scalable target or change
        its instance type (changing only the model is allowed)."""
        scaled = self.scaled_variants(row["name"])
        changed = sorted(name for name in scaled if (old := state.current.variant(name)) is not None
                         and ((new := target.variant(name)) is None or new.instance_type != old.instance_type))
        if changed:
            raise ValidationError(
                f'The variant(s) "{", ".join(changed)}" of endpoint "{row["name"]}" are registered as scalable targets '
                "with Application Auto Scaling: UpdateEndpoint cannot remove them or change their instance type. "
                "Deregister the scalable target(s) first (DeregisterScalableTarget), update the endpoint, then "
                "register them again.")

    def update_endpoint(self, params: Doc, allow_missing_alarms: bool = False) -> Doc:
        """UpdateEndpoint. Every AutoRollbackConfiguration alarm must exist (an alarm that does not would
        leave the deployment unguarded) unless ``allow_missing_alarms``."""
        # DeploymentConfig is checked by the rollout policy (which knows strict_deployment_minimums).
        validate_input("sagemaker", "UpdateEndpoint", {k: v for k, v in params.items() if k != "DeploymentConfig"})
        row = self.endpoints.endpoint(params["EndpointName"])
        if row["status"] not in UPDATABLE:
            raise ValidationError(f'Cannot update in-progress endpoint "{row["arn"]}": its status is {row["status"]}.')
        state: DesiredState = row["state"].copy_deep()
        raw = params.get("DeploymentConfig")
        if params.get("RetainDeploymentConfig"):
            if raw is not None:
                raise ValidationError("Give DeploymentConfig or RetainDeploymentConfig=true, not both")
            raw = state.last_deployment_config
        config = parse_deployment_config(raw, strict_minimums=self.strict_minimums) if raw else None
        if raw and not allow_missing_alarms:
            self._check_alarms(raw)
        if config is not None and config.GreenfleetRollout is not None and config.GreenfleetRollout.Judge \
                and params["EndpointConfigName"] == row["config_name"]:
            raise ValidationError(
                "DeploymentConfig.GreenfleetRollout.Judge: the judge compares the two fleets' per-config metrics, "
                f"but the endpoint already runs EndpointConfigName {row['config_name']!r}; create a new endpoint "
                "config for the update (or drop the Judge).")
        # A previous deployment's green fleet (after UpdateRollbackFailed) is replaced by the new one,
        # under a new id (its instances are drained, never mistaken for the new fleet's).
        green_id = state.next_fleet_id
        state.fleets = [f for f in state.fleets if f.id == state.current_fleet_id
                        or (f.role not in ("production", "baseline") and not f.pending)]
        target, *config_shadows = self.endpoints.build_fleets(green_id, params["EndpointConfigName"])
        self._check_scaled(row, state, target)
        if any(v.serverless is None for v in state.current.variants) and any(v.serverless for v in target.variants):
            raise ValidationError("UpdateEndpoint cannot turn an instance-based endpoint into a serverless one "
                                  "(serverless to instance-based is allowed); create a new endpoint instead")
        # The new config's shadow (if any) starts with green and replaces the old config's only when the
        # deployment succeeds (rollout_driver.apply); a rollback stops it with green. An experiment's stays.
        for shadow in config_shadows:
            shadow.pending = True
        state.fleets += config_shadows
        self._retain(state.current, target, params)
        blue, green = fleet_spec(state.current), fleet_spec(target)
        baseline_id = max([f.id for f in state.fleets] + [target.id]) + 1  # after the config's shadow, if any
        baseline = baseline_fleet(state.current, baseline_id, green) if baseline_wanted(config, blue, green) else None
        now = self.clock.now()
        deployment_id = uuid.uuid4().hex[:12]
        rollout, _actions = begin(deployment_id=deployment_id, endpoint_name=row["name"], blue=blue, green=green,
                                  config=config, now=now, limits=self.limits,
                                  baseline=fleet_spec(baseline) if baseline is not None else None)
        # The actions are applied by the driver's first tick (it renders the whole desired world).
        target.target_counts = green.counts()
        target.traffic = 0.0
        for variant in target.variants:
            variant.desired_count = 0
        state.fleets.append(target)
        if baseline is not None:
            state.fleets.append(baseline)
        # Both fleets run while the deployment lasts: the ceilings must hold for the two together.
        try:
            self.endpoints.check_capacity(state, row["name"], "UpdateEndpoint")
        except ResourceLimitExceeded as exc:
            if baseline is None:
                raise
            raise ResourceLimitExceeded(
                f"{exc} The judge's fresh baseline counts too ({sum(baseline.target_counts.values())} instance(s), "
                "DeploymentConfig.GreenfleetRollout.Judge.Baseline); Baseline PRODUCTION runs none.") from None
        state.deployment = DeploymentRef(id=deployment_id)
        if raw:
            state.last_deployment_config = raw
        self.repo.save_deployment(row["name"], row["revision"], {
            "state": state, "status": "Updating", "failure_reason": None, "modified_at": now,
        }, {"id": deployment_id, "endpoint_name": row["name"], "started_at": now, "finished_at": None,
            "outcome": None, "emitted_seq": -1, "state": dump_rollout(rollout)})
        self.endpoints.changed()
        return {"EndpointArn": row["arn"]}

    def _check_alarms(self, raw: Doc) -> None:
        if self.alarm_exists is None:
            return
        listed = ((raw.get("AutoRollbackConfiguration") or {}).get("Alarms")) or []
        missing = [str(a.get("AlarmName")) for a in listed
                   if isinstance(a, dict) and not self.alarm_exists(str(a.get("AlarmName")))]
        if missing:
            raise ValidationError(
                f"DeploymentConfig.AutoRollbackConfiguration.Alarms: no alarm named {', '.join(missing)} exists, so "
                "the deployment would not be guarded by it; create the alarm first (PutMetricAlarm, greenfleet alarm "
                "put), or opt out with AllowMissingAlarms=true on the native API (greenfleet endpoint update "
                "--allow-missing-alarms).")

    @staticmethod
    def _retain(current: Fleet, target: Fleet, params: Doc) -> None:
        if not params.get("RetainAllVariantProperties"):
            return
        excluded = {e["VariantPropertyType"] for e in params.get("ExcludeRetainedVariantProperties") or []}
        for variant in target.variants:
            old = current.variant(variant.name)
            if old is None:
                continue
            if "DesiredInstanceCount" not in excluded:
                variant.desired_count = old.desired_count
            if "DesiredWeight" not in excluded:
                variant.desired_weight = old.desired_weight
        if "DataCaptureConfig" not in excluded:
            target.data_capture = current.data_capture

    # --- operators' commands ------------------------------------------------------------------------
    def command(self, endpoint_name: str, kind: str, by: str, reason: str = "",
                command_id: str | None = None) -> Doc:
        """Queue ABORT, PAUSE, RESUME, APPROVE or PROMOTE for the running deployment; the driver hands
        it to the rollout machine, which records it (or why it was ignored) on the timeline."""
        try:
            kind = CommandKind(kind.upper()).value
        except ValueError:
            raise ValidationError(f"Unknown command '{kind}'; one of {', '.join(k.value for k in CommandKind)}") \
                from None
        command_id = command_id or uuid.uuid4().hex[:12]
        at = self.clock.now()

        def queue(row: Doc) -> Doc:
            state: DesiredState = row["state"].copy_deep()
            if state.deployment is None:
                raise ConflictError(f'Endpoint "{endpoint_name}" has no deployment in progress')
            queued = state.deployment.commands
            if all(c.command_id != command_id for c in queued):
                queued.append(QueuedCommand(command_id=command_id, kind=kind, by=by, reason=reason, at=at))
            return {"state": state}

        state: DesiredState = self.endpoints.mutate(endpoint_name, queue)["state"]
        self.endpoints.changed()
        deployment_id = state.deployment.id if state.deployment else ""
        return {"CommandId": command_id, "DeploymentId": deployment_id, "Kind": kind}

    # --- history ---------------------------------------------------------------------------------
    def list_deployments(self, endpoint_name: str) -> Doc:
        self.endpoints.endpoint(endpoint_name)
        return {"Deployments": [_summary(r) for r in self.repo.list_deployments(endpoint_name)]}

    def describe_deployment(self, endpoint_name: str, deployment_id: str | None = None) -> Doc:
        rows = self.repo.list_deployments(endpoint_name)
        if deployment_id is not None:
            rows = [r for r in rows if r["id"] == deployment_id]
        if not rows:
            raise ValidationError(f"Endpoint {endpoint_name} has no deployment"
                                  + (f" {deployment_id}" if deployment_id else ""))
        row = rows[0]
        rollout = load_rollout(row["state"])
        return {**_summary(row), "View": describe_rollout(rollout), "Timeline": timeline(rollout),
                "Rollout": rollout_details(rollout)}


def _summary(row: Doc) -> Doc:
    rollout = load_rollout(row["state"])
    return {"DeploymentId": row["id"], "EndpointName": row["endpoint_name"], "StartTime": row["started_at"],
            "EndTime": row["finished_at"], "Outcome": row["outcome"], "Phase": str(rollout.phase),
            "Strategy": str(rollout.strategy), "FromConfig": rollout.blue.config_name,
            "ToConfig": rollout.green.config_name, "FailureReason": rollout.failure_reason}
