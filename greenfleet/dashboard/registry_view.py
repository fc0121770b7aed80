"""What the registry pages show, read from the registry's services: the groups with their version counts
and bindings; a group's newest versions with their key metrics; one version with its lineage, its metrics
next to a baseline's (the champion, else the latest other Approved version), its bindings and its audit
trail."""

from __future__ import annotations

from typing import Any, NamedTuple

from greenfleet.dashboard.access import RegistryFaces
from greenfleet.registry import documents
from greenfleet.registry.evaluation import key_metrics

__all__ = ["DECISIONS", "GroupRow", "MetricRow", "group_rows", "group_view", "version_view"]

Doc = dict[str, Any]
DECISIONS = {"Approved": "Approve", "Rejected": "Reject"}
"""The approval statuses a person sets from the pages, and their buttons' words."""
VERSIONS_SHOWN = 50
HISTORY_SHOWN = 100
KEY_METRICS_SHOWN = 3


class GroupRow(NamedTuple):
    name: str
    description: str | None
    created_at: float
    counts: dict[str, int]
    total: int
    bindings: list[Doc]


class MetricRow(NamedTuple):
    name: str
    value: float | None
    baseline: float | None
    change: float | None


def group_rows(faces: RegistryFaces) -> list[GroupRow]:
    """Every group, by name, with its versions counted per approval status and the endpoints bound to it."""
    repo = faces.packages.repo
    counts = repo.version_counts()
    bound: dict[str, list[Doc]] = {}
    for binding in faces.bindings.list_bindings()["Bindings"]:
        bound.setdefault(binding["ModelPackageGroupName"], []).append(binding)
    rows = []
    for group in sorted(repo.list_groups(), key=lambda g: g["name"]):
        found = counts.get(group["name"], {})
        rows.append(GroupRow(group["name"], group["description"], group["created_at"], found, sum(found.values()),
                             bound.get(group["name"], [])))
    return rows


def _summary(row: Doc) -> Doc:
    """A version as the group's table shows it: DescribeModelPackage's fields and its first key metrics."""
    described = documents.describe_package(row)
    metrics = key_metrics(described.get("GreenfleetMetrics") or {})
    return {**described, "KeyMetrics": list(metrics.items())[:KEY_METRICS_SHOWN]}


def group_view(faces: RegistryFaces, name: str) -> Doc:
    """A group: its description, bindings, newest versions and audit trail (newest first)."""
    group = documents.describe_group(faces.packages.group(name))
    name = group["ModelPackageGroupName"]
    versions = [_summary(r) for r in faces.packages.repo.newest_versions(name, VERSIONS_SHOWN)]
    history = faces.audit.history(name)["History"]
    return {"Group": group, "Versions": versions, "Bindings": faces.bindings.list_bindings(name)["Bindings"],
            "History": list(reversed(history))[:HISTORY_SHOWN], "Total": sum(
                faces.packages.repo.version_counts().get(name, {}).values())}


def _lineage(described: Doc) -> list[tuple[str, str]]:
    """Where the version comes from: its artifact (source, digest, stored copy), image, metadata and
    customer properties, and the metrics reports it was registered with (each under its digest)."""
    artifact = described.get("GreenfleetArtifact") or {}
    container = (described.get("InferenceSpecification") or {}).get("Containers", [{}])[0]
    rows = [("Image", container.get("Image")), ("Model data (as given)", artifact.get("SourceUri")),
            ("Model data digest", f"sha256:{artifact['Sha256']}" if artifact.get("Sha256") else None),
            ("Stored at", artifact.get("Uri")), ("Source URI", described.get("SourceUri"))]
    rows += [(key, value) for key, value in (described.get("MetadataProperties") or {}).items()]
    rows += sorted((described.get("CustomerMetadataProperties") or {}).items())
    for where, report in sorted((described.get("GreenfleetMetrics") or {}).items()):
        rows.append((f"Report {where.removeprefix('ModelMetrics.')}", report.get("ContentDigest")))
    return [(key, str(value)) for key, value in rows if value not in (None, "")]


def _baseline(faces: RegistryFaces, group: str, version: int, bindings: list[Doc]) -> Doc | None:
    """What a version is compared with: the champion on a bound endpoint, else the newest other Approved."""
    champion = next((b["Champion"] for b in bindings if b.get("Champion") not in (None, version)), None)
    approved = [v for v in faces.packages.repo.approved_versions(group) if v != version]
    chosen = champion if champion is not None else max(approved, default=None)
    if chosen is None:
        return None
    row = faces.packages.repo.get_version(group, chosen)
    if row is None:
        return None
    return {"Version": chosen, "Why": "champion" if champion is not None else "newest other Approved",
            "Metrics": key_metrics(row["spec"].get("GreenfleetMetrics") or {})}


def _metric_rows(mine: dict[str, float], baseline: Doc | None) -> list[MetricRow]:
    theirs: dict[str, float] = baseline["Metrics"] if baseline else {}
    rows = []
    for name in dict.fromkeys([*mine, *theirs]):
        value, other = mine.get(name), theirs.get(name)
        rows.append(MetricRow(name, value, other, value - other if value is not None and other is not None
                              else None))
    return rows


def version_view(faces: RegistryFaces, group: str, version: int) -> Doc:
    """One version: DescribeModelPackage's answer, its lineage, its metrics next to the baseline's, the
    group's bindings (where it serves or is being deployed) and its own audit trail (newest first)."""
    described = faces.packages.describe_model_package({"ModelPackageName": f"{group}/{version}"})
    name = described["ModelPackageGroupName"]
    bindings = faces.bindings.list_bindings(name)["Bindings"]
    baseline = _baseline(faces, name, version, bindings)
    history = faces.audit.history(name, version)["History"]
    mine = key_metrics(described.get("GreenfleetMetrics") or {})
    return {"Version": described, "Lineage": _lineage(described), "Baseline": baseline,
            "Metrics": _metric_rows(mine, baseline) if mine else [], "Bindings": bindings,
            "History": list(reversed(history))}
