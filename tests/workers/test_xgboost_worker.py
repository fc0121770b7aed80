"""The xgboost runtime, fed like the SageMaker built-in XGBoost algorithm: model.tar.gz + header-less CSV."""

from __future__ import annotations

import json
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest

from tests.workers.conftest import Worker, WorkerFactory, make_tarball

xgboost = pytest.importorskip("xgboost")


@pytest.fixture(scope="module")
def booster(tmp_path_factory: pytest.TempPathFactory, classification: tuple[np.ndarray, np.ndarray]) -> tuple:
    x, y = classification
    model = xgboost.train({"objective": "binary:logistic", "max_depth": 3}, xgboost.DMatrix(x, label=y), 10)
    root = tmp_path_factory.mktemp("xgboost")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Saving model in the UBJSON format as default"
        model.save_model(root / "xgboost-model")
    return model, make_tarball(root / "model.tar.gz", {"xgboost-model": root / "xgboost-model"})


@pytest.fixture(scope="module")
def worker(module_workers: WorkerFactory, booster: tuple) -> Worker:
    return module_workers.start("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1", booster[1])


def test_csv_rows_answer_one_score_per_line(worker: Worker, booster: tuple, classification: tuple) -> None:
    rows = classification[0][:4]
    response = worker.invoke("\n".join(",".join(map(str, row)) for row in rows), "text/csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv"
    scores = [float(line) for line in response.text.splitlines()]
    expected = booster[0].inplace_predict(rows)
    assert np.allclose(scores, expected, atol=1e-6)


def test_json_accept_answers_scores(worker: Worker, classification: tuple) -> None:
    row = ",".join(map(str, classification[0][0]))
    response = worker.invoke(row, "text/csv", accept="application/json")
    predictions = response.json()["predictions"]
    assert len(predictions) == 1 and 0.0 <= predictions[0]["score"] <= 1.0


def test_empty_csv_cell_is_a_missing_value(worker: Worker, classification: tuple) -> None:
    cells = [str(v) for v in classification[0][0]]
    cells[3] = ""
    assert worker.invoke(",".join(cells), "text/csv").status_code == 200


def test_wrong_feature_count_is_a_400(worker: Worker) -> None:
    response = worker.invoke("1,2,3", "text/csv")
    assert response.status_code == 400
    assert "expected: 20" in response.text or "20" in response.text


def test_json_request(worker: Worker, classification: tuple) -> None:
    response = worker.invoke(json.dumps({"instances": classification[0][:2].tolist()}))
    assert response.status_code == 200
    assert len(response.json()["predictions"]) == 2


@pytest.mark.parametrize("form", ["json", "pickled-booster", "pickled-classifier"])
def test_xgboost_model_in_other_forms(tmp_path: Path, form: str, classification: tuple) -> None:
    from greenfleet.workers.runtimes.xgboost import XGBoostRuntime

    x, y = classification
    if form == "pickled-classifier":
        model = xgboost.XGBClassifier(n_estimators=5, max_depth=2).fit(x, y)
        booster = model.get_booster()
        (tmp_path / "xgboost-model").write_bytes(pickle.dumps(model))
    else:
        booster = xgboost.train({"objective": "binary:logistic"}, xgboost.DMatrix(x, label=y), 5)
        if form == "json":
            booster.save_model(tmp_path / "model.json")
            (tmp_path / "model.json").rename(tmp_path / "xgboost-model")
        else:
            (tmp_path / "xgboost-model").write_bytes(pickle.dumps(booster))
    runtime = XGBoostRuntime(xgboost)
    runtime.load(tmp_path)
    body, media = runtime.invoke(",".join(map(str, x[0])).encode(), "text/csv", "")
    assert media == "text/csv"
    assert np.isclose(float(body), booster.inplace_predict(x[:1])[0], atol=1e-6)


def test_missing_model_file_is_a_startup_error(tmp_path: Path) -> None:
    from greenfleet.workers.errors import StartupError
    from greenfleet.workers.runtimes.xgboost import XGBoostRuntime

    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(StartupError, match=r"no XGBoost model in SM_MODEL_DIR: expected xgboost-model.*notes\.txt"):
        XGBoostRuntime(xgboost).load(tmp_path)


def test_the_booster_predicts_on_one_thread_unless_omp_num_threads_says_otherwise(
        tmp_path: Path, classification: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    from greenfleet.workers.runtimes.xgboost import XGBoostRuntime, prediction_threads

    x, y = classification
    xgboost.train({"objective": "binary:logistic"}, xgboost.DMatrix(x, label=y), 3).save_model(tmp_path / "m.json")
    (tmp_path / "m.json").rename(tmp_path / "xgboost-model")

    def nthread() -> str:
        runtime = XGBoostRuntime(xgboost)
        runtime.load(tmp_path)
        return str(json.loads(runtime._booster.save_config())["learner"]["generic_param"]["nthread"])

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert nthread() == "1"
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert nthread() == "2"
    assert [prediction_threads(v) for v in (None, "0", "-3", "x", "4")] == [1, 1, 1, 1, 4]


def test_a_large_csv_body_is_streamed_with_the_whole_body_answer(module_workers: WorkerFactory, booster: tuple,
                                                                 classification: tuple) -> None:
    streaming = module_workers.start("greenfleet/xgboost", booster[1], env={
        "GREENFLEET_WORKER_STREAM_CHUNK_ROWS": "500", "GREENFLEET_WORKER_MAX_BODY_BYTES": "100000"})
    rows = np.tile(classification[0], (10, 1))  # 3,000 rows, ~1.2 MB: streamed past the 100 KB maximum
    body = "".join(",".join(repr(float(v)) for v in row) + "\n" for row in rows).encode()
    chunks = (body[i:i + 65_536] for i in range(0, len(body), 65_536))
    answer = streaming.http.post("/invocations", content=chunks,
                                 headers={"Content-Type": "text/csv", "Accept": "application/json"})
    assert answer.status_code == 200, answer.text
    expected = booster[0].inplace_predict(rows).tolist()
    assert answer.json() == {"predictions": [{"score": score} for score in expected]}
    as_csv = streaming.http.post("/invocations", content=body, headers={"Content-Type": "text/csv"})
    assert np.allclose([float(line) for line in as_csv.text.splitlines()], expected, rtol=0, atol=1e-7)
