"""Large row-oriented bodies through a real scikit-learn worker process: read and predicted in chunks, the
answer equal to the whole-body answer; bodies read whole are refused past the maximum with a 413."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import joblib
import numpy as np
import pytest

from tests.workers.conftest import Worker, WorkerFactory

CHUNK_ROWS = 700  # small, so that a ~9 MB body has many chunks
MAX_BODY = 200_000


@pytest.fixture(scope="module")
def worker(module_workers: WorkerFactory, logistic_model: Path) -> Worker:
    return module_workers.start("greenfleet/sklearn", logistic_model, env={
        "GREENFLEET_WORKER_STREAM_CHUNK_ROWS": str(CHUNK_ROWS), "GREENFLEET_WORKER_MAX_BODY_BYTES": str(MAX_BODY)})


@pytest.fixture(scope="module")
def rows(classification: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    x, _ = classification
    return np.tile(x, (80, 1))  # 24,000 rows of 20 features, ~9.5 MB of CSV: past the 8 MiB streaming threshold


def pieces(data: bytes, size: int = 65_536) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


def csv_body(rows: np.ndarray) -> bytes:
    return "".join(",".join(repr(float(v)) for v in row) + "\r\n" for row in rows).encode()


def test_a_large_csv_body_is_streamed_and_answered_row_for_row(worker: Worker, rows: np.ndarray,
                                                               logistic_model: Path) -> None:
    expected = joblib.load(logistic_model).predict(rows).tolist()
    body = csv_body(rows)
    assert len(body) > 8 * 1024 * 1024
    answer = worker.http.post("/invocations", content=pieces(body), headers={"Content-Type": "text/csv"})
    assert answer.status_code == 200, answer.text
    assert json.loads(answer.content) == {"predictions": expected}
    as_csv = worker.http.post("/invocations", content=pieces(body[:-2]),  # the last row without its newline
                              headers={"Content-Type": "text/csv", "Accept": "text/csv"})
    assert [int(line) for line in as_csv.text.splitlines()] == expected


def test_a_large_jsonlines_body_is_streamed(worker: Worker, rows: np.ndarray, logistic_model: Path) -> None:
    expected = joblib.load(logistic_model).predict(rows).tolist()
    body = "".join(json.dumps({"features": row.tolist()}) + "\n" for row in rows).encode()
    answer = worker.http.post("/invocations", content=pieces(body),
                              headers={"Content-Type": "application/jsonlines", "Accept": "application/jsonlines"})
    assert answer.status_code == 200, answer.text
    assert [json.loads(line) for line in answer.text.splitlines()] == expected


def test_a_bad_row_deep_in_the_body_is_a_400_naming_its_line(worker: Worker, rows: np.ndarray) -> None:
    body = csv_body(rows[:23_000]) + b"1,2,x\n" + csv_body(rows[:900])
    answer = worker.http.post("/invocations", content=pieces(body), headers={"Content-Type": "text/csv"})
    assert answer.status_code == 400
    assert "23001" in answer.text
    assert worker.invoke(csv_body(rows[:2]), "text/csv").status_code == 200  # and it keeps serving


def test_a_body_read_whole_is_refused_past_the_maximum_with_413(worker: Worker, rows: np.ndarray) -> None:
    document = json.dumps({"instances": rows[:2000].tolist()}).encode()
    assert len(document) > MAX_BODY
    refused = worker.http.post("/invocations", content=pieces(document), headers={"Content-Type": "application/json"})
    assert refused.status_code == 413
    assert "GREENFLEET_WORKER_MAX_BODY_BYTES" in refused.text and str(MAX_BODY) in refused.text
    in_one_piece = worker.invoke(document, "application/json")
    assert in_one_piece.status_code == 413
    npy_answer = worker.http.post("/invocations", content=pieces(csv_body(rows[:2000])),
                                  headers={"Content-Type": "text/csv", "Accept": "application/x-npy"})
    assert npy_answer.status_code == 413  # an .npy answer cannot be written in pieces: the body is read whole
    small = worker.invoke(json.dumps({"instances": rows[:3].tolist()}), "application/json")
    assert small.status_code == 200 and len(small.json()["predictions"]) == 3


def test_a_streamed_row_longer_than_the_maximum_is_a_413(worker: Worker) -> None:
    row = b",".join([b"1.5"] * 150_000) + b"\n"  # one row of 600 KB, over the 200 KB maximum
    refused = worker.http.post("/invocations", content=pieces(row * 2), headers={"Content-Type": "text/csv"})
    assert refused.status_code == 413 and "a row of the request body is longer" in refused.text
