"""The audit queries: a group's or a version's history, and "which version served endpoint E at time T,
and who approved it" — answered from the endpoint's deployment history (the config in service at T),
that config's models (the model package each was created from) and the registry's audit trail (the
approval in force at T)."""

from __future__ import annotations

from typing import Any

from greenfleet.errors import ValidationError
from greenfleet.registry import documents
from greenfleet.registry.repository import RegistryRepository
from greenfleet.services.deployments import load_rollout
from greenfleet.store.repository import Repository

Doc = dict[str, Any]


def config_at(store: Repository, endpoint: str, at: float) -> tuple[str, str | None]:
    """(EndpointConfigName in service at ``at``, config being deployed at ``at`` or None)."""
    row = store.get_endpoint(endpoint)
    history = sorted(store.list_deployments(endpoint), key=lambda d: d["started_at"])
    if row is None and not history:
        raise ValidationError(f"Endpoint {endpoint} has no record (it does not exist and never deployed)")
    if row is not None and at < row["created_at"]:
        raise ValidationError(f"Endpoint {endpoint} did not exist at that time (created later)")
    current = load_rollout(history[0]["state"]).blue.config_name if history else row["config_name"]  # type: ignore[index]
    deploying = None
    for deployment in history:
        if deployment["started_at"] > at:
            break
        rollout = load_rollout(deployment["state"])
        finished = deployment["finished_at"]
        if finished is not None and finished <= at:
            if deployment["outcome"] == "SUCCEEDED":
                current = rollout.green.config_name
        else:
            deploying = rollout.green.config_name
    return current, deploying


def served_at(store: Repository, registry: RegistryRepository, endpoint: str, at: float) -> Doc:
    current, deploying = config_at(store, endpoint, at)
    answer: Doc = {"EndpointName": endpoint, "Time": at, "EndpointConfigName": current,
                   "Variants": _variants(store, registry, current, at)}
    if deploying is not None:
        answer["DeployingEndpointConfigName"] = deploying
        answer["DeployingVariants"] = _variants(store, registry, deploying, at)
    return answer


def _variants(store: Repository, registry: RegistryRepository, config_name: str, at: float) -> list[Doc]:
    config = store.get_endpoint_config(config_name)
    if config is None:
        return []
    found = []
    for variant in config["spec"]["ProductionVariants"]:
        entry: Doc = {"VariantName": variant["VariantName"], "ModelName": variant.get("ModelName")}
        model = store.get_model(variant.get("ModelName") or "")
        containers = (model["spec"].get("Containers") or [model["spec"].get("PrimaryContainer") or {}]) if model else []
        package_arn = next((c.get("ModelPackageName") for c in containers if c.get("ModelPackageName")), None)
        if package_arn:
            entry.update(_approval(registry, package_arn, at))
        found.append(entry)
    return found


def _approval(registry: RegistryRepository, arn: str, at: float) -> Doc:
    events = registry.history(arn=arn, until=at, kinds=("created", "approval"))
    entry: Doc = {"ModelPackageArn": arn}
    if events:
        entry["ModelPackageGroupName"], entry["ModelPackageVersion"] = events[0]["group_name"], events[0]["version"]
    approval = next((e for e in reversed(events) if e["to_status"] == "Approved"), None)
    if approval is not None:
        entry["Approval"] = documents.history_entry(approval)
    if events:
        entry["ModelApprovalStatusAtTime"] = events[-1]["to_status"]
    return entry


class AuditService:
    """The audit trail as the faces see it."""

    def __init__(self, store: Repository, registry: RegistryRepository) -> None:
        self.store, self.registry = store, registry

    def history(self, group: str, version: int | None = None) -> Doc:
        if self.registry.get_group(group) is None:
            raise ValidationError(f"ModelPackageGroup {group} does not exist.")
        rows = self.registry.history(group=group)
        if version is not None:
            rows = [r for r in rows if r["version"] == version]
        return {"ModelPackageGroupName": group, "History": [documents.history_entry(r) for r in rows]}

    def served(self, endpoint: str, at: float) -> Doc:
        return served_at(self.store, self.registry, endpoint, at)
