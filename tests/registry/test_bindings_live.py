"""Approval-driven guarded deployments through real processes, under continuous load: approving a version
deploys it through the binding's canary; a faulty version is rolled back by its alarm and the endpoint
stays where it was; rejecting the live version redeploys the previous Approved one."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from greenfleet.server import Server
from greenfleet.settings import Settings
from tests.conftest import free_port
from tests.live.conftest import FAST, Api
from tests.live.test_deployments_live import Load, failing_model
from tests.live.test_endpoints_live import csv_row

pytestmark = pytest.mark.slow
POLICY = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
    "Type": "CANARY", "WaitIntervalInSeconds": 6, "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}},
    "TerminationWaitInSeconds": 0, "MaximumExecutionTimeoutInSeconds": 300},
    "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "reg-5xx"}]}}


def register(api: Api, model_url: Path, image: str = "greenfleet/sklearn", status: str | None = None) -> str:
    body: dict[str, Any] = {"ModelPackageGroupName": "churn", "InferenceSpecification": {
        "Containers": [{"Image": image, "ModelDataUrl": str(model_url)}]}}
    if status:
        body["ModelApprovalStatus"] = status
    return str(api.call("POST", "/api/model-packages", body)["ModelPackageArn"])


def decide(api: Api, version: int, status: str, reason: str, by: str) -> None:
    response = api.http.post(f"/api/model-packages/churn/{version}", json={
        "ModelApprovalStatus": status, "ApprovalDescription": reason}, headers={"X-Greenfleet-Caller": by})
    assert response.status_code == 200, response.text


def wait_for(check: Any, timeout_s: float = 90) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {check}")


def settled_on(api: Api, version: int) -> bool:
    binding = api.call("GET", "/api/registry-bindings/reg")
    endpoint = api.call("GET", "/api/endpoints/reg")
    return binding["Champion"] == version and "Deploying" not in binding and endpoint["EndpointStatus"] == "InService"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """A server that also rejects the versions its bindings roll back (GREENFLEET_REJECT_ON_ROLLBACK)."""
    server = Server(Settings(home=tmp_path / "home", port=free_port(), reject_on_rollback=True, **FAST))
    server.start_in_thread()
    client = Api(server.settings.base_url)
    yield client
    client.http.close()
    server.stop_thread()


@pytest.mark.timeout(300)
def test_approve_rollback_reject_under_load(api: Api, sklearn_model: Path, features: np.ndarray,
                                           tmp_path: Path) -> None:
    api.call("POST", "/api/model-package-groups", {"ModelPackageGroupName": "churn"})
    v1 = register(api, sklearn_model, status="Approved")
    register(api, sklearn_model)
    register(api, failing_model(tmp_path), image="greenfleet/script")
    api.call("POST", "/api/models", {"ModelName": "reg-first", "Containers": [{"ModelPackageName": v1}]})
    api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": "reg-c1", "ProductionVariants": [
        {"VariantName": "main", "ModelName": "reg-first", "InitialInstanceCount": 2, "InstanceType": "ml.m5.large"}]})
    api.call("POST", "/api/endpoints", {"EndpointName": "reg", "EndpointConfigName": "reg-c1"})
    api.wait_status("reg", "InService")
    api.call("PUT", "/api/alarms/reg-5xx", {
        "Namespace": "AWS/SageMaker", "MetricName": "Invocation5XXErrors", "Statistic": "Average",
        "Dimensions": [{"Name": "EndpointName", "Value": "reg"}, {"Name": "VariantName", "Value": "main"}],
        "Period": 1, "EvaluationPeriods": 2, "DatapointsToAlarm": 1, "Threshold": 0.01,
        "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching"})
    binding = api.call("POST", "/api/registry-bindings", {"EndpointName": "reg", "ModelPackageGroupName": "churn",
                                                          "DeploymentConfig": POLICY})
    assert binding["Champion"] == 1 and binding["VariantName"] == "main"
    body = csv_row(features)

    with Load(api, "reg", body) as load:  # approve v2: the canary deploys it, nothing fails
        decide(api, 2, "Approved", "beats v1 offline", "ana")
        decide(api, 2, "Approved", "beats v1 offline (again)", "ana")  # a duplicate changes nothing
        wait_for(lambda: settled_on(api, 2))
        on_v2_at = time.time()
    assert load.failures == [] and sum(load.served.values()) > 20
    assert api.call("GET", "/api/endpoints/reg")["EndpointConfigName"] == "reg-churn-v2"

    with Load(api, "reg", body) as load:  # approve the faulty v3: rolled back on its alarm, v2 stays
        decide(api, 3, "Approved", "new features", "bob")
        outcome = wait_for(lambda: api.call("GET", "/api/model-packages/churn/3").get("GreenfleetDeployments"))
        time.sleep(0.5)
    assert outcome[0]["ToStatus"] == "ROLLED_BACK" and "reg-5xx" in outcome[0]["Reason"]
    v3 = wait_for(lambda: (d := api.call("GET", "/api/model-packages/churn/3"))["ModelApprovalStatus"] == "Rejected"
                  and d, timeout_s=10)
    assert v3["ApprovalDescription"].startswith("Rolled back on reg")
    assert {status for _, status, _ in load.failures} <= {424}
    wait_for(lambda: settled_on(api, 2))
    # the next deployment starts once the alarm is back to OK (one in ALARM would roll it back at once)
    wait_for(lambda: api.call("GET", "/api/alarms/reg-5xx")["StateValue"] == "OK", timeout_s=30)

    with Load(api, "reg", body) as load:  # reject v2: v1 (the latest Approved that did not fail) redeploys
        decide(api, 2, "Rejected", "drift found", "carol")
        wait_for(lambda: settled_on(api, 1))
    assert load.failures == []

    history = api.call("GET", "/api/endpoints/reg/deployments")["Deployments"]
    assert [d["ToConfig"] for d in reversed(history)] == ["reg-churn-v2", "reg-churn-v3", "reg-churn-v1"]
    served = api.http.get(
        "/api/registry/served", params={"EndpointName": "reg", "At": str(on_v2_at + 1)}).json()
    variant = served["Variants"][0]
    assert variant["ModelPackageVersion"] == 2 and variant["Approval"]["By"] == "ana"
    assert variant["Approval"]["Reason"] == "beats v1 offline"
    trail = api.call("GET", "/api/model-package-groups/churn/history")["History"]
    approvals = [(h["ModelPackageVersion"], h["ToStatus"], h["By"]) for h in trail if h["Kind"] == "approval"]
    assert approvals == [(2, "Approved", "ana"), (3, "Approved", "bob"), (3, "Rejected", "greenfleet:binding/reg"),
                         (2, "Rejected", "carol")]
    events = api.http.get(
        "/api/events", params={"limit": 1000}).json()["Events"]
    kinds = [e["detail-type"] for e in events]
    assert kinds.count("SageMaker Model Package State Change") == 7  # 3 registrations + 4 decisions
    assert "Greenfleet Model Package Deployment Outcome" in kinds
    deployment = next(e for e in events if e["detail-type"] == "SageMaker Endpoint Deployment State Change")
    assert deployment["source"] == "aws.sagemaker" and deployment["detail"]["EndpointStatus"] == "UPDATING"
    assert isinstance(deployment["detail"]["CreationTime"], int)
