"""A model package group's lifecycle as one timeline, assembled from the stores that already record it (nothing
new is kept): the registry's audit trail (registrations, promotions from another server, approval changes),
the deployments of the endpoints bound to the group (started; succeeded, rolled back or failed, and why), the
shadow tests on those endpoints (their status and, while the server holds the pairs, agreement and error
rates), and the monitoring schedules on them (each change of an execution's status: drift found, gone, a
failure). Oldest first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from greenfleet.dashboard.access import RegistryFaces
from greenfleet.experiments.service import ExperimentService
from greenfleet.monitoring.service import MonitoringService
from greenfleet.registry.imports import PROVENANCE
from greenfleet.registry.names import config_name

__all__ = ["KINDS", "PROMOTED_PREFIX", "Event", "timeline"]

Doc = dict[str, Any]
PROMOTED_PREFIX = PROVENANCE
"""CustomerMetadataProperties keys a promoted copy records its source under (CONTRACT-18)."""


KINDS = ("registered", "promoted", "approval", "deployment", "shadow-test", "monitoring")


class Event(NamedTuple):
    at: float
    kind: str
    """registered | promoted | approval | deployment | shadow-test | monitoring."""
    title: str
    status: str | None
    detail: str
    version: int | None = None
    link: str | None = None


def _promoted_from(spec: Doc) -> str | None:
    found = {k: str(v) for k, v in (spec.get("CustomerMetadataProperties") or {}).items()
             if k.startswith(PROMOTED_PREFIX)}
    if not found:
        return None
    url = next((v for k, v in found.items() if k.endswith(("url", "server"))), None)
    arn = next((v for k, v in found.items() if k.endswith("arn")), None)
    parts = [part for part in (url, arn) if part] or list(found.values())
    return " ".join(parts)


def _registry(faces: RegistryFaces, group: str) -> list[Event]:
    events = []
    for entry in faces.audit.history(group)["History"]:
        version, by = entry["ModelPackageVersion"], entry.get("By") or "—"
        if entry["Kind"] == "created":
            row = faces.packages.repo.get_version(group, version)
            source = _promoted_from(row["spec"]) if row is not None else None
            kind, title = ("promoted", f"v{version} promoted here") if source else ("registered",
                                                                                  f"v{version} registered")
            detail = f"from {source}; by {by}" if source else f"by {by}"
            events.append(Event(entry["Time"], kind, title, entry.get("ToStatus"), detail, version))
        elif entry["Kind"] == "approval":
            reason = entry.get("Reason")
            events.append(Event(entry["Time"], "approval", f"v{version} {entry.get('ToStatus')}",
                                entry.get("ToStatus"), f"by {by}" + (f": {reason}" if reason else ""), version))
        elif entry["Kind"] == "deleted":
            events.append(Event(entry["Time"], "registered", f"v{version} deleted", None, f"by {by}", version))
    return events


def _deployments(group: str, versions: set[int], endpoints: list[str],
                 list_deployments: Callable[[str], Doc]) -> list[Event]:
    events = []
    for endpoint in endpoints:
        configs = {config_name(endpoint, group, v): v for v in versions}  # the configs its binding makes
        for deployment in list_deployments(endpoint)["Deployments"]:
            version = configs.get(deployment.get("ToConfig") or "")
            link = f"/ui/endpoints/{endpoint}/deployments/{deployment['DeploymentId']}"
            what = f"v{version}" if version is not None else deployment.get("ToConfig")
            events.append(Event(deployment["StartTime"], "deployment", f"{what}: deployment on {endpoint} started",
                                "InProgress", f"{deployment.get('Strategy')} from {deployment.get('FromConfig')} to "
                                f"{deployment.get('ToConfig')}", version, link))
            if deployment.get("Outcome") and deployment.get("EndTime") is not None:
                events.append(Event(deployment["EndTime"], "deployment", f"{what}: deployment on {endpoint} ended",
                                    str(deployment["Outcome"]), deployment.get("FailureReason") or "", version, link))
    return events


def _shadow_version(faces: RegistryFaces, group: str, model: Doc | None) -> int | None:
    """The group's version a shadow model serves: made from its package, or from its kept artifact."""
    if model is None:
        return None
    spec = model.get("spec") or {}
    container = spec.get("PrimaryContainer") or (spec.get("Containers") or [{}])[0]
    package = str(container.get("ModelPackageName") or "")
    if f":model-package/{group}/" in package.lower():
        return int(package.rsplit("/", 1)[-1])
    url = container.get("ModelDataUrl")
    for row in faces.packages.repo.newest_versions(group, 50):
        if url and (row["spec"].get("GreenfleetArtifact") or {}).get("Uri") == url:
            return int(row["version"])
    return None


