"""Where greenfleet's SageMaker answers as SageMaker does (issue 20), through boto3 against a live server:
tags (pages of 50, at most 50 per resource, only on resources that exist), serverless memory sizes, and
UpdateEndpointWeightsAndCapacities' checks of variant names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from greenfleet.server import Server
from tests.aws.test_sagemaker_boto3 import ROLE, client


@pytest.fixture
def sm(server: Server) -> Iterator[Any]:
    yield client(server, "sagemaker")


def refused(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    response: Any = info.value.response
    return response["Error"]["Code"], response["Error"]["Message"]


def model(sm: Any, name: str, url: Path) -> str:
    return str(sm.create_model(ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer={
        "Image": "greenfleet/sklearn", "ModelDataUrl": str(url)})["ModelArn"])


def test_tags_page_by_50_stop_at_50_and_need_the_resource(sm: Any, sklearn_model: Path) -> None:
    arn = model(sm, "tagged", sklearn_model)
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": f"k{i:02}", "Value": str(i)} for i in range(30)])
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": f"k{i:02}", "Value": str(i)} for i in range(20, 50)])  # 20 new
    first = sm.list_tags(ResourceArn=arn)
    assert len(first["Tags"]) == 50 and "NextToken" not in first  # one page of 50 (ListTags MaxResults ≥ 50)
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "k00", "Value": "again"}])  # replacing a value is no 51st
    with pytest.raises(ClientError) as info:
        sm.add_tags(ResourceArn=arn, Tags=[{"Key": "k50", "Value": "one too many"}])
    code, message = refused(info)
    assert code == "ValidationException" and "at most 50" in message

    shouting = arn.replace("model/tagged", "model/TAGGED")  # the same model: names in ARNs are lower case
    assert len(sm.list_tags(ResourceArn=shouting)["Tags"]) == 50
    sm.delete_tags(ResourceArn=shouting, TagKeys=["k00"])
    assert len(sm.list_tags(ResourceArn=arn)["Tags"]) == 49

    missing = arn.replace("model/tagged", "model/never-made")
    with pytest.raises(ClientError) as info:
        sm.add_tags(ResourceArn=missing, Tags=[{"Key": "k", "Value": "v"}])
    assert refused(info) == ("ValidationException", f'Could not find resource "{missing}".')


def test_serverless_memory_only_in_1024_mb_steps(sm: Any, sklearn_model: Path) -> None:
    model(sm, "small", sklearn_model)
    with pytest.raises(ClientError) as info:
        sm.create_endpoint_config(EndpointConfigName="sls", ProductionVariants=[
            {"VariantName": "v", "ModelName": "small", "ServerlessConfig": {"MemorySizeInMB": 1536,
                                                                          "MaxConcurrency": 1}}])
    code, message = refused(info)
    assert code == "ValidationException"
    assert message.startswith("Value '1536' at 'ProductionVariants.1.ServerlessConfig.MemorySizeInMB' failed to "
                              "satisfy constraint")


def test_weights_refuse_repeated_and_unknown_variant_names(sm: Any, sklearn_model: Path) -> None:
    model(sm, "m", sklearn_model)
    sm.create_endpoint_config(EndpointConfigName="cfg", ProductionVariants=[
        {"VariantName": "blue", "ModelName": "m", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
    sm.create_endpoint(EndpointName="weights", EndpointConfigName="cfg")
    with pytest.raises(ClientError) as info:
        sm.update_endpoint_weights_and_capacities(EndpointName="weights", DesiredWeightsAndCapacities=[
            {"VariantName": "blue", "DesiredWeight": 1.0}, {"VariantName": "blue", "DesiredWeight": 2.0}])
    assert refused(info) == ("ValidationException", 'The variant name "blue" was non-unique within the request.')
    sm.get_waiter("endpoint_in_service").wait(EndpointName="weights", WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    with pytest.raises(ClientError) as info:
        sm.update_endpoint_weights_and_capacities(EndpointName="weights", DesiredWeightsAndCapacities=[
            {"VariantName": "green", "DesiredWeight": 1.0}])
    assert refused(info) == ("ValidationException", 'The variant name(s) "green" is/are not present within '
                                                    'endpoint configuration "cfg".')
