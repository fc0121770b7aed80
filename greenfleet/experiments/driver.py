"""The experiment driver: the I/O around the pure experiment controller, a step of the control pass (after
deployments). Each pass, for every experiment not finished: load it, observe (its schedule and requests,
the endpoint, its shadow fleet, a promotion's deployment), step, save (compare-and-set), then apply the
actions to the endpoint's desired state (through the endpoint and deployment services)."""

from __future__ import annotations

import logging
from typing import Any

from greenfleet.clock import Clock
from greenfleet.control.snapshot import Snapshot
from greenfleet.errors import ConflictError, GreenfleetError
from greenfleet.experiments.machine import (
    Action,
    EnsureShadow,
    ExperimentState,
    Observation,
    Promote,
    RemoveShadow,
    RetainShadow,
    StopRequest,
    step,
)
from greenfleet.experiments.repository import ExperimentRepository
from greenfleet.experiments.spec import schedule_of, storage_capture
from greenfleet.resources.endpoint_state import DesiredState, Fleet
from greenfleet.services.deployments import DeploymentService, load_rollout
from greenfleet.services.endpoints import EndpointService, variant_desired
from greenfleet.services.models import ModelService

log = logging.getLogger("greenfleet.experiments")
Doc = dict[str, Any]


def promote_config_name(experiment: str) -> str:
    return f"{experiment[:54]}-promoted"


def shadow_of(state: DesiredState, experiment: str) -> Fleet | None:
    return next((f for f in state.shadows if f.experiment == experiment), None)