def _shadow_tests(faces: RegistryFaces, group: str, endpoints: list[str], service: ExperimentService,
                  get_model: Callable[[str], Doc | None]) -> list[Event]:
    events = []
    listed = service.list_inference_experiments({"MaxResults": 100})["InferenceExperiments"]
    for summary in listed:
        described = service.describe_inference_experiment({"Name": summary["Name"]})
        endpoint = described["EndpointMetadata"]["EndpointName"]
        if endpoint not in endpoints:
            continue
        shadow: Doc = next((v for v in described.get("ModelVariants", [])
                       if v["VariantName"] != described["ShadowModeConfig"]["SourceModelVariantName"]), {})
        version = _shadow_version(faces, group, get_model(shadow.get("ModelName", "")))
        what = f"v{version}" if version is not None else shadow.get("ModelName")
        link = f"/ui/experiments/{described['Name']}"
        events.append(Event(described["CreationTime"], "shadow-test", f"{what}: shadow test on {endpoint}",
                            "Created", described.get("Description") or described["Name"], version, link))
        report = service.report(described["Name"])
        predictions = report.get("Predictions") or {}
        figures = [f"{report['Pairs']} paired requests"]
        if predictions.get("Agreement") is not None:
            figures.append(f"agreement {predictions['Agreement']:.1%} with production")
        errors = report.get("Errors") or {}
        if report["Pairs"]:
            figures.append(f"errors {errors['Shadow']['Rate']:.1%} (production {errors['Production']['Rate']:.1%})")
        reason = described.get("StatusReason")
        events.append(Event(described.get("CompletionTime") or described.get("LastModifiedTime")
                            or described["CreationTime"], "shadow-test", f"{what}: shadow test {described['Status']}",
                            described["Status"], "; ".join(figures + ([reason] if reason else [])), version, link))
    return events


def _monitoring(endpoints: list[str], service: MonitoringService) -> list[Event]:
    """Each schedule on the endpoints: its first execution and every change of execution status."""
    events = []
    for schedule in service.repo.schedules():
        if schedule["endpoint_name"] not in endpoints:
            continue
        previous: str | None = None
        runs = 0
        for row in service.repo.executions(schedule["name"]):  # oldest first
            runs += 1
            if row["status"] in ("Pending", "InProgress") or row["status"] == previous:
                continue
            detail = row.get("failure_reason") or ""
            if row["status"] == "CompletedWithViolations":
                detail = detail or "the captured inputs differ from the baseline (drift)"
            elif row["status"] == "Completed":
                detail = "no violations"
            events.append(Event(row["scheduled_time"], "monitoring",
                                f"{schedule['name']} on {schedule['endpoint_name']}: execution {runs}",
                                row["status"], detail, None, f"/ui/monitoring/{schedule['name']}"))
            previous = row["status"]
    return events


def timeline(faces: RegistryFaces, group: str, list_deployments: Callable[[str], Doc],
             experiments: ExperimentService | None, monitoring: MonitoringService | None,
             get_model: Callable[[str], Doc | None]) -> Doc:
    """The group's events, oldest first, with the endpoints bound to it."""
    described = faces.packages.group(group)
    name = described["name"]
    bindings = faces.bindings.list_bindings(name)["Bindings"]
    endpoints = [b["EndpointName"] for b in bindings]
    events = _registry(faces, name)
    events += _deployments(name, {e.version for e in events if e.version is not None}, endpoints, list_deployments)
    if experiments is not None:
        events += _shadow_tests(faces, name, endpoints, experiments, get_model)
    if monitoring is not None:
        events += _monitoring(endpoints, monitoring)
    events.sort(key=lambda e: e.at)
    return {"Group": name, "Bindings": bindings, "Events": events,
            "Counts": {kind: sum(1 for e in events if e.kind == kind) for kind in KINDS}}
