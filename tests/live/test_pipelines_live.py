"""Inference pipelines through real processes: seed 004's example (scikit-learn preprocessing → XGBoost → a
post-processor that says "High Risk"/"Low Risk") through InvokeEndpoint, rolled out with a canary; Direct
invocation with SageMaker's hostname checks."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

from tests.live.conftest import Api
from tests.live.test_deployments_live import Load, wait_done

xgboost = pytest.importorskip("xgboost")
pytestmark = pytest.mark.slow

PREPROCESS = '''
import io
import joblib
import numpy as np


def model_fn(model_dir):
    return joblib.load(f"{model_dir}/scaler.joblib")


def input_fn(body, content_type):
    return np.loadtxt(io.StringIO(body), delimiter=",", ndmin=2)


def predict_fn(data, scaler):
    return scaler.transform(data)


def output_fn(scaled, accept):
    text = "\\n".join(",".join(f"{v:.6f}" for v in row) for row in scaled)
    return text, "text/csv"
'''

POSTPROCESS = '''
import json


def model_fn(model_dir):
    return float(open(f"{model_dir}/threshold").read())


def input_fn(body, content_type):
    assert content_type == "text/csv", content_type  # the XGBoost container's answer, verbatim
    return [float(line) for line in body.split()]


def predict_fn(scores, threshold):
    return ["High Risk" if score > threshold else "Low Risk" for score in scores]


def output_fn(labels, accept):
    if accept == "application/json":
        return json.dumps({"risk": labels}), "application/json"
    return "\\n".join(labels), "text/plain"
'''


def write_script(root: Path, source: str) -> Path:
    (root / "code").mkdir(parents=True)
    (root / "code" / "inference.py").write_text(source)
    return root


@pytest.fixture(scope="module")
def seed_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The three containers' model data, and rows of raw (unscaled) features."""
    x, y = make_classification(n_samples=500, n_features=6, random_state=4)
    x = x * 50 + 100  # raw features far from unit scale: the scaler matters
    scaler = StandardScaler().fit(x)
    booster = xgboost.train({"objective": "binary:logistic", "max_depth": 3},
                            xgboost.DMatrix(scaler.transform(x), label=y), num_boost_round=20)
    root = tmp_path_factory.mktemp("seed004")
    pre = write_script(root / "preprocess", PREPROCESS)
    joblib.dump(scaler, pre / "scaler.joblib")
    (root / "xgb").mkdir()
    booster.save_model(str(root / "xgb" / "xgboost-model.json"))
    posts = {}
    for name, threshold in (("post-a", "0.5"), ("post-b", "0.6")):
        post = write_script(root / name, POSTPROCESS)
        (post / "threshold").write_text(threshold)
        posts[name] = post
    scores = booster.predict(xgboost.DMatrix(scaler.transform(x)))
    return {"pre": pre, "xgb": root / "xgb", **posts, "x": x, "scores": scores}


def pipeline_model(api: Api, name: str, models: dict[str, Any], post: str, mode: str | None = None) -> None:
    params: dict[str, Any] = {"ModelName": name, "Containers": [
        {"ContainerHostname": "preprocess", "Image": "sagemaker-scikit-learn:1.2-1-cpu-py3",
         "ModelDataUrl": str(models["pre"])},
        {"ContainerHostname": "xgboost", "Image": "sagemaker-xgboost:1.7-1", "ModelDataUrl": str(models["xgb"])},
        {"ContainerHostname": "postprocess", "Image": "greenfleet/script", "ModelDataUrl": str(models[post])}]}
    if mode:
        params["InferenceExecutionConfig"] = {"Mode": mode}
    api.call("POST", "/api/models", params)


def endpoint_config(api: Api, name: str, model: str, count: int) -> None:
    api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": name, "ProductionVariants": [
        {"VariantName": "main", "ModelName": model, "InitialInstanceCount": count, "InstanceType": "ml.m5.large"}]})


def csv(row: np.ndarray) -> str:
    return ",".join(f"{v:.6f}" for v in row)


