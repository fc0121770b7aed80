"""The binding driver: the I/O around the pure binding controller. Each pass, for every binding: load
its state, observe (the group's audit entries since the cursor, its Approved versions, the endpoint, its
deployments), step, save the new state (with the outcomes it records, their audit entries and events, in
the same transaction), then apply: create the version's Model and EndpointConfig under deterministic names
when missing and start UpdateEndpoint through the DeploymentService unless the endpoint is already on (or
moving to) that config; reject a rolled-back version when told to."""

from __future__ import annotations

import copy
import logging
from typing import Any

from sqlalchemy import Connection

from greenfleet.clock import Clock
from greenfleet.control.snapshot import Snapshot
from greenfleet.errors import ConflictError, GreenfleetError
from greenfleet.registry import eventshapes
from greenfleet.registry.binding_machine import (
    BindingState,
    Change,
    Deploy,
    DeploymentSeen,
    Observations,
    RecordOutcome,
    Reject,
    step,
)
from greenfleet.registry.bindings import serving_version
from greenfleet.registry.caller import CALLER
from greenfleet.registry.names import model_name
from greenfleet.registry.packages import RegistryService
from greenfleet.registry.repository import RegistryRepository
from greenfleet.services.deployments import DeploymentService, load_rollout
from greenfleet.services.models import ModelService
from greenfleet.store.repository import Repository

log = logging.getLogger("greenfleet.registry")
Doc = dict[str, Any]