class ExperimentDriver:
    name = "inference experiments"

    def __init__(self, repo: ExperimentRepository, endpoints: EndpointService, models: ModelService,
                 deployments: DeploymentService, clock: Clock, promote_bake_s: int = 300) -> None:
        self.repo, self.endpoints, self.models, self.deployments = repo, endpoints, models, deployments
        self.clock, self.promote_bake_s = clock, promote_bake_s
        self.errors: dict[str, str] = {}  # experiment → why its promotion could not start (yet)

    def run(self, snapshot: Snapshot) -> None:
        self.tick(snapshot.now)

    def tick(self, now: float) -> None:
        for row in self.repo.active():
            try:
                self.advance(row, now)
            except ConflictError:
                continue  # a concurrent writer won; the next pass retries from the stored state
            except Exception:
                log.exception("experiment pass of %s failed", row["name"])

    def advance(self, row: Doc, now: float) -> None:
        state = ExperimentState.model_validate(row["state"])
        new, actions = step(state, self.observe(row), now)
        if new != state:
            self.repo.save(row["name"], row["revision"], {
                "state": new.model_dump(mode="json"), "status": new.status, "modified_at": now})
        for action in actions:
            self.apply(row, action)

    # --- observations ------------------------------------------------------------------------------
    def observe(self, row: Doc) -> Observation:
        spec, name = row["spec"], row["name"]
        start, end = schedule_of(spec)
        shadow_config = spec["ShadowModeConfig"]["ShadowModelVariants"][0]
        stop = spec.get("_stop")
        endpoint = self.endpoints.repo.get_endpoint(row["endpoint_name"])
        obs: Doc = {"start_at": start, "end_at": end, "sampling": float(shadow_config["SamplingPercentage"]),
                    "start_requested": bool(spec.get("_start_requested")),
                    "stop": StopRequest(stop["ShadowAction"], stop["DesiredState"], stop.get("Reason"))
                    if stop else None,
                    "promote_config": promote_config_name(name), "promotion_error": self.errors.get(name)}
        if endpoint is None or endpoint["status"] == "Deleting":
            return Observation(**obs)
        state: DesiredState = endpoint["state"]
        fleet = shadow_of(state, name)
        if fleet is not None:
            observed = self.endpoints.repo.get_observation(endpoint["name"])
            obs["shadow_sampling"] = fleet.traffic
            obs["shadow_ready"] = all(observed.variant(fleet.id, v.name).current_count >= v.desired_count
                                      for v in fleet.variants)
        obs["promotion"] = self._promotion(endpoint, promote_config_name(name)) if stop else "none"
        return Observation(endpoint_status=endpoint["status"], **obs)

    def _promotion(self, endpoint: Doc, config: str) -> str:
        state: DesiredState = endpoint["state"]
        pending = state.pending
        if pending is not None and pending.config_name == config and state.deployment is not None:
            return "running"
        for deployment in self.endpoints.repo.list_deployments(endpoint["name"]):
            if load_rollout(deployment["state"]).green.config_name != config:
                continue
            if deployment["outcome"] is None:
                return "running"
            return "succeeded" if deployment["outcome"] == "SUCCEEDED" else "failed"
        return "none"

    # --- actions -----------------------------------------------------------------------------------
    def apply(self, row: Doc, action: Action) -> None:
        try:
            if isinstance(action, EnsureShadow):
                self._ensure(row, action.sampling)
            elif isinstance(action, RemoveShadow | RetainShadow):
                self._release(row, retain=isinstance(action, RetainShadow))
            elif isinstance(action, Promote):
                self._promote(row, action.config_name)
        except GreenfleetError as exc:
            error = f"{exc.code}: {exc.message}"
            if self.errors.get(row["name"]) != error:  # logged once, retried every pass
                log.warning("experiment %s: %s failed: %s", row["name"], type(action).__name__, exc.message)
            self.errors[row["name"]] = error

    def _ensure(self, row: Doc, sampling: float) -> None:
        spec, name = row["spec"], row["name"]

        def change(endpoint: Doc) -> Doc:
            state: DesiredState = endpoint["state"].copy_deep()
            fleet = shadow_of(state, name)
            if fleet is not None:
                fleet.traffic = sampling
                return {"state": state}
            if endpoint["status"] != "InService":
                raise ConflictError(f"endpoint {endpoint['name']} is {endpoint['status']}")
            shadow_name = spec["ShadowModeConfig"]["ShadowModelVariants"][0]["ShadowModelVariantName"]
            variant = next(v for v in spec["ModelVariants"] if v["VariantName"] == shadow_name)
            infra = variant["InfrastructureConfig"]["RealTimeInferenceConfig"]
            desired = variant_desired({
                "VariantName": shadow_name, "ModelName": variant["ModelName"],
                "InitialInstanceCount": infra["InstanceCount"], "InitialVariantWeight": 1.0,
                "InstanceType": infra["InstanceType"],
                "RoutingConfig": {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"}},
                self.models.model_container(variant["ModelName"]))
            state.fleets.append(Fleet(
                id=state.next_fleet_id, config_name=endpoint["config_name"], role="shadow", traffic=sampling,
                variants=[desired], source_variant=spec["ShadowModeConfig"]["SourceModelVariantName"],
                experiment=name, data_capture=storage_capture(spec)))
            self.endpoints.check_capacity(state, endpoint["name"], f"InferenceExperiment {name}")
            return {"state": state, "status": "Updating", "modified_at": self.clock.now()}

        self.endpoints.mutate(row["endpoint_name"], change)
        self.endpoints.changed()

    def _release(self, row: Doc, retain: bool) -> None:
        name = row["name"]

        def change(endpoint: Doc) -> Doc:
            state: DesiredState = endpoint["state"].copy_deep()
            fleet = shadow_of(state, name)
            if fleet is None:
                return {}
            if retain:
                fleet.experiment = None
            else:
                state.fleets = [f for f in state.fleets if f.id != fleet.id]
            return {"state": state}

        if self.endpoints.repo.get_endpoint(row["endpoint_name"]) is not None:
            self.endpoints.mutate(row["endpoint_name"], change)
            self.endpoints.changed()

    def _promote(self, row: Doc, config_name: str) -> None:
        spec = row["spec"]
        endpoint = self.endpoints.endpoint(row["endpoint_name"])
        if endpoint["status"] != "InService":
            raise ConflictError(f"endpoint {endpoint['name']} is {endpoint['status']}; the promotion starts once "
                                "it is InService")
        if self.endpoints.repo.get_endpoint_config(config_name) is None:
            shadow_name = spec["ShadowModeConfig"]["ShadowModelVariants"][0]["ShadowModelVariantName"]
            variant = next(v for v in spec["ModelVariants"] if v["VariantName"] == shadow_name)
            chosen = (spec.get("_stop") or {}).get("DesiredVariant") or variant
            infra = chosen["InfrastructureConfig"]["RealTimeInferenceConfig"]
            # The production variant's name stays (callers' TargetVariant, alarms and the deployment's
            # guardrails name it); it serves the shadow's model from now on.
            self.models.create_endpoint_config({"EndpointConfigName": config_name, "ProductionVariants": [{
                "VariantName": spec["ShadowModeConfig"]["SourceModelVariantName"],
                "ModelName": chosen.get("ModelName", variant["ModelName"]),
                "InstanceType": infra["InstanceType"], "InitialInstanceCount": max(1, int(infra["InstanceCount"])),
                "InitialVariantWeight": 1.0}]})
        deployment = spec.get("DeploymentConfig") or {"BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": self.promote_bake_s},
            "TerminationWaitInSeconds": 0}}
        self.deployments.update_endpoint({"EndpointName": endpoint["name"], "EndpointConfigName": config_name,
                                          "DeploymentConfig": deployment}, allow_missing_alarms=False)
        self.errors.pop(row["name"], None)
