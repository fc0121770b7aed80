"""Identifiers of Application Auto Scaling for SageMaker variants, its ARNs and its errors."""

from __future__ import annotations

import re
import uuid

from greenfleet.errors import GreenfleetError, ValidationError

NAMESPACE = "sagemaker"
VARIANT_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
DIMENSIONS = (VARIANT_DIMENSION,)
"""The dimensions greenfleet scales (provisioned concurrency and inference components do not exist here)."""
_NAME = r"[a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,62}"
RESOURCE = re.compile(rf"endpoint/({_NAME})/variant/({_NAME})")


class ObjectNotFound(GreenfleetError):
    code = "ObjectNotFoundException"


class ConcurrentUpdate(GreenfleetError):
    code = "ConcurrentUpdateException"


class LimitExceeded(GreenfleetError):
    code = "LimitExceededException"


def check_target_keys(namespace: str, resource_id: str, dimension: str | None) -> tuple[str, str]:
    """(endpoint, variant) named by a SageMaker variant's ResourceId; ValidationException otherwise."""
    if namespace != NAMESPACE:
        raise ValidationError(f"Unsupported service namespace: {namespace}. greenfleet scales SageMaker variants "
                              f"only (ServiceNamespace {NAMESPACE}).")
    if dimension is not None and dimension not in DIMENSIONS:
        raise ValidationError(f"Unsupported scalable dimension: {dimension}. For a SageMaker variant use "
                              f"{VARIANT_DIMENSION}.")
    match = RESOURCE.fullmatch(resource_id)
    if match is None:
        raise ValidationError(f"Unsupported resource ID: {resource_id}. A SageMaker variant is "
                              "endpoint/<endpoint-name>/variant/<variant-name>.")
    return match.group(1), match.group(2)


def resource_id(endpoint: str, variant: str) -> str:
    return f"endpoint/{endpoint}/variant/{variant}"


class ScalingArns:
    def __init__(self, region: str, account_id: str) -> None:
        self.region, self.account_id = region, account_id

    def target(self) -> str:
        return (f"arn:aws:application-autoscaling:{self.region}:{self.account_id}:scalable-target/"
                f"{uuid.uuid4().hex}{uuid.uuid4().hex[:4]}")

    def policy(self, resource: str, name: str) -> str:
        return (f"arn:aws:autoscaling:{self.region}:{self.account_id}:scalingPolicy:{uuid.uuid4()}:"
                f"resource/{NAMESPACE}/{resource}:policyName/{name}")

    def role(self) -> str:
        return (f"arn:aws:iam::{self.account_id}:role/aws-service-role/sagemaker.application-autoscaling."
                "amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint")


POLICY_ARN = re.compile(r"arn:aws(?:-[a-z]+)*:autoscaling:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:scalingPolicy:"
                        r"[0-9a-f-]{36}:resource/[a-z-]+/.+:policyName/.+")
