"""How ``greenfleet registry …`` shows what the server answers: a version (lineage, metrics, deployment
outcomes), the audit trail, two versions side by side, bindings and "which version served when"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from greenfleet.cli.output import Doc, fields, number, table, when

if TYPE_CHECKING:  # rich is imported where it draws (fast CLI start)
    from rich.console import Console

__all__ = ["diff_rows", "metrics_of", "render_bindings", "render_history", "render_served", "render_version"]


def metrics_of(doc: Doc) -> dict[str, float]:
    from greenfleet.registry.evaluation import key_metrics

    return key_metrics(doc.get("GreenfleetMetrics") or {})


def render_version(doc: Doc, out: Console) -> None:
    artifact = doc.get("GreenfleetArtifact") or {}
    container = doc["InferenceSpecification"]["Containers"][0]
    out.print(fields([("Version", f"{doc['ModelPackageGroupName']}/{doc['ModelPackageVersion']}"),
                      ("ARN", doc["ModelPackageArn"]), ("Approval", doc["ModelApprovalStatus"]),
                      ("Reason", doc.get("ApprovalDescription")), ("Status", doc["ModelPackageStatus"]),
                      ("Created", when(doc["CreationTime"])), ("Created by", doc.get("CreatedBy", {}).get(
                          "UserProfileName")), ("Description", doc.get("ModelPackageDescription")),
                      ("Image", container.get("Image")), ("Source", artifact.get("SourceUri")),
                      ("Digest", f"sha256:{artifact['Sha256']}" if artifact else None),
                      ("Stored at", artifact.get("Uri"))]))
    lineage = [(k, v) for k, v in (doc.get("MetadataProperties") or {}).items()]
    lineage += sorted((doc.get("CustomerMetadataProperties") or {}).items())
    if lineage:
        out.print(table(["Lineage", "Value"], lineage, title="Lineage"))
    metrics = metrics_of(doc)
    if metrics:
        out.print(table(["Metric", "Value"], [(k, number(v)) for k, v in metrics.items()], title="Metrics"))
    promotion = doc.get("GreenfleetPromotion")
    if promotion:
        hops = [*promotion.get("Earlier", []), promotion]
        out.print(table(["From server", "Source version", "By", "When"], [
            (h["SourceUrl"], h["SourceModelPackageArn"], h.get("PromotedBy") or "-", when(h.get("PromotedAt")))
            for h in hops], title="Promoted"))
    outcomes = doc.get("GreenfleetDeployments") or []
    if outcomes:
        out.print(table(["When", "Endpoint", "Outcome", "Reason"], [
            (when(o["Time"]), o.get("Detail", {}).get("EndpointName"), o["ToStatus"], o.get("Reason") or "-")
            for o in outcomes], title="Deployments"))


def _history_status(entry: Doc) -> str:
    if entry["Kind"] == "evidence":  # a check result (greenfleet.registry.evidence)
        detail = entry.get("Detail") or {}
        return f"{detail.get('Check')}: {detail.get('Status')}"
    return f"{entry.get('FromStatus') or ''} → {entry.get('ToStatus') or ''}".strip(" →")


def render_history(doc: Doc, out: Console) -> None:
    rows = [(when(h["Time"]), h["ModelPackageVersion"], h["Kind"], _history_status(h), h.get("By") or "-",
             h.get("Reason") or "-") for h in doc["History"]]
    out.print(table(["When", "Version", "Kind", "Status", "By", "Reason"], rows))


def diff_rows(a: Doc, b: Doc) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    ma, mb = metrics_of(a), metrics_of(b)
    for key in dict.fromkeys([*ma, *mb]):
        left, right = ma.get(key), mb.get(key)
        change = number(right - left) if left is not None and right is not None else ""
        rows.append((f"metric {key}", number(left), number(right), change))
    for member in ("MetadataProperties", "CustomerMetadataProperties"):
        la, lb = a.get(member) or {}, b.get(member) or {}
        for key in dict.fromkeys([*la, *lb]):
            left, right = la.get(key, "-"), lb.get(key, "-")
            rows.append((key, str(left), str(right), "" if left == right else "changed"))
    da, db = (a.get("GreenfleetArtifact") or {}).get("Sha256", "-"), (b.get("GreenfleetArtifact") or {}).get(
        "Sha256", "-")
    rows.append(("artifact sha256", da[:16], db[:16], "" if da == db else "changed"))
    rows.append(("approval", a["ModelApprovalStatus"], b["ModelApprovalStatus"], ""))
    return rows


def render_bindings(doc: Doc, out: Console) -> None:
    rows = [(b["EndpointName"], b["VariantName"], b["ModelPackageGroupName"], number(b.get("Champion")),
             number((b.get("Deploying") or {}).get("ModelPackageVersion")),
             ", ".join(map(str, b.get("FailedVersions") or [])) or "-") for b in doc["Bindings"]]
    out.print(table(["Endpoint", "Variant", "Group", "Champion", "Deploying", "Rolled back"], rows))


def render_served(doc: Doc, out: Console) -> None:
    def rows(variants: list[Doc]) -> list[tuple[Any, ...]]:
        return [(v["VariantName"], v.get("ModelName") or "-",
                 f"{v['ModelPackageGroupName']}/{v['ModelPackageVersion']}" if v.get("ModelPackageVersion") else "-",
                 (v.get("Approval") or {}).get("By", "-"), when((v.get("Approval") or {}).get("Time")),
                 (v.get("Approval") or {}).get("Reason") or "-") for v in variants]

    columns = ["Variant", "Model", "Version", "Approved by", "Approved at", "Reason"]
    out.print(table(columns, rows(doc["Variants"]), title=f"{doc['EndpointName']} on {doc['EndpointConfigName']}"))
    if doc.get("DeployingVariants"):
        out.print(table(columns, rows(doc["DeployingVariants"]),
                        title=f"being deployed: {doc['DeployingEndpointConfigName']}"))
