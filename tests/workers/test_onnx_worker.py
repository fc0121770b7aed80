"""The onnx runtime serving a skl2onnx-converted classifier."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from tests.workers.conftest import Worker, WorkerFactory

pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")


@pytest.fixture(scope="module")
def classifier(classification: tuple[np.ndarray, np.ndarray]) -> LogisticRegression:
    return LogisticRegression(max_iter=1000).fit(*classification)


@pytest.fixture(scope="module")
def worker(
    module_workers: WorkerFactory, tmp_path_factory: pytest.TempPathFactory, classifier: LogisticRegression
) -> Worker:
    from skl2onnx.common.data_types import FloatTensorType

    onnx_model = skl2onnx.convert_sklearn(classifier, initial_types=[("input", FloatTensorType([None, 20]))])
    path: Path = tmp_path_factory.mktemp("onnx") / "model.onnx"
    path.write_bytes(onnx_model.SerializeToString())
    return module_workers.start("greenfleet/onnx", path)


def test_labels_and_probabilities(worker: Worker, classifier: LogisticRegression, classification: tuple) -> None:
    rows = classification[0][:5]
    response = worker.invoke(json.dumps({"instances": rows.tolist()}))
    assert response.status_code == 200
    answer = response.json()
    assert answer["predictions"] == classifier.predict(rows).tolist()
    probabilities = [[row[str(label)] for label in classifier.classes_] for row in answer["probabilities"]]
    assert np.allclose(probabilities, classifier.predict_proba(rows), atol=1e-5)


def test_csv_accept_answers_labels(worker: Worker, classifier: LogisticRegression, classification: tuple) -> None:
    rows = classification[0][:2]
    response = worker.invoke("\n".join(",".join(map(str, row)) for row in rows), "text/csv", accept="text/csv")
    assert response.text.split() == [str(v) for v in classifier.predict(rows)]


def test_wrong_width_is_a_400(worker: Worker) -> None:
    response = worker.invoke("[1.0, 2.0]")
    assert response.status_code == 400
    assert "dimensions" in response.text.lower() or "shape" in response.text.lower()