class BindingDriver:
    """The binding controller's driver, a step of the control pass (after deployments)."""

    name = "registry bindings"

    def __init__(self, registry_repo: RegistryRepository, store: Repository, registry: RegistryService,
                 models: ModelService, deployments: DeploymentService, clock: Clock,
                 reject_on_rollback: bool = False) -> None:
        self.registry_repo, self.store, self.registry = registry_repo, store, registry
        self.models, self.deployments, self.clock = models, deployments, clock
        self.reject_on_rollback = reject_on_rollback
        self.errors: dict[tuple[str, str], str] = {}  # (endpoint, config) → why starting it failed

    def run(self, snapshot: Snapshot) -> None:
        self.tick(snapshot.now)

    def tick(self, now: float) -> None:
        for row in self.registry_repo.list_bindings():
            try:
                self.advance(row, now)
            except ConflictError:
                continue  # a concurrent writer won; the next pass retries from the stored state
            except Exception:
                log.exception("binding pass of %s failed", row["endpoint_name"])

    def advance(self, row: Doc, now: float) -> None:
        state = BindingState.model_validate(row["state"])
        observations = self.observe(row, state)
        new, actions = step(state, observations, now)
        records = [a for a in actions if isinstance(a, RecordOutcome)]
        if new != state or records:
            self.registry_repo.save_binding_state(row["endpoint_name"], row["revision"], new.model_dump(mode="json"),
                                                  also=lambda tx: self._record(tx, row, records, now))
            if records:
                self.registry.events.wake()
        if new.deploying is None:
            self.errors = {k: v for k, v in self.errors.items() if k[0] != row["endpoint_name"]}
        for action in actions:  # side effects only after the save
            if isinstance(action, Deploy):
                self._deploy(row, action)
            elif isinstance(action, Reject):
                self._reject(row, action)

    # --- observations ------------------------------------------------------------------------------
    def observe(self, row: Doc, state: BindingState) -> Observations:
        group, endpoint = row["group_name"], row["endpoint_name"]
        changes = tuple(Change(h["seq"], h["version"], h["to_status"]) for h in self.registry_repo.history(
            group=group, after=state.cursor, kinds=("created", "approval", "deleted")))
        approved = frozenset(self.registry_repo.approved_versions(group))
        endpoint_row = self.store.get_endpoint(endpoint)
        seen = []
        if endpoint_row is not None and state.deploying is not None:  # only a deployment asked for is followed
            for deployment in self.store.list_deployments(endpoint):
                rollout = load_rollout(deployment["state"])
                seen.append(DeploymentSeen(deployment["id"], rollout.green.config_name, deployment["started_at"],
                                           deployment["outcome"], rollout.failure_reason))
        error = self.errors.get((endpoint, state.deploying.config_name)) if state.deploying else None
        prefix = self.registry.arns.version(group, 0)[:-1]
        return Observations(
            changes=changes, approved=approved,
            endpoint_status=endpoint_row["status"] if endpoint_row else None,
            endpoint_config=endpoint_row["config_name"] if endpoint_row else None,
            serving=serving_version(self.store, endpoint_row, group, row["variant_name"], prefix),
            deployments=tuple(seen), deploy_error=error, reject_on_rollback=self.reject_on_rollback)

    # --- actions -----------------------------------------------------------------------------------
    def _record(self, tx: Connection, row: Doc, records: list[RecordOutcome], now: float) -> None:
        for record in records:
            arn = self.registry.arns.version(row["group_name"], record.version)
            detail = {"EndpointName": row["endpoint_name"], "VariantName": row["variant_name"],
                      "DeploymentId": record.deployment_id}
            self.registry_repo.add_history(tx, {
                "package_arn": arn, "group_name": row["group_name"], "version": record.version, "at": now,
                "kind": "deployment", "from_status": None, "to_status": record.outcome,
                "by": f"greenfleet:binding/{row['endpoint_name']}", "reason": record.reason, "detail": detail})
            self.registry.events.append(eventshapes.OUTCOME_SOURCE, eventshapes.OUTCOME, arn, {
                "ModelPackageArn": arn, "ModelPackageGroupName": row["group_name"],
                "ModelPackageVersion": record.version, "Outcome": record.outcome, "FailureReason": record.reason,
                **detail}, now, connection=tx)

    def _deploy(self, row: Doc, action: Deploy) -> None:
        endpoint = row["endpoint_name"]
        try:
            self._ensure_model(row["group_name"], action.version)
            endpoint_row = self.store.get_endpoint(endpoint)
            if endpoint_row is None or endpoint_row["status"] != "InService" \
                    or endpoint_row["config_name"] == action.config_name:
                return  # already there, or busy: the controller looks again next pass
            self._ensure_config(endpoint_row, row, action)
            params: Doc = {"EndpointName": endpoint, "EndpointConfigName": action.config_name}
            if row["deployment_config"]:
                params["DeploymentConfig"] = copy.deepcopy(row["deployment_config"])
            self.deployments.update_endpoint(params)
        except GreenfleetError as exc:
            log.warning("binding of %s could not deploy version %s: %s", endpoint, action.version, exc.message)
            self.errors[(endpoint, action.config_name)] = f"{exc.code}: {exc.message}"

    def _ensure_model(self, group: str, version: int) -> None:
        name, arn = model_name(group, version), self.registry.arns.version(group, version)
        existing = self.store.get_model(name)
        if existing is None:
            self.models.create_model({"ModelName": name, "Containers": [{"ModelPackageName": arn}]})
            return
        containers = existing["spec"].get("Containers") or [existing["spec"].get("PrimaryContainer") or {}]
        if str(containers[0].get("ModelPackageName", "")).lower() != arn:
            raise ConflictError(f"Model {name} exists and is not made from {arn}; delete or rename it")

    def _ensure_config(self, endpoint_row: Doc, row: Doc, action: Deploy) -> None:
        if self.store.get_endpoint_config(action.config_name) is not None:
            return
        current = self.store.get_endpoint_config(endpoint_row["config_name"])
        if current is None:
            raise ConflictError(f"the endpoint's config {endpoint_row['config_name']} is gone")
        spec = {k: copy.deepcopy(v) for k, v in current["spec"].items() if k not in ("EndpointConfigName",)}
        for variant in spec["ProductionVariants"]:
            if variant["VariantName"] == row["variant_name"]:
                variant["ModelName"] = model_name(row["group_name"], action.version)
        self.models.create_endpoint_config({**spec, "EndpointConfigName": action.config_name})

    def _reject(self, row: Doc, action: Reject) -> None:
        token = CALLER.set(f"greenfleet:binding/{row['endpoint_name']}")
        try:
            self.registry.update_model_package({
                "ModelPackageArn": self.registry.arns.version(row["group_name"], action.version),
                "ModelApprovalStatus": "Rejected", "ApprovalDescription": action.reason[:1024]})
        except GreenfleetError as exc:
            log.warning("could not reject %s version %s: %s", row["group_name"], action.version, exc.message)
        finally:
            CALLER.reset(token)
