"""An endpoint's whole life through the client: create, wait, invoke, reweigh, delete (real workers)."""

from __future__ import annotations

import pytest

from greenfleet.client import ApiError, Client
from tests.client.live import FEATURES, unique


def test_endpoint_lifecycle(client: Client, model_urls: list[str]) -> None:
    models = [unique("model"), unique("model")]
    for name, url in zip(models, model_urls, strict=True):
        client.create_model(ModelName=name, PrimaryContainer={"Image": "greenfleet/sklearn", "ModelDataUrl": url})
    config, endpoint = unique("config"), unique("endpoint")
    client.create_endpoint_config(EndpointConfigName=config, ProductionVariants=[
        {"VariantName": "blue", "ModelName": models[0], "InitialInstanceCount": 1, "InstanceType": "ml.m5.large",
         "InitialVariantWeight": 0.7},
        {"VariantName": "green", "ModelName": models[1], "InitialInstanceCount": 1, "InstanceType": "ml.m5.large",
         "InitialVariantWeight": 0.3, "RoutingConfig": {"RoutingStrategy": "RANDOM"}},
    ])
    arn = client.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)["EndpointArn"]
    assert client.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "Creating"
    with pytest.raises(ApiError, match="Creating"):
        client.update_endpoint_weights_and_capacities(
            EndpointName=endpoint, DesiredWeightsAndCapacities=[{"VariantName": "blue", "DesiredWeight": 1}])

    described = client.wait_for_endpoint(EndpointName=endpoint, Timeout=60, Delay=0.1)
    assert described["EndpointArn"] == arn
    assert [(v["VariantName"], v["CurrentWeight"], v["CurrentInstanceCount"])
            for v in described["ProductionVariants"]] == [("blue", 0.7, 1), ("green", 0.3, 1)]
    listed = client.list_endpoints(NameContains=endpoint, StatusEquals="InService")["Endpoints"]
    assert [e["EndpointName"] for e in listed] == [endpoint]

    # Invocations: weighted, targeted, JSON in and CSV out.
    answer = client.invoke_endpoint(EndpointName=endpoint, Body=FEATURES, Accept="application/json")
    assert answer["InvokedProductionVariant"] in ("blue", "green")
    assert answer["ContentType"].startswith("application/json")
    assert "predictions" in answer["Body"].read().decode()
    targeted = client.invoke_endpoint(EndpointName=endpoint, Body=f"[[{FEATURES}]]",
                                      ContentType="application/json", Accept="text/csv", TargetVariant="green",
                                      InferenceId="req-1")
    assert targeted["InvokedProductionVariant"] == "green" and targeted["Body"].read().decode().strip() in ("0", "1")
    with pytest.raises(ApiError, match="Variant purple not found"):
        client.invoke_endpoint(EndpointName=endpoint, Body=FEATURES, TargetVariant="purple")

    # Live weight and capacity changes, with SageMaker's validation.
    with pytest.raises(ApiError, match='"purple" is/are not present within endpoint configuration'):
        client.update_endpoint_weights_and_capacities(
            EndpointName=endpoint, DesiredWeightsAndCapacities=[{"VariantName": "purple", "DesiredWeight": 1}])
    with pytest.raises(ApiError, match="at least one variant"):
        client.update_endpoint_weights_and_capacities(EndpointName=endpoint, DesiredWeightsAndCapacities=[
            {"VariantName": "blue", "DesiredWeight": 0}, {"VariantName": "green", "DesiredWeight": 0}])
    client.update_endpoint_weights_and_capacities(EndpointName=endpoint, DesiredWeightsAndCapacities=[
        {"VariantName": "blue", "DesiredWeight": 0.0}, {"VariantName": "green", "DesiredWeight": 1.0}])
    updated = client.wait_for_endpoint(EndpointName=endpoint, Timeout=60, Delay=0.1)
    assert [v["CurrentWeight"] for v in updated["ProductionVariants"]] == [0.0, 1.0]
    chosen = {client.invoke_endpoint(EndpointName=endpoint, Body=FEATURES)["InvokedProductionVariant"]
              for _ in range(20)}
    assert chosen == {"green"}

    client.delete_endpoint(EndpointName=endpoint)
    assert client.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "Deleting"
    client.wait_for_deletion(EndpointName=endpoint, Timeout=60, Delay=0.1)
    with pytest.raises(ApiError, match="not found"):
        client.invoke_endpoint(EndpointName=endpoint, Body=FEATURES)
