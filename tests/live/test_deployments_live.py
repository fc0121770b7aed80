"""UpdateEndpoint through real processes: blue/green and rolling under continuous load."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.live.conftest import Api
from tests.live.test_endpoints_live import csv_row

pytestmark = pytest.mark.slow


class Load:
    """8 concurrent clients invoking an endpoint until stopped; records failures and variants."""

    def __init__(self, api: Api, endpoint: str, body: str, clients: int = 8) -> None:
        self.api, self.endpoint, self.body = api, endpoint, body
        self.stop_flag = threading.Event()
        self.failures: list[tuple[float, int, str]] = []
        self.served: Counter[str] = Counter()
        self.threads = [threading.Thread(target=self._run) for _ in range(clients)]

    def _run(self) -> None:
        client = Api(self.api.base_url)
        try:
            while not self.stop_flag.is_set():
                self.record(client.invoke(self.endpoint, self.body))
        finally:
            client.http.close()

    def record(self, response: httpx.Response) -> None:
        """Count an answer by the variant that served it, or keep a failure."""
        if response.status_code == 200:
            self.served[response.headers["x-amzn-invoked-production-variant"]] += 1
        else:
            self.failures.append((time.monotonic(), response.status_code, response.text[:200]))

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop_flag.set()
        for thread in self.threads:
            thread.join()


def new_config(api: Api, endpoint: str, name: str, model_url: Path, count: int = 1) -> None:
    api.call("POST", "/api/models", {"ModelName": name, "PrimaryContainer": {
        "Image": "greenfleet/sklearn", "ModelDataUrl": str(model_url)}})
    api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": name, "ProductionVariants": [
        {"VariantName": "main", "ModelName": name, "InitialInstanceCount": count, "InstanceType": "ml.m5.large"}]})


def wait_done(api: Api, endpoint: str, timeout_s: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        described = api.call("GET", f"/api/endpoints/{endpoint}")
        if described["EndpointStatus"] in ("InService", "UpdateRollbackFailed", "Failed"):
            return described
        time.sleep(0.1)
    raise AssertionError(f"deployment of {endpoint} did not finish: {described}")


def test_default_update_is_all_at_once_blue_green_without_downtime(api: Api, sklearn_model: Path,
                                                                   features: np.ndarray) -> None:
    new_config(api, "upd", "v1", sklearn_model)
    api.call("POST", "/api/endpoints", {"EndpointName": "upd", "EndpointConfigName": "v1"})
    api.wait_status("upd", "InService")
    new_config(api, "upd", "v2", sklearn_model)
    with Load(api, "upd", csv_row(features)) as load:
        api.call("POST", "/api/endpoints/upd/update", {"EndpointConfigName": "v2"})
        described = api.call("GET", "/api/endpoints/upd")
        assert described["EndpointStatus"] == "Updating"
        rejected = api.http.post("/api/endpoints/upd/update", json={"EndpointConfigName": "v1"})
        assert rejected.status_code == 400 and "Cannot update in-progress endpoint" in rejected.json()["message"]
        described = wait_done(api, "upd")
        time.sleep(0.3)
    assert described["EndpointStatus"] == "InService", described
    assert described["EndpointConfigName"] == "v2"
    assert load.failures == []
    assert sum(load.served.values()) > 50
    history = api.call("GET", "/api/endpoints/upd/deployments")["Deployments"]
    assert [(d["Outcome"], d["FromConfig"], d["ToConfig"]) for d in history] == [("SUCCEEDED", "v1", "v2")]
    latest = api.call("GET", "/api/endpoints/upd/deployments/latest")
    assert latest["Timeline"] and latest["Outcome"] == "SUCCEEDED"


@pytest.mark.parametrize("policy", [
    {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
        "Type": "LINEAR", "WaitIntervalInSeconds": 1, "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 34}},
        "TerminationWaitInSeconds": 1, "MaximumExecutionTimeoutInSeconds": 120}},
    {"RollingUpdatePolicy": {"MaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 50},
                             "WaitIntervalInSeconds": 1, "MaximumExecutionTimeoutInSeconds": 120}},
], ids=["linear", "rolling"])
def test_guarded_update_to_a_good_model_completes_with_zero_failed_requests(
        api: Api, sklearn_model: Path, features: np.ndarray, policy: dict[str, Any]) -> None:
    new_config(api, "guard", "g1", sklearn_model, count=2)
    api.call("POST", "/api/endpoints", {"EndpointName": "guard", "EndpointConfigName": "g1"})
    api.wait_status("guard", "InService")
    new_config(api, "guard", "g2", sklearn_model, count=2)
    with Load(api, "guard", csv_row(features)) as load:
        api.call("POST", "/api/endpoints/guard/update", {"EndpointConfigName": "g2", "DeploymentConfig": policy})
        described = wait_done(api, "guard")
        time.sleep(0.3)
    assert described["EndpointStatus"] == "InService", described
    assert described["EndpointConfigName"] == "g2"
    assert described["LastDeploymentConfig"] == policy
    assert load.failures == []
    instances = api.call("GET", "/api/endpoints/guard/instances")["Instances"]
    assert len(instances) == 2


FAILING_SCRIPT = '''
def model_fn(model_dir):
    return None


def predict_fn(data, model):
    raise RuntimeError("this model version is broken")
'''


def failing_model(tmp_path: Path) -> Path:
    root = tmp_path / "broken-model"
    (root / "code").mkdir(parents=True)
    (root / "code" / "inference.py").write_text(FAILING_SCRIPT)
    return root


def test_canary_to_a_failing_model_rolls_back_on_the_alarm(api: Api, sklearn_model: Path, features: np.ndarray,
                                                           tmp_path: Path) -> None:
    new_config(api, "canary", "good", sklearn_model, count=2)
    api.call("POST", "/api/endpoints", {"EndpointName": "canary", "EndpointConfigName": "good"})
    api.wait_status("canary", "InService")
    api.call("POST", "/api/models", {"ModelName": "bad", "PrimaryContainer": {
        "Image": "greenfleet/script", "ModelDataUrl": str(failing_model(tmp_path))}})
    api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": "bad", "ProductionVariants": [
        {"VariantName": "main", "ModelName": "bad", "InitialInstanceCount": 2, "InstanceType": "ml.m5.large"}]})
    # Seed 003's alarm, with a 1-second period: the 5xx rate of the whole variant (both fleets).
    api.call("PUT", "/api/alarms/canary-5xx", {
        "Namespace": "AWS/SageMaker", "MetricName": "Invocation5XXErrors", "Statistic": "Average",
        "Dimensions": [{"Name": "EndpointName", "Value": "canary"}, {"Name": "VariantName", "Value": "main"}],
        "Period": 1, "EvaluationPeriods": 2, "DatapointsToAlarm": 1, "Threshold": 0.01,
        "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching"})
    policy = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
        "Type": "CANARY", "WaitIntervalInSeconds": 30, "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}},
        "TerminationWaitInSeconds": 0, "MaximumExecutionTimeoutInSeconds": 300},
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "canary-5xx"}]}}
    with Load(api, "canary", csv_row(features)) as load:
        time.sleep(0.5)
        api.call("POST", "/api/endpoints/canary/update", {"EndpointConfigName": "bad", "DeploymentConfig": policy})
        described = wait_done(api, "canary")
        rolled_back_at = time.monotonic()
        time.sleep(2)
    assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == "good", described
    assert "canary-5xx" in described["FailureReason"], described["FailureReason"]
    assert load.failures, "the canary served no request"
    assert {status for _, status, _ in load.failures} == {424}  # only the broken model's answers
    total = sum(load.served.values()) + len(load.failures)
    assert len(load.failures) / total < 0.5  # confined to the canary's share (1 of 3 instances)
    late = [f for f in load.failures if f[0] > rolled_back_at + 0.5]
    assert late == []  # none once all traffic is back on blue
    history = api.call("GET", "/api/endpoints/canary/deployments")["Deployments"]
    assert history[0]["Outcome"] == "ROLLED_BACK"
    first_failure = min(f[0] for f in load.failures)
    assert max(f[0] for f in load.failures) - first_failure < 5  # the alarm's window (2 x 1 s) plus a tick
    summaries = [i["HistorySummary"] for i in api.call("GET", "/api/alarms/canary-5xx/history")["AlarmHistoryItems"]]
    assert "Alarm updated from OK to ALARM" in summaries
    kinds = {e["detail-type"] for e in api.call("GET", "/api/events")["Events"]}
    assert {"CloudWatch Alarm State Change", "SageMaker Endpoint Deployment State Change"} <= kinds


def test_abort_rolls_back_at_once_and_pause_holds(api: Api, sklearn_model: Path, features: np.ndarray) -> None:
    from click.testing import CliRunner

    from greenfleet.cli.main import cli

    new_config(api, "ops", "o1", sklearn_model, count=2)
    api.call("POST", "/api/endpoints", {"EndpointName": "ops", "EndpointConfigName": "o1"})
    api.wait_status("ops", "InService")
    new_config(api, "ops", "o2", sklearn_model, count=2)
    slow = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
        "Type": "LINEAR", "WaitIntervalInSeconds": 600, "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 50}},
        "MaximumExecutionTimeoutInSeconds": 3600}}
    missing = api.http.post("/api/endpoints/ops/deployment/abort", json={})
    assert missing.status_code == 409 and "no deployment in progress" in missing.json()["message"]
    with Load(api, "ops", csv_row(features)) as load:
        api.call("POST", "/api/endpoints/ops/update", {"EndpointConfigName": "o2", "DeploymentConfig": slow})
        deadline = time.monotonic() + 60
        while "first" not in str(api.call("GET", "/api/endpoints/ops/deployments/latest")["Timeline"]).lower() and \
                api.call("GET", "/api/endpoints/ops").get("PendingDeploymentSummary", {}).get(
                    "ProductionVariants", [{}])[0].get("CurrentWeight", 0) == 0:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        result = CliRunner().invoke(cli, ["deployment", "pause", "ops", "--reason", "look first", "--by", "ana",
                                          "--url", api.base_url])
        assert result.exit_code == 0, result.output
        time.sleep(1)
        assert api.call("GET", "/api/endpoints/ops")["EndpointStatus"] == "Updating"  # held, not finished
        started = time.monotonic()
        api.call("POST", "/api/endpoints/ops/deployment/abort", {"Reason": "bad numbers", "By": "ana"})
        described = wait_done(api, "ops")
        assert time.monotonic() - started < 5  # at once, not after the 600 s bake
    assert described["EndpointConfigName"] == "o1" and "ana aborted it" in described["FailureReason"]
    assert load.failures == []
    timeline = str(api.call("GET", "/api/endpoints/ops/deployments/latest")["Timeline"])
    assert "look first" in timeline and "bad numbers" in timeline
