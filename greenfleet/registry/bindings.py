"""Deployment bindings (greenfleet's own API): a model package group bound to an endpoint variant with
a DeploymentConfig. The API records the binding (desired state); the binding driver converges. The
``champion`` alias is the group's version serving on the bound endpoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from greenfleet.clock import Clock
from greenfleet.errors import ValidationError
from greenfleet.registry.binding_machine import BindingState
from greenfleet.registry.caller import caller
from greenfleet.registry.names import check_entity_name
from greenfleet.registry.repository import RegistryRepository
from greenfleet.rollout import parse_deployment_config
from greenfleet.store.repository import Repository

Doc = dict[str, Any]


def serving_version(store: Repository, endpoint_row: Doc | None, group: str, variant: str, arn_prefix: str) \
        -> int | None:
    """The version of ``group`` behind ``variant`` in the endpoint's current config (None: not one of them)."""
    if endpoint_row is None:
        return None
    config = store.get_endpoint_config(endpoint_row["config_name"])
    if config is None:
        return None
    found = next((v for v in config["spec"]["ProductionVariants"] if v["VariantName"] == variant), None)
    model = store.get_model(found["ModelName"]) if found else None
    if model is None:
        return None
    containers = model["spec"].get("Containers") or [model["spec"].get("PrimaryContainer") or {}]
    package = str(containers[0].get("ModelPackageName") or "").lower()
    if not package.startswith(arn_prefix):
        return None
    number = package[len(arn_prefix):]
    return int(number) if number.isdigit() else None


class BindingService:
    def __init__(self, registry: RegistryRepository, store: Repository, arn_prefix: Callable[[str], str],
                 clock: Clock, strict_minimums: bool) -> None:
        self.registry, self.store, self.clock = registry, store, clock
        self.arn_prefix = arn_prefix  # group name → "arn:...:model-package/<group>/"
        self.strict_minimums = strict_minimums

    def bind(self, params: Doc) -> Doc:
        endpoint = check_entity_name(str(params.get("EndpointName") or ""), "EndpointName")
        group_name = str(params.get("ModelPackageGroupName") or "")
        group = self.registry.get_group(group_name)
        if group is None:
            raise ValidationError(f"ModelPackageGroup {group_name} does not exist.")
        row = self.store.get_endpoint(endpoint)
        if row is None:
            raise ValidationError(f"Could not find endpoint \"{endpoint}\".")
        variants = [v.name for v in row["state"].current.variants]
        variant = params.get("VariantName") or (variants[0] if len(variants) == 1 else None)
        if variant is None:
            raise ValidationError(f"VariantName is required: endpoint {endpoint} has variants {', '.join(variants)}")
        if variant not in variants:
            raise ValidationError(f"VariantName {variant} is not a variant of endpoint {endpoint} "
                                  f"(it has {', '.join(variants)})")
        config = params.get("DeploymentConfig")
        if config is not None:
            parse_deployment_config(config, strict_minimums=self.strict_minimums)
        approved = self.registry.approved_versions(group["name"])
        history = self.registry.history(group=group["name"])
        state = BindingState(endpoint=endpoint, group=group["name"], cursor=history[-1]["seq"] if history else 0,
                             target=max(approved) if approved else None)
        self.registry.insert_binding({"endpoint_name": endpoint, "group_name": group["name"],
                                      "variant_name": variant, "deployment_config": config,
                                      "created_at": self.clock.now(), "created_by": caller(),
                                      "state": state.model_dump(mode="json"), "revision": 1})
        return self.describe(endpoint)

    def unbind(self, endpoint: str) -> Doc:
        if not self.registry.delete_binding(endpoint):
            raise ValidationError(f"Endpoint {endpoint} is not bound to a model package group")
        return {}

    def binding(self, endpoint: str) -> Doc:
        row = self.registry.get_binding(endpoint)
        if row is None:
            raise ValidationError(f"Endpoint {endpoint} is not bound to a model package group")
        return row

    def describe(self, endpoint: str) -> Doc:
        return self._describe(self.binding(endpoint))

    def list_bindings(self, group: str | None = None) -> Doc:
        return {"Bindings": [self._describe(r) for r in self.registry.list_bindings(group)]}

    def champion(self, group: str) -> Doc:
        """The ``champion`` alias: per bound endpoint, the version serving there."""
        bound = self.registry.list_bindings(group)
        if self.registry.get_group(group) is None:
            raise ValidationError(f"ModelPackageGroup {group} does not exist.")
        return {"ModelPackageGroupName": group, "Alias": "champion",
                "Endpoints": [{"EndpointName": d["EndpointName"], "ModelPackageVersion": d.get("Champion"),
                               "ModelPackageArn": d.get("ChampionArn")} for d in map(self._describe, bound)]}

    def live_on(self, group: str, version: int) -> list[str]:
        """The bound endpoints on which ``version`` of ``group`` serves."""
        return [d["EndpointName"] for d in self.list_bindings(group)["Bindings"] if d["Champion"] == version]

    def _describe(self, row: Doc) -> Doc:
        state = BindingState.model_validate(row["state"])
        prefix = self.arn_prefix(row["group_name"])
        serving = serving_version(self.store, self.store.get_endpoint(row["endpoint_name"]), row["group_name"],
                                  row["variant_name"], prefix)
        described: Doc = {"EndpointName": row["endpoint_name"], "ModelPackageGroupName": row["group_name"],
                          "VariantName": row["variant_name"], "DeploymentConfig": row["deployment_config"],
                          "CreationTime": row["created_at"], "CreatedBy": row["created_by"],
                          "Champion": serving, "TargetVersion": state.target,
                          "FailedVersions": list(state.failed)}
        if serving is not None:
            described["ChampionArn"] = f"{prefix}{serving}"
        if state.deploying is not None:
            described["Deploying"] = {"ModelPackageVersion": state.deploying.version,
                                      "EndpointConfigName": state.deploying.config_name,
                                      "DeploymentId": state.deploying.deployment_id}
        return described
