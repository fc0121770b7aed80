"""EventBridge's shapes for the registry's and the deployments' events (facts: SageMaker's
"automating with EventBridge" page): the model package event's detail is a DescribeModelPackage body with
ISO-8601 times and no ModelPackageName; the endpoint deployment event spells statuses in upper snake case
and times in epoch milliseconds."""

from __future__ import annotations

import re
from typing import Any

from greenfleet.metrics.timestamps import iso

Doc = dict[str, Any]
SOURCE = "aws.sagemaker"
PACKAGE_STATE_CHANGE = "SageMaker Model Package State Change"
DEPLOYMENT_STATE_CHANGE = "SageMaker Endpoint Deployment State Change"
OUTCOME_SOURCE = "greenfleet.registry"
OUTCOME = "Greenfleet Model Package Deployment Outcome"
_TIMES = ("CreationTime", "LastModifiedTime")


def package_detail(described: Doc) -> Doc:
    detail = {k: v for k, v in described.items() if k != "ModelPackageName" and not k.startswith("Greenfleet")}
    for key in _TIMES:
        if isinstance(detail.get(key), int | float):
            detail[key] = iso(float(detail[key]))
    return detail


def upper_snake(status: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", status).upper()


def _millis(value: Any) -> Any:
    return round(float(value) * 1000) if isinstance(value, int | float) else value


def deployment_detail(described_endpoint: Doc) -> Doc:
    """The detail of "SageMaker Endpoint Deployment State Change" from a DescribeEndpoint body."""
    detail: Doc = {key: described_endpoint[key] for key in
                   ("EndpointName", "EndpointArn", "EndpointConfigName") if key in described_endpoint}
    detail["ProductionVariants"] = [_variant(v) for v in described_endpoint.get("ProductionVariants", [])]
    detail["EndpointStatus"] = upper_snake(str(described_endpoint.get("EndpointStatus", "")))
    for key in _TIMES:
        if key in described_endpoint:
            detail[key] = _millis(described_endpoint[key])
    detail["Tags"] = {}
    pending = described_endpoint.get("PendingDeploymentSummary")
    if pending:
        detail["PendingDeploymentSummary"] = {
            "EndpointConfigName": pending.get("EndpointConfigName"), "StartTime": _millis(pending.get("StartTime")),
            "ProductionVariants": [_variant(v) for v in pending.get("ProductionVariants", [])]}
    return detail


def _variant(variant: Doc) -> Doc:
    keys = ("VariantName", "CurrentWeight", "DesiredWeight", "CurrentInstanceCount", "DesiredInstanceCount")
    shaped: Doc = {key: variant[key] for key in keys if key in variant}
    statuses = variant.get("VariantStatus")
    if statuses:
        shaped["VariantStatus"] = [{**s, "StartTime": _millis(s.get("StartTime"))} for s in statuses]
    return shaped
