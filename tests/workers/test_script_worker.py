"""Script mode: the SageMaker scikit-learn image running the user's inference.py from model.tar.gz."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pytest

from tests.workers.conftest import ECR_SKLEARN, Worker, WorkerFactory, make_tarball

INFERENCE_PY = b"""
import json
import os

import joblib
import numpy as np


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(request_body, request_content_type):
    if request_content_type != "application/json":
        raise ValueError(f"unsupported content type {request_content_type}")
    return np.array(json.loads(request_body)["rows"])


def predict_fn(input_data, model):
    return model.predict_proba(input_data)[:, 1]


def output_fn(prediction, accept):
    return json.dumps({"scores": prediction.tolist(), "accept": accept}), "application/json"
"""


@pytest.fixture(scope="module")
def worker(module_workers: WorkerFactory, tmp_path_factory: pytest.TempPathFactory, logistic_model: Path) -> Worker:
    tarball = make_tarball(
        tmp_path_factory.mktemp("script") / "model.tar.gz",
        {"model.joblib": logistic_model, "code/inference.py": INFERENCE_PY},
    )
    env = {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}
    return module_workers.start(ECR_SKLEARN, tarball, env=env)


def test_the_scripts_handlers_answer(worker: Worker, logistic_model: Path, classification: tuple) -> None:
    rows = classification[0][:3]
    response = worker.invoke(json.dumps({"rows": rows.tolist()}))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert np.allclose(answer["scores"], joblib.load(logistic_model).predict_proba(rows)[:, 1])
    assert answer["accept"] == "application/json"


def test_an_exception_in_input_fn_is_a_500_naming_it(worker: Worker) -> None:
    response = worker.invoke("1,2", "text/csv")
    assert response.status_code == 500
    assert "input_fn in inference.py raised ValueError: unsupported content type text/csv" in response.text
    assert worker.http.get("/ping").status_code == 200
