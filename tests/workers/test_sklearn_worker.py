"""The sklearn runtime in a real worker process, over real HTTP."""

from __future__ import annotations

import io
import json
from pathlib import Path

import joblib
import numpy as np
import pytest

from tests.workers.conftest import Worker, WorkerFactory


@pytest.fixture(scope="module")
def worker(module_workers: WorkerFactory, logistic_model: Path) -> Worker:
    return module_workers.start("greenfleet/sklearn", logistic_model)


@pytest.fixture(scope="module")
def expected(logistic_model: Path, classification: tuple[np.ndarray, np.ndarray]) -> list[int]:
    return [int(v) for v in joblib.load(logistic_model).predict(classification[0][:3])]


def test_ping_answers_200(worker: Worker) -> None:
    assert worker.http.get("/ping").status_code == 200


def test_json_instances_give_json_predictions(worker: Worker, classification: tuple, expected: list[int]) -> None:
    response = worker.invoke(json.dumps({"instances": classification[0][:3].tolist()}))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"predictions": expected}


def test_one_json_row_is_one_instance(worker: Worker, classification: tuple, expected: list[int]) -> None:
    assert worker.invoke(json.dumps(classification[0][0].tolist())).json() == {"predictions": expected[:1]}


def test_csv_rows_answer_csv_lines(worker: Worker, classification: tuple, expected: list[int]) -> None:
    body = "\n".join(",".join(map(str, row)) for row in classification[0][:3])
    response = worker.invoke(body, "text/csv", accept="text/csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv"
    assert response.text.split() == [str(v) for v in expected]


def test_npy_in_npy_out(worker: Worker, classification: tuple, expected: list[int]) -> None:
    buffer = io.BytesIO()
    np.save(buffer, classification[0][:3])
    response = worker.invoke(buffer.getvalue(), "application/x-npy", accept="application/x-npy")
    assert np.load(io.BytesIO(response.content)).tolist() == expected


def test_jsonlines(worker: Worker, classification: tuple, expected: list[int]) -> None:
    body = "\n".join(json.dumps(row) for row in classification[0][:3].tolist())
    response = worker.invoke(body, "application/jsonlines", accept="application/jsonlines")
    assert [json.loads(line) for line in response.text.splitlines()] == expected


def test_bad_json_is_a_400_and_the_worker_keeps_serving(worker: Worker, classification: tuple) -> None:
    response = worker.invoke("[[1, 2,")
    assert response.status_code == 400
    assert "not valid JSON" in response.text
    assert worker.invoke(json.dumps(classification[0][0].tolist())).status_code == 200


def test_wrong_feature_count_is_a_400_naming_the_counts(worker: Worker) -> None:
    response = worker.invoke("1,2,3", "text/csv")
    assert response.status_code == 400
    assert "3 features" in response.text and "20" in response.text


def test_non_numeric_csv_cell_is_a_400(worker: Worker) -> None:
    response = worker.invoke("1,abc", "text/csv")
    assert response.status_code == 400
    assert "'abc' is not a number" in response.text


def test_unsupported_content_type_is_a_415(worker: Worker) -> None:
    response = worker.invoke(b"\x89PNG", "image/png")
    assert response.status_code == 415
    assert "image/png" in response.text


def test_unsupported_accept_is_a_406(worker: Worker) -> None:
    response = worker.invoke("[" + ",".join(["0.5"] * 20) + "]", accept="image/png")
    assert response.status_code == 406


def test_unknown_path_is_a_404(worker: Worker) -> None:
    assert worker.http.get("/models").status_code == 404
