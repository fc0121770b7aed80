"""The registry's SageMaker operations through boto3, against a real server over loopback."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from greenfleet.server import Server

IMAGE = "greenfleet/sklearn"


def register(sm: Any, group: str, model_url: Path, **extra: Any) -> str:
    answer = sm.create_model_package(ModelPackageGroupName=group, InferenceSpecification={
        "Containers": [{"Image": IMAGE, "ModelDataUrl": str(model_url)}],
        "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]}, **extra)
    return str(answer["ModelPackageArn"])


def code_of(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


def test_groups_versions_and_the_latest_approved_idiom(sm: Any, sklearn_model: Path) -> None:
    arn = sm.create_model_package_group(ModelPackageGroupName="churn",
                                        ModelPackageGroupDescription="churn models")["ModelPackageGroupArn"]
    assert arn == "arn:aws:sagemaker:us-east-1:000000000000:model-package-group/churn"
    described = sm.describe_model_package_group(ModelPackageGroupName=arn)
    assert described["ModelPackageGroupName"] == "churn" and described["ModelPackageGroupStatus"] == "Completed"
    arns = [register(sm, "churn", sklearn_model, ModelApprovalStatus="Approved" if i % 2 else
                     "PendingManualApproval") for i in range(5)]
    assert arns[0].endswith(":model-package/churn/1") and arns[4].endswith("/churn/5")
    by_name = sm.describe_model_package(ModelPackageName="churn/2")
    assert by_name["ModelPackageArn"] == arns[1] and by_name["ModelPackageVersion"] == 2
    assert by_name["ModelApprovalStatus"] == "Approved" and by_name["ModelPackageStatus"] == "Completed"
    assert "ModelPackageName" not in by_name
    assert sm.describe_model_package(ModelPackageName=arns[1])["ModelPackageVersion"] == 2
    latest = sm.list_model_packages(ModelPackageGroupName="churn", ModelApprovalStatus="Approved",
                                    SortBy="CreationTime", SortOrder="Descending", MaxResults=1)
    assert [s["ModelPackageVersion"] for s in latest["ModelPackageSummaryList"]] == [4]
    pages = sm.get_paginator("list_model_packages").paginate(ModelPackageGroupName="churn", SortOrder="Ascending",
                                                             PaginationConfig={"PageSize": 2})
    seen = [s["ModelPackageVersion"] for page in pages for s in page["ModelPackageSummaryList"]]
    assert seen == [1, 2, 3, 4, 5]
    assert sm.list_model_packages()["ModelPackageSummaryList"] == []  # default: unversioned, of which none
    groups = sm.list_model_package_groups(NameContains="chu")["ModelPackageGroupSummaryList"]
    assert [g["ModelPackageGroupName"] for g in groups] == ["churn"]


def test_update_approval_metadata_and_client_tokens(sm: Any, server: Server, sklearn_model: Path) -> None:
    sm.create_model_package_group(ModelPackageGroupName="g")
    arn = register(sm, "g", sklearn_model, ClientToken="tok-1",
                   CustomerMetadataProperties={"dataset": "s3://d/v1", "lr": "0.1"})
    assert register(sm, "g", sklearn_model, ClientToken="tok-1") == arn  # idempotent
    assert sm.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"] == "PendingManualApproval"
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="looks good",
                            CustomerMetadataProperties={"owner": "ana"}, CustomerMetadataPropertiesToRemove=["lr"])
    described = sm.describe_model_package(ModelPackageName=arn)
    assert described["ModelApprovalStatus"] == "Approved" and described["ApprovalDescription"] == "looks good"
    assert described["CustomerMetadataProperties"] == {"dataset": "s3://d/v1", "owner": "ana"}
    assert described["LastModifiedTime"] >= described["CreationTime"]
    trail = server.services.registry_audit.history("g")["History"]
    assert [(h["Kind"], h.get("ToStatus"), h["By"]) for h in trail] == [
        ("created", "PendingManualApproval", "aws:AKIDEXAMPLE"), ("approval", "Approved", "aws:AKIDEXAMPLE")]
    assert trail[1]["Reason"] == "looks good"
    with pytest.raises(ClientError) as info:
        sm.update_model_package(ModelPackageArn="g/1", ModelApprovalStatus="Rejected")
    assert code_of(info) == "ValidationException" and "model-package/" in str(info.value)


def test_bad_input_is_refused_and_nothing_is_half_created(sm: Any, sklearn_model: Path, tmp_path: Path) -> None:
    with pytest.raises(ClientError) as info:
        sm.create_model_package_group(ModelPackageGroupName="bad_name")
    assert code_of(info) == "ValidationException"
    with pytest.raises(ClientError) as info:
        register(sm, "nope", sklearn_model)
    assert code_of(info) == "ValidationException" and "does not exist" in str(info.value)
    sm.create_model_package_group(ModelPackageGroupName="g")
    with pytest.raises(ClientError) as info:  # unreachable metrics source: refused, no version made
        register(sm, "g", sklearn_model, ModelMetrics={"ModelQuality": {"Statistics": {
            "ContentType": "application/json", "S3Uri": f"file://{tmp_path}/missing.json"}}})
    assert code_of(info) == "ValidationException" and "missing.json" in str(info.value)
    assert sm.list_model_packages(ModelPackageGroupName="g")["ModelPackageSummaryList"] == []
    arn = register(sm, "g", sklearn_model)
    assert arn.endswith("/g/1")  # the refused registration took no version number
    with pytest.raises(ClientError) as info:
        sm.describe_model_package(ModelPackageName="g/7")
    assert code_of(info) == "ValidationException"
    with pytest.raises(ClientError) as info:
        sm.delete_model_package_group(ModelPackageGroupName="g")
    assert code_of(info) == "ConflictException"
    with pytest.raises(ClientError) as info:  # a version not Approved cannot be deployed
        sm.create_model(ModelName="m", Containers=[{"ModelPackageName": arn}])
    assert code_of(info) == "ValidationException" and "PendingManualApproval" in str(info.value)
    sm.delete_model_package(ModelPackageName=arn)
    with pytest.raises(ClientError) as info:  # approving a deleted version
        sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    assert code_of(info) == "ValidationException" and "deleted" in str(info.value)
    assert register(sm, "g", sklearn_model).endswith("/g/2")  # numbers are never reused
    sm.delete_model_package(ModelPackageName="g/2")
    sm.delete_model_package_group(ModelPackageGroupName="g")
    sm.create_model_package_group(ModelPackageGroupName="g")  # a group made again keeps counting: its
    assert register(sm, "g", sklearn_model).endswith("/g/3")   # audit trail never sees an ARN twice


def test_lineage_metrics_and_the_kept_artifact(sm: Any, server: Server, sklearn_model: Path, tmp_path: Path) -> None:
    report = tmp_path / "evaluation.json"
    report.write_text(json.dumps({"binary_classification_metrics": {"accuracy": {"value": 0.91},
                                                                    "auc": {"value": 0.95}}}))
    source = tmp_path / "model.tar.gz"
    source.write_bytes(sklearn_model.read_bytes())
    sm.create_model_package_group(ModelPackageGroupName="lin")
    arn = register(sm, "lin", source, ModelApprovalStatus="Approved",
                   MetadataProperties={"CommitId": "abc123", "Repository": "git@x:y.git", "GeneratedBy": "ci/42"},
                   ModelMetrics={"ModelQuality": {"Statistics": {"ContentType": "application/json",
                                                                 "S3Uri": f"file://{report}"}}})
    described = sm.describe_model_package(ModelPackageName=arn)
    assert described["MetadataProperties"]["CommitId"] == "abc123"
    digest = described["ModelMetrics"]["ModelQuality"]["Statistics"]["ContentDigest"]
    assert digest.startswith("sha256:")
    native = server.services.registry.describe_model_package({"ModelPackageName": arn})
    kept = native["GreenfleetArtifact"]
    assert len(kept["Sha256"]) == 64 and Path(kept["Uri"]).is_file()
    assert native["GreenfleetMetrics"]["ModelMetrics.ModelQuality.Statistics"]["Content"][
        "binary_classification_metrics"]["accuracy"]["value"] == 0.91
    source.write_bytes(b"overwritten")  # the source changes; the version still serves its own bytes
    report.unlink()
    sm.create_model(ModelName="from-package", Containers=[{"ModelPackageName": arn}])
    model = sm.describe_model(ModelName="from-package")
    container = model["Containers"][0]
    assert container["ModelPackageName"] == arn and container["ModelDataUrl"] == kept["Uri"]
    with tarfile.open(kept["Uri"]) as tar:
        assert tar.getnames() == ["model.joblib"]
    again = server.services.registry.artifacts.keep(str(sklearn_model))
    assert again.sha256 == kept["Sha256"]  # deterministic: the same content, the same digest
