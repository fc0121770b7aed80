"""Instance ceilings at every entry point: an over-limit request is refused with SageMaker's
ResourceLimitExceeded (HTTP 400) and nothing is recorded (issue 19: the 10**30 request)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from greenfleet.server import Server
from tests.aws.servers import running_server
from tests.live.conftest import Api

LIMITS = {"max_instances_per_variant": 2, "max_instances_per_endpoint": 3, "max_instances_total": 3}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("limits") / "home", **LIMITS) as server:
        yield server


def sagemaker(server: Server) -> Any:
    return boto3.client("sagemaker", endpoint_url=server.settings.base_url, region_name="us-east-1",
                        aws_access_key_id="k", aws_secret_access_key="s", config=Config(retries={"max_attempts": 1}))


def refused(call: Any) -> str:
    with pytest.raises(ClientError) as info:
        call()
    error: Any = info.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "ResourceLimitExceeded", error
    return str(error["Error"]["Message"])


def variant(name: str, model: str, count: int) -> dict[str, Any]:
    return {"VariantName": name, "ModelName": model, "InitialInstanceCount": count, "InstanceType": "ml.m5.large"}


def test_the_storm_is_refused_at_every_entry_point(small: Server, sklearn_model: Path) -> None:
    sm, api = sagemaker(small), Api(small.settings.base_url)
    sm.create_model(ModelName="m", PrimaryContainer={"Image": "greenfleet/sklearn", "ModelDataUrl": str(sklearn_model)})

    # CreateEndpointConfig: per variant, and the variants together per endpoint
    message = refused(lambda: sm.create_endpoint_config(EndpointConfigName="huge",
                                                        ProductionVariants=[variant("a", "m", 10**9)]))
    assert "'instances per variant' is 2 Instances" in message and "GREENFLEET_MAX_INSTANCES_PER_VARIANT" in message
    refused(lambda: sm.create_endpoint_config(EndpointConfigName="wide", ProductionVariants=[
        variant("a", "m", 2), variant("b", "m", 2)]))
    response = api.http.post("/api/endpoint-configs", json={"EndpointConfigName": "huge", "ProductionVariants": [
        variant("a", "m", 10**30)]})
    assert response.status_code == 400 and response.json()["__type"] == "ResourceLimitExceeded"
    assert sm.list_endpoint_configs()["EndpointConfigs"] == []

    sm.create_endpoint_config(EndpointConfigName="one", ProductionVariants=[variant("a", "m", 1)])
    sm.create_endpoint_config(EndpointConfigName="three", ProductionVariants=[variant("a", "m", 2),
                                                                              variant("b", "m", 1)])
    sm.create_endpoint(EndpointName="e1", EndpointConfigName="one")
    api.wait_status("e1", "InService")

    # UpdateEndpointWeightsAndCapacities: the 10**30 request, on both faces; nothing changes
    for count in (10**30, 3):
        refused(lambda count=count: sm.update_endpoint_weights_and_capacities(
            EndpointName="e1", DesiredWeightsAndCapacities=[{"VariantName": "a", "DesiredInstanceCount": count}]))
    response = api.http.post("/api/endpoints/e1/weights-and-capacities", json={
        "DesiredWeightsAndCapacities": [{"VariantName": "a", "DesiredInstanceCount": 10**30}]})
    assert response.status_code == 400 and response.json()["__type"] == "ResourceLimitExceeded"
    described = sm.describe_endpoint(EndpointName="e1")
    assert described["EndpointStatus"] == "InService"
    assert described["ProductionVariants"][0]["DesiredInstanceCount"] == 1

    # UpdateEndpoint: blue (1) and green (3) run together during the deployment: 4 > 3 per endpoint
    refused(lambda: sm.update_endpoint(EndpointName="e1", EndpointConfigName="three"))
    # CreateEndpoint: 1 running + 3 more > 3 per server
    message = refused(lambda: sm.create_endpoint(EndpointName="e2", EndpointConfigName="three"))
    assert "'instances per server' is 3 Instances, with current utilization of 1 Instances" in message
    assert [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]] == ["e1"]
    assert len(httpx.get(f"{small.settings.base_url}/api/endpoints/e1/instances").json()["Instances"]) == 1

    # UpdateEndpoint with the judge's fresh baseline: blue (1), green (2) and the baseline (2) > 3 per endpoint
    sm.create_endpoint_config(EndpointConfigName="two", ProductionVariants=[variant("a", "m", 2)])
    judge = {"Metrics": [{"Name": "latency", "MetricName": "ModelLatency", "Test": "MANN_WHITNEY"}]}
    response = api.http.post("/api/endpoints/e1/update", json={"EndpointConfigName": "two", "DeploymentConfig": {
        "GreenfleetRollout": {"Steps": [{"TrafficPercent": 25, "BakeInSeconds": 1},
                                        {"TrafficPercent": 100, "BakeInSeconds": 0}], "Judge": judge}}})
    assert response.status_code == 400 and response.json()["__type"] == "ResourceLimitExceeded", response.text
    assert "The judge's fresh baseline counts too (2 instance(s)" in response.text
    assert "Baseline PRODUCTION runs none" in response.text
    assert sm.describe_endpoint(EndpointName="e1")["EndpointStatus"] == "InService"
    api.http.close()
