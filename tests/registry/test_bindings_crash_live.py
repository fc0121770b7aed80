"""A server SIGKILLed in the middle of an approval-driven deployment: after the restart the deployment
resumes and finishes, and nothing is deployed twice (one deployment, one recorded outcome)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.live.conftest import Api, ServerProcess
from tests.registry.test_bindings_live import decide, register, wait_for

pytestmark = pytest.mark.slow
LINEAR = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
    "Type": "LINEAR", "WaitIntervalInSeconds": 2, "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 50}},
    "TerminationWaitInSeconds": 0, "MaximumExecutionTimeoutInSeconds": 300}}


@pytest.mark.timeout(240)
def test_sigkill_mid_deployment_deploys_nothing_twice(server_process: Callable[[], ServerProcess],
                                                      sklearn_model: Path) -> None:
    first = server_process()
    first.start()
    api = Api(f"http://127.0.0.1:{first.port}")
    api.call("POST", "/api/model-package-groups", {"ModelPackageGroupName": "churn"})
    v1 = register(api, sklearn_model, status="Approved")
    register(api, sklearn_model)
    api.call("POST", "/api/models", {"ModelName": "crash-first", "Containers": [{"ModelPackageName": v1}]})
    api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": "crash-c1", "ProductionVariants": [
        {"VariantName": "main", "ModelName": "crash-first", "InitialInstanceCount": 2,
         "InstanceType": "ml.m5.large"}]})
    api.call("POST", "/api/endpoints", {"EndpointName": "reg", "EndpointConfigName": "crash-c1"})
    api.wait_status("reg", "InService")
    api.call("POST", "/api/registry-bindings", {"EndpointName": "reg", "ModelPackageGroupName": "churn",
                                                "DeploymentConfig": LINEAR})
    decide(api, 2, "Approved", "ship it", "ana")
    wait_for(lambda: api.call("GET", "/api/endpoints/reg").get("PendingDeploymentSummary", {}).get(
        "ProductionVariants", [{}])[0].get("CurrentWeight", 0) > 0, timeout_s=60)
    first.kill()
    second = server_process()
    second.start()
    decide(api, 2, "Approved", "ship it (retried by a nervous pipeline)", "ana")
    wait_for(lambda: api.call("GET", "/api/registry-bindings/reg")["Champion"] == 2
             and api.call("GET", "/api/endpoints/reg")["EndpointStatus"] == "InService", timeout_s=120)
    time.sleep(1.5)  # a few more controller passes: nothing new may start
    history = api.call("GET", "/api/endpoints/reg/deployments")["Deployments"]
    assert [(d["ToConfig"], d["Outcome"]) for d in history] == [("reg-churn-v2", "SUCCEEDED")]
    outcomes = [h for h in api.call("GET", "/api/model-package-groups/churn/history")["History"]
                if h["Kind"] == "deployment"]
    assert [(h["ModelPackageVersion"], h["ToStatus"]) for h in outcomes] == [(2, "SUCCEEDED")]