def test_seed_004_pipeline_serves_risk_labels_and_rolls_out_with_a_canary(api: Api,
                                                                        seed_models: dict[str, Any]) -> None:
    pipeline_model(api, "risk-v1", seed_models, "post-a")
    endpoint_config(api, "risk-v1", "risk-v1", count=2)
    api.call("POST", "/api/endpoints", {"EndpointName": "risk", "EndpointConfigName": "risk-v1"})
    described = api.wait_status("risk", "InService", timeout_s=120)
    images = described["ProductionVariants"][0]["DeployedImages"]
    assert [i["SpecifiedImage"] for i in images] == [
        "sagemaker-scikit-learn:1.2-1-cpu-py3", "sagemaker-xgboost:1.7-1", "greenfleet/script"]
    x, scores = seed_models["x"], seed_models["scores"]
    for index in range(20):
        response = api.invoke("risk", csv(x[index]), headers={"Accept": "application/json"})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        expected = "High Risk" if scores[index] > 0.5 else "Low Risk"
        assert response.json() == {"risk": [expected]}
    assert api.invoke("risk", csv(x[0]), headers={"Accept": "text/plain"}).text in ("High Risk", "Low Risk")
    deadline = time.monotonic() + 10  # ContainerLatency per container (EndpointName, VariantName, ContainerName)
    while time.monotonic() < deadline:
        containers = {d["Value"] for m in api.call("GET", "/api/metric-series")["Metrics"]
                      if m["MetricName"] == "ContainerLatency" for d in m["Dimensions"] if d["Name"] == "ContainerName"}
        if containers == {"preprocess", "xgboost", "postprocess"}:
            break
        time.sleep(0.2)
    assert containers == {"preprocess", "xgboost", "postprocess"}
    not_direct = api.invoke("risk", csv(x[0]), headers={"X-Amzn-SageMaker-Target-Container-Hostname": "xgboost"})
    assert not_direct.status_code == 400 and "TargetContainerHostname cannot be specified" in not_direct.text
    broken = api.invoke("risk", "not,a,number")
    assert broken.status_code == 424 and broken.headers["x-amzn-errortype"] == "ModelError"
    assert "from preprocess" in broken.json()["Message"]  # the failing container is named

    pipeline_model(api, "risk-v2", seed_models, "post-b")
    endpoint_config(api, "risk-v2", "risk-v2", count=2)
    policy = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
        "Type": "CANARY", "WaitIntervalInSeconds": 2, "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}},
        "TerminationWaitInSeconds": 0, "MaximumExecutionTimeoutInSeconds": 300}}
    with Load(api, "risk", csv(x[1]), clients=4) as load:
        time.sleep(0.3)
        api.call("POST", "/api/endpoints/risk/update", {"EndpointConfigName": "risk-v2", "DeploymentConfig": policy})
        described = wait_done(api, "risk", timeout_s=180)
        time.sleep(0.3)
    assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == "risk-v2", described
    assert load.failures == []
    assert sum(load.served.values()) > 20
    latest = api.call("GET", "/api/endpoints/risk/deployments/latest")
    assert latest["Outcome"] == "SUCCEEDED"
    assert any("anary" in json.dumps(event) for event in latest["Timeline"])
    instances = api.call("GET", "/api/endpoints/risk/instances")["Instances"]
    assert len(instances) == 2
    between = [i for i in range(len(x)) if 0.5 < scores[i] <= 0.6]
    if between:  # the new post-processor's threshold decides
        response = api.invoke("risk", csv(x[between[0]]), headers={"Accept": "application/json"})
        assert response.json() == {"risk": ["Low Risk"]}


def test_direct_invocation_needs_a_known_container_hostname(api: Api, seed_models: dict[str, Any]) -> None:
    api.call("POST", "/api/models", {"ModelName": "direct", "InferenceExecutionConfig": {"Mode": "Direct"},
                                     "Containers": [
        {"ContainerHostname": "scaler", "Image": "sagemaker-scikit-learn", "ModelDataUrl": str(seed_models["pre"])},
        {"ContainerHostname": "labels", "Image": "greenfleet/script", "ModelDataUrl": str(seed_models["post-a"])}]})
    endpoint_config(api, "direct", "direct", count=1)
    api.call("POST", "/api/endpoints", {"EndpointName": "direct", "EndpointConfigName": "direct"})
    api.wait_status("direct", "InService", timeout_s=120)
    host = "X-Amzn-SageMaker-Target-Container-Hostname"
    labels = api.invoke("direct", "0.7\n0.2", headers={host: "labels", "Accept": "application/json"})
    assert labels.status_code == 200 and labels.json() == {"risk": ["High Risk", "Low Risk"]}
    scaled = api.invoke("direct", csv(seed_models["x"][0]), headers={host: "scaler"})
    assert scaled.status_code == 200 and len(scaled.text.split(",")) == 6
    missing = api.invoke("direct", "0.7")
    assert missing.status_code == 400 and missing.headers["x-amzn-errortype"] == "ValidationError"
    assert "TargetContainerHostname must be specified" in missing.json()["Message"]
    unknown = api.invoke("direct", "0.7", headers={host: "nope"})
    assert unknown.status_code == 400 and "Container hostname nope not found" in unknown.json()["Message"]


def test_a_container_that_cannot_start_is_named_in_the_failure(api: Api, seed_models: dict[str, Any],
                                                              tmp_path: Path) -> None:
    api.call("POST", "/api/models", {"ModelName": "half", "Containers": [
        {"Image": "sagemaker-scikit-learn", "ModelDataUrl": str(seed_models["pre"])},
        {"Image": "sagemaker-xgboost", "ModelDataUrl": str(tmp_path / "missing-model")}]})
    endpoint_config(api, "half", "half", count=1)
    api.call("POST", "/api/endpoints", {"EndpointName": "half", "EndpointConfigName": "half"})
    described = api.wait_status("half", "Failed", timeout_s=120)
    assert "container container-2 of the pipeline exited (status 3)" in described["FailureReason"], described
    assert "missing-model" in described["FailureReason"]
