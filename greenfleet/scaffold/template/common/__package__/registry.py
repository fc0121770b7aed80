"""Step ``register``: put the model data where the server reads it, then register one version with its
lineage and metrics through greenfleet's client (CreateModelPackage, as SageMaker's model registry)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from greenfleet.client import ApiError, Client

from .config import Server

_UNSAFE = re.compile(r"[^\w\s.:/=+\-@]")


def property_value(value: object) -> str:
    """A value CustomerMetadataProperties accept: 1-256 letters, digits, spaces and ``_.:/=+-@``."""
    return _UNSAFE.sub("_", str(value))[:256] or "-"


def upload(out: Path, server: Server, run_id: str) -> tuple[str, str]:
    """The model directory's and the metrics report's addresses for ``server``: local paths, or objects
    under the server's ``artifacts`` prefix (s3://bucket/prefix) uploaded with boto3."""
    model_dir, report = out / "model", out / "metrics.json"
    if not server.artifacts:
        return str(model_dir.resolve()), str(report.resolve())
    if not server.artifacts.startswith("s3://"):
        raise ValueError(f"artifacts must be an s3:// prefix, got {server.artifacts!r}")
    import boto3

    bucket, _, prefix = server.artifacts[len("s3://"):].partition("/")
    base = f"{prefix.strip('/')}/{run_id}".lstrip("/")
    s3 = boto3.client("s3")
    for path in sorted(model_dir.rglob("*")):
        if path.is_file():
            s3.upload_file(str(path), bucket, f"{base}/model/{path.relative_to(model_dir).as_posix()}")
    s3.upload_file(str(report), bucket, f"{base}/metrics.json")
    return f"s3://{bucket}/{base}/model/", f"s3://{bucket}/{base}/metrics.json"


def ensure_group(client: Client, group: str, description: str, by: str) -> None:
    try:
        client.describe_model_package_group(ModelPackageGroupName=group)
    except ApiError:
        try:
            client.create_model_package_group(by=by, ModelPackageGroupName=group,
                                              ModelPackageGroupDescription=description)
        except ApiError:  # created meanwhile by a concurrent run: describing it again must work
            client.describe_model_package_group(ModelPackageGroupName=group)


def client_token(group: str, lineage: dict[str, Any]) -> str:
    """Registering the same model, data and metrics into the same group twice (a re-run CI job) gives
    back the version registered the first time."""
    key = json.dumps({"group": group, "model": lineage["model_sha256"], "dataset": lineage["dataset_sha256"],
                      "metrics": lineage["metrics"], "commit": lineage.get("commit")}, sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def register(client: Client, group: str, image: str, model_url: str, metrics_url: str,
             lineage: dict[str, Any], approve: bool, by: str) -> dict[str, Any]:
    """Register one version of ``group``; returns ``{"ModelPackageArn", "ModelPackageVersion", ...}``."""
    ensure_group(client, group, f"{lineage['project']} models ({lineage['group_key']})", by)
    metadata = {key: value for key, value in (
        ("CommitId", lineage.get("commit")), ("Repository", lineage.get("repository")),
        ("GeneratedBy", lineage.get("generated_by")), ("ProjectId", lineage["project"])) if value}
    properties = {"dataset": lineage["dataset"], "dataset.sha256": lineage["dataset_sha256"],
                  "dataset.rows": str(lineage["dataset_rows"]), "model.sha256": lineage["model_sha256"],
                  "branch": lineage.get("branch") or "-", "dirty": str(lineage["dirty"]).lower(),
                  "condition.metric": lineage["condition"]["metric"],
                  "condition.threshold": str(lineage["condition"]["threshold"])}
    properties.update({f"param.{key}": str(value) for key, value in sorted(lineage["hyperparameters"].items())})
    properties = {key: property_value(value) for key, value in properties.items()}
    params: dict[str, Any] = {
        "ModelPackageGroupName": group,
        "ModelPackageDescription": f"{lineage['project']} trained on {lineage['dataset']} at "
                                   + (f"commit {lineage['commit'][:12]}" if lineage.get("commit") else "no commit"),
        "InferenceSpecification": {"Containers": [{"Image": image, "ModelDataUrl": model_url}]},
        "ModelMetrics": {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": metrics_url}}},
        "MetadataProperties": metadata, "CustomerMetadataProperties": properties,
        "ClientToken": client_token(group, lineage)}
    if approve:
        params["ModelApprovalStatus"] = "Approved"
    arn = client.create_model_package(by=by, **params)["ModelPackageArn"]
    described = client.describe_model_package(ModelPackageName=arn)
    return {"ModelPackageArn": arn, "ModelPackageGroupName": group,
            "ModelPackageVersion": described["ModelPackageVersion"],
            "ModelApprovalStatus": described["ModelApprovalStatus"],
            "GroupVersion": f"{group}/{described['ModelPackageVersion']}"}
