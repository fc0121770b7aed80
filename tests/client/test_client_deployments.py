"""UpdateEndpoint through the client, with real workers: update, wait with progress, history, rollback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from greenfleet.api import shapes
from greenfleet.client import ApiError, Client, WaiterError
from greenfleet.server import Server
from tests.live import conftest as live

# tests/live's fixtures: a server of its own per test, with short deployment minimums (timeouts < 600 s).
server, sklearn_model = live.server, live.sklearn_model

LINEAR = {"BlueGreenUpdatePolicy": {
    "TrafficRoutingConfiguration": {"Type": "LINEAR", "WaitIntervalInSeconds": 1,
                                    "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 50}},
    "MaximumExecutionTimeoutInSeconds": 120}}


@pytest.fixture
def server_url(server: Server) -> str:
    """Overrides tests/client's session server: ``client`` talks to this test's own server."""
    return server.settings.base_url


def add_config(client: Client, name: str, model_url: Path | str) -> None:
    client.create_model(ModelName=name, PrimaryContainer={"Image": "greenfleet/sklearn",
                                                          "ModelDataUrl": str(model_url)})
    client.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[
        {"VariantName": "main", "ModelName": name, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])


def test_update_wait_and_history(client: Client, sklearn_model: Path) -> None:
    for name in ("v1", "v2"):
        add_config(client, name, sklearn_model)
    client.create_endpoint(EndpointName="e", EndpointConfigName="v1")
    client.wait_for_endpoint(EndpointName="e", Timeout=60, Delay=0.1)

    answer = client.update_endpoint(EndpointName="e", EndpointConfigName="v2", DeploymentConfig=LINEAR)
    assert answer["EndpointArn"].endswith(":endpoint/e")
    with pytest.raises(ApiError, match="Cannot update in-progress endpoint"):
        client.update_endpoint(EndpointName="e", EndpointConfigName="v1")
    with pytest.raises(WaiterError, match="has not ended") as timed_out:
        client.wait_for_deployment(EndpointName="e", Timeout=0, Delay=0.01)
    assert timed_out.value.last["EndpointStatus"] == "Updating"

    seen: list[dict[str, Any]] = []
    final = client.wait_for_deployment(EndpointName="e", Timeout=60, Delay=0.1, on_progress=seen.append)
    assert final["EndpointStatus"] == "InService" and final["EndpointConfigName"] == "v2"
    assert seen[-1] == final and "FailureReason" not in final
    pending = [d["PendingDeploymentSummary"] for d in seen if "PendingDeploymentSummary" in d]
    assert pending and pending[0]["EndpointConfigName"] == "v2"
    assert {round(p["ProductionVariants"][0]["CurrentWeight"], 2) for p in pending} >= {0.5}

    listed = client.list_deployments(EndpointName="e")["Deployments"]
    assert [(d["FromConfig"], d["ToConfig"], d["Strategy"], d["Outcome"]) for d in listed] == [
        ("v1", "v2", "LINEAR", "SUCCEEDED")]
    latest = client.describe_deployment(EndpointName="e")
    assert latest == client.describe_deployment(EndpointName="e", DeploymentId=listed[0]["DeploymentId"])
    shapes.Deployment.model_validate(latest)  # the answer is what /openapi.json documents
    shapes.DeploymentList.model_validate({"Deployments": listed})
    phases = [entry["Phase"] for entry in latest["Timeline"]]
    assert phases[0] == "PROVISIONING" and "BAKING" in phases and phases[-1] == "SUCCEEDED"
    with pytest.raises(ApiError, match="no deployment nope"):
        client.describe_deployment(EndpointName="e", DeploymentId="nope")


def test_rollback_with_retained_config_and_variant_properties(client: Client, sklearn_model: Path,
                                                              tmp_path: Path) -> None:
    add_config(client, "good", sklearn_model)
    add_config(client, "broken", tmp_path / "missing.tar.gz")
    client.create_endpoint(EndpointName="r", EndpointConfigName="good", DeploymentConfig=LINEAR)
    client.wait_for_endpoint(EndpointName="r", Timeout=60, Delay=0.1)

    client.update_endpoint(EndpointName="r", EndpointConfigName="broken", RetainDeploymentConfig=True,
                           RetainAllVariantProperties=True,
                           ExcludeRetainedVariantProperties=[{"VariantPropertyType": "DesiredWeight"}])
    final = client.wait_for_deployment(EndpointName="r", Timeout=60, Delay=0.1)
    assert final["EndpointStatus"] == "InService" and final["EndpointConfigName"] == "good"
    assert "missing.tar.gz" in final["FailureReason"]
    deployment = client.describe_deployment(EndpointName="r")
    assert deployment["Outcome"] == "ROLLED_BACK" and deployment["Strategy"] == "LINEAR"
    assert deployment["FailureReason"] == final["FailureReason"]
    assert [e["Phase"] for e in deployment["Timeline"]][-2:] == ["ROLLING_BACK", "ROLLED_BACK"]
