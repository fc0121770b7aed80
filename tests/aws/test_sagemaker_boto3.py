"""boto3's sagemaker and sagemaker-runtime clients against greenfleet, unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, WaiterError

from greenfleet.server import Server
from tests.live.test_endpoints_live import csv_row

pytestmark = pytest.mark.slow
FAST_WAITER = {"Delay": 1, "MaxAttempts": 60}
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


def client(server: Server, service: str) -> Any:
    return boto3.client(service, endpoint_url=server.settings.base_url, region_name="us-east-1",
                        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                        config=Config(retries={"max_attempts": 1}))


@pytest.fixture
def sm(server: Server) -> Iterator[Any]:
    yield client(server, "sagemaker")


def create_endpoint(sm: Any, name: str, model_url: Path, variants: dict[str, float]) -> None:
    for variant in variants:
        sm.create_model(ModelName=f"{name}-{variant}", ExecutionRoleArn=ROLE, PrimaryContainer={
            "Image": "greenfleet/sklearn", "ModelDataUrl": str(model_url)})
    sm.create_endpoint_config(EndpointConfigName=f"{name}-cfg", ProductionVariants=[
        {"VariantName": v, "ModelName": f"{name}-{v}", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large",
         "InitialVariantWeight": w} for v, w in variants.items()])
    sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-cfg", Tags=[{"Key": "k", "Value": "v"}])


def test_resources_validation_and_waiters(sm: Any, server: Server, sklearn_model: Path,
                                          features: np.ndarray) -> None:
    with pytest.raises(ClientError) as info:
        sm.describe_endpoint(EndpointName="missing")
    assert info.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as info:
        sm.create_endpoint_config(EndpointConfigName="bad", ProductionVariants=[
            {"VariantName": "v", "ModelName": "nope", "InitialInstanceCount": 1, "InstanceType": "ml.bogus"}])
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert "instanceType" in info.value.response["Error"]["Message"]

    create_endpoint(sm, "boto", sklearn_model, {"a": 0.5, "b": 0.5})
    sm.get_waiter("endpoint_in_service").wait(EndpointName="boto", WaiterConfig=FAST_WAITER)
    described = sm.describe_endpoint(EndpointName="boto")
    assert described["EndpointStatus"] == "InService"
    assert [v["CurrentInstanceCount"] for v in described["ProductionVariants"]] == [1, 1]
    assert sm.list_tags(ResourceArn=described["EndpointArn"])["Tags"] == [{"Key": "k", "Value": "v"}]

    runtime = client(server, "sagemaker-runtime")
    answer = runtime.invoke_endpoint(EndpointName="boto", Body=csv_row(features), ContentType="text/csv",
                                     TargetVariant="b", CustomAttributes="c=1", InferenceId="id-1")
    assert answer["InvokedProductionVariant"] == "b"
    assert answer["Body"].read()
    with pytest.raises(ClientError) as info:
        runtime.invoke_endpoint(EndpointName="boto", Body="1,2", ContentType="text/csv")
    assert info.value.response["Error"]["Code"] == "ModelError"
    assert info.value.response["OriginalStatusCode"] == 400
    with pytest.raises(ClientError) as info:
        runtime.invoke_endpoint_async(EndpointName="boto", InputLocation="s3://b/k")
    assert info.value.response["Error"]["Code"] == "ValidationError"  # a real-time endpoint takes no async call
    assert "is not an asynchronous endpoint" in info.value.response["Error"]["Message"]

    sm.update_endpoint_weights_and_capacities(EndpointName="boto", DesiredWeightsAndCapacities=[
        {"VariantName": "a", "DesiredWeight": 0.0}])
    sm.get_waiter("endpoint_in_service").wait(EndpointName="boto", WaiterConfig=FAST_WAITER)
    for _ in range(20):
        assert runtime.invoke_endpoint(EndpointName="boto", Body=csv_row(features),
                                       ContentType="text/csv")["InvokedProductionVariant"] == "b"

    sm.delete_endpoint(EndpointName="boto")
    sm.get_waiter("endpoint_deleted").wait(EndpointName="boto", WaiterConfig=FAST_WAITER)


def test_list_operations_paginate_and_sort(sm: Any) -> None:
    for index in range(5):
        sm.create_model(ModelName=f"page-{index}", PrimaryContainer={"Image": "greenfleet/sklearn"})
    first = sm.list_models(MaxResults=2, SortBy="Name", SortOrder="Ascending")
    assert [m["ModelName"] for m in first["Models"]] == ["page-0", "page-1"]
    names = [m["ModelName"] for page in sm.get_paginator("list_models").paginate(
        SortBy="Name", SortOrder="Ascending", PaginationConfig={"PageSize": 2}) for m in page["Models"]]
    assert names == [f"page-{i}" for i in range(5)]
    assert [m["ModelName"] for m in sm.list_models(NameContains="page-3")["Models"]] == ["page-3"]
    with pytest.raises(ClientError):
        sm.list_models(MaxResults=1000)
    arn = sm.describe_model(ModelName="page-0")["ModelArn"]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    sm.delete_tags(ResourceArn=arn, TagKeys=["a"])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]


def test_waiter_fails_fast_on_a_failed_endpoint(sm: Any, tmp_path: Path) -> None:
    sm.create_model(ModelName="broken", PrimaryContainer={"Image": "greenfleet/sklearn",
                                                          "ModelDataUrl": str(tmp_path / "missing.tar.gz")})
    sm.create_endpoint_config(EndpointConfigName="broken", ProductionVariants=[
        {"VariantName": "v", "ModelName": "broken", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
    sm.create_endpoint(EndpointName="broken", EndpointConfigName="broken")
    with pytest.raises(WaiterError) as info:
        sm.get_waiter("endpoint_in_service").wait(EndpointName="broken", WaiterConfig=FAST_WAITER)
    assert "Failed" in str(info.value)
    assert "missing.tar.gz" in sm.describe_endpoint(EndpointName="broken")["FailureReason"]
