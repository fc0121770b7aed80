"""The mlflow runtime: an ``mlflow.sklearn.save_model`` directory, MLflow's scoring protocol."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from tests.workers.conftest import Worker, WorkerFactory

mlflow = pytest.importorskip("mlflow")

COLUMNS = [f"f{i}" for i in range(20)]


@pytest.fixture(scope="module")
def classifier(classification: tuple[np.ndarray, np.ndarray]) -> LogisticRegression:
    return LogisticRegression(max_iter=1000).fit(*classification)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory, classifier: LogisticRegression, classification: tuple) -> Path:
    import mlflow.sklearn
    from mlflow.models import infer_signature

    frame = pd.DataFrame(classification[0][:10], columns=COLUMNS)
    path = tmp_path_factory.mktemp("mlflow") / "model"
    signature = infer_signature(frame, classifier.predict(frame.to_numpy()))
    # Naming the requirements spares save_model a slow subprocess that infers them.
    mlflow.sklearn.save_model(classifier, str(path), signature=signature, pip_requirements=["scikit-learn"])
    return path


@pytest.fixture(scope="module")
def worker(module_workers: WorkerFactory, model_dir: Path) -> Worker:
    return module_workers.start("greenfleet/mlflow", model_dir, timeout_s=60)


def test_dataframe_split(worker: Worker, classifier: LogisticRegression, classification: tuple) -> None:
    rows = classification[0][:3]
    body = {"dataframe_split": {"columns": COLUMNS, "data": rows.tolist()}}
    response = worker.invoke(json.dumps(body))
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": classifier.predict(rows).tolist()}


def test_dataframe_records(worker: Worker, classifier: LogisticRegression, classification: tuple) -> None:
    rows = classification[0][:2]
    records = [dict(zip(COLUMNS, row, strict=True)) for row in rows.tolist()]
    response = worker.invoke(json.dumps({"dataframe_records": records}))
    assert response.json() == {"predictions": classifier.predict(rows).tolist()}


def test_inputs(worker: Worker, classifier: LogisticRegression, classification: tuple) -> None:
    rows = classification[0][:2]
    records = [dict(zip(COLUMNS, row, strict=True)) for row in rows.tolist()]
    response = worker.invoke(json.dumps({"inputs": records}))
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": classifier.predict(rows).tolist()}


def test_csv_with_header(worker: Worker, classifier: LogisticRegression, classification: tuple) -> None:
    rows = classification[0][:3]
    body = pd.DataFrame(rows, columns=COLUMNS).to_csv(index=False)
    response = worker.invoke(body, "text/csv")
    assert response.json() == {"predictions": classifier.predict(rows).tolist()}


def test_unknown_format_key_is_a_400(worker: Worker) -> None:
    response = worker.invoke(json.dumps({"rows": [[1, 2]]}))
    assert response.status_code == 400
    assert "dataframe_split" in response.text


def test_missing_column_is_a_400(worker: Worker) -> None:
    response = worker.invoke(json.dumps({"dataframe_split": {"columns": ["f0"], "data": [[1.0]]}}))
    assert response.status_code == 400
