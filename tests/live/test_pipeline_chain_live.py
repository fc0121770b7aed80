"""Live: a Serial pipeline whose containers all run built-in runtimes is chained inside its instance's one
process (greenfleet/workers/chain.py): no member processes, the same answers, per-container latency, the
failing container named, and SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT choosing what an intermediate container
answers in (so that the next one can read it). A pipeline with user code keeps one process per container."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from tests.live.conftest import Api

pytestmark = pytest.mark.slow
IDENTITY = "def model_fn(model_dir):\n    return None\n\n\ndef transform_fn(model, body, content_type, accept):\n" \
           "    return body, content_type\n"


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _models(root: Path) -> dict[str, Any]:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(200, 4))
    classifier = LogisticRegression().fit(x, (x[:, 0] + x[:, 1] > 0).astype(int))
    ones = np.array([[0.0], [1.0], [2.0]])
    double = LinearRegression().fit(ones, 2 * ones[:, 0] + 1)  # y = 2x + 1
    paths = {}
    for name, model in (("classify", classifier), ("double", double)):
        (root / name).mkdir()
        joblib.dump(model, root / name / "model.joblib")
        paths[name] = root / name
    (root / "identity" / "code").mkdir(parents=True)
    (root / "identity" / "code" / "inference.py").write_text(IDENTITY)
    paths["identity"] = root / "identity"
    return {"x": x, "classifier": classifier, **paths}


def _deploy(api: Api, name: str, containers: list[dict[str, Any]]) -> dict[str, Any]:
    api.call("POST", "/api/models", {"ModelName": name, "Containers": containers})
    api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": name, "ProductionVariants": [
        {"VariantName": "main", "ModelName": name, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}]})
    api.call("POST", "/api/endpoints", {"EndpointName": name, "EndpointConfigName": name})
    return api.wait_status(name, "InService", timeout_s=120)


def test_a_built_in_chain_runs_in_one_process_with_the_same_contract(api: Api, tmp_path: Path) -> None:
    models = _models(tmp_path)
    csv_out = {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"}
    _deploy(api, "chain", [
        {"ContainerHostname": "classify", "Image": "greenfleet/sklearn", "ModelDataUrl": str(models["classify"]),
         "Environment": csv_out},
        {"ContainerHostname": "double", "Image": "greenfleet/sklearn", "ModelDataUrl": str(models["double"]),
         "Environment": csv_out},
        {"ContainerHostname": "again", "Image": "greenfleet/sklearn", "ModelDataUrl": str(models["double"])}])
    (instance,) = api.call("GET", "/api/endpoints/chain/instances")["Instances"]
    assert _children(instance["Pid"]) == []  # no member process: the three run inside the supervisor
    x, classifier = models["x"], models["classifier"]
    for index in range(10):
        row = ",".join(f"{v:.6f}" for v in x[index])
        response = api.invoke("chain", row, headers={"Content-Type": "text/csv", "Accept": "application/json"})
        assert response.status_code == 200, response.text
        label = int(classifier.predict(x[index:index + 1])[0])
        assert response.json()["predictions"] == [pytest.approx(2 * (2 * label + 1) + 1)]
    # the caller's Accept reaches the last container; the intermediate ones answered in CSV, as set
    row = ",".join(f"{v:.6f}" for v in x[0])
    as_csv = api.invoke("chain", row, headers={"Content-Type": "text/csv", "Accept": "text/csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    # a container's error names it
    broken = api.invoke("chain", "not,a,number", headers={"Content-Type": "text/csv"})
    assert broken.status_code == 424 and broken.headers["x-amzn-errortype"] == "ModelError"
    assert "from classify" in broken.json()["Message"]
    deadline = time.monotonic() + 10  # ContainerLatency per container, as with the HTTP chain
    while time.monotonic() < deadline:
        containers = {d["Value"] for m in api.call("GET", "/api/metric-series")["Metrics"]
                      if m["MetricName"] == "ContainerLatency" for d in m["Dimensions"] if d["Name"] == "ContainerName"}
        if containers == {"classify", "double", "again"}:
            break
        time.sleep(0.2)
    assert containers == {"classify", "double", "again"}


def test_a_chain_with_user_code_keeps_a_process_per_container(api: Api, tmp_path: Path) -> None:
    models = _models(tmp_path)
    _deploy(api, "mixed", [
        {"Image": "greenfleet/sklearn", "ModelDataUrl": str(models["classify"]),
         "Environment": {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"}},
        {"Image": "greenfleet/script", "ModelDataUrl": str(models["identity"])}])
    (instance,) = api.call("GET", "/api/endpoints/mixed/instances")["Instances"]
    assert len(_children(instance["Pid"])) == 2
    row = ",".join(f"{v:.6f}" for v in models["x"][0])
    response = api.invoke("mixed", row, headers={"Content-Type": "text/csv"})
    assert response.status_code == 200 and response.text.strip() in ("0", "1")
