"""SageMaker's response shapes of registry rows: DescribeModelPackage(Group) bodies and summaries.

A version's stored ``spec`` is its CreateModelPackage request (validated) plus what greenfleet keeps at
registration (``Greenfleet*`` members, which boto3 ignores and the native API and CLI show): the artifact's
digest and stored copy, the metrics reports' contents, deployment outcomes through bindings."""

from __future__ import annotations

from typing import Any

Doc = dict[str, Any]
PRIVATE = ("ClientToken", "Tags", "ModelPackageGroupName", "_UpdateTokens")


def user(name: str | None) -> Doc:
    return {"UserProfileName": name or "anonymous"}


def describe_group(row: Doc) -> Doc:
    described: Doc = {"ModelPackageGroupName": row["name"], "ModelPackageGroupArn": row["arn"],
                      "CreationTime": row["created_at"], "CreatedBy": user(row["created_by"]),
                      "ModelPackageGroupStatus": row["status"]}
    if row["description"]:
        described["ModelPackageGroupDescription"] = row["description"]
    return described


def group_summary(row: Doc) -> Doc:
    summary = {k: v for k, v in describe_group(row).items() if k != "CreatedBy"}
    return summary


def describe_package(row: Doc, metadata_only: bool = False) -> Doc:
    spec = row["spec"]
    described: Doc = {k: v for k, v in spec.items() if k not in PRIVATE}
    described.update({
        "ModelPackageGroupName": row["group_name"], "ModelPackageVersion": row["version"],
        "ModelPackageArn": row["arn"], "CreationTime": row["created_at"],
        "ModelPackageStatus": row["status"],
        "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []},
        "CertifyForMarketplace": False, "ModelApprovalStatus": row["approval_status"],
        "LastModifiedTime": row["modified_at"],
    })
    if metadata_only and isinstance(described.get("ModelCard"), dict):
        described["ModelCard"] = {k: v for k, v in described["ModelCard"].items() if k != "ModelCardContent"}
    return described


def package_summary(row: Doc) -> Doc:
    summary: Doc = {"ModelPackageGroupName": row["group_name"], "ModelPackageVersion": row["version"],
                    "ModelPackageArn": row["arn"], "CreationTime": row["created_at"],
                    "ModelPackageStatus": row["status"], "ModelApprovalStatus": row["approval_status"]}
    if row.get("description"):
        summary["ModelPackageDescription"] = row["description"]
    if row.get("registration_type"):
        summary["ModelPackageRegistrationType"] = row["registration_type"]
    return summary


def history_entry(row: Doc) -> Doc:
    entry: Doc = {"Sequence": row["seq"], "ModelPackageArn": row["package_arn"],
                  "ModelPackageGroupName": row["group_name"], "ModelPackageVersion": row["version"],
                  "Time": row["at"], "Kind": row["kind"], "By": row["by"]}
    for key, column in (("FromStatus", "from_status"), ("ToStatus", "to_status"), ("Reason", "reason"),
                        ("Detail", "detail")):
        if row.get(column) is not None:
            entry[key] = row[column]
    return entry
