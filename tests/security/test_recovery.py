"""Script runtimes serve SAGEMAKER_MODEL_SERVER_WORKERS calls at once, and a call past the invocation
timeout does not block the next one (issue 19 item 11)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx

from tests.workers.conftest import WorkerFactory, make_tarball

SLOW_PY = b"""
import time


def model_fn(model_dir):
    return None


def input_fn(request_body, request_content_type):
    return float(request_body)


def predict_fn(seconds, model):
    time.sleep(seconds)
    return seconds


def output_fn(prediction, accept):
    return str(prediction), "text/plain"
"""


def start(workers: WorkerFactory, tmp_path: Path, **env: str) -> tuple[str, float]:
    tarball = make_tarball(tmp_path / f"slow-{len(workers.workers)}.tar.gz", {"code/inference.py": SLOW_PY})
    worker = workers.start("greenfleet/script", tarball, env={"SAGEMAKER_PROGRAM": "inference.py", **env})
    return f"http://127.0.0.1:{worker.port}/invocations", time.monotonic()


def call(url: str, seconds: float) -> httpx.Response:
    return httpx.post(url, content=str(seconds).encode(), headers={"Content-Type": "text/plain"}, timeout=30)


def test_model_server_workers_run_calls_side_by_side(workers: WorkerFactory, tmp_path: Path) -> None:
    url, _ = start(workers, tmp_path, SAGEMAKER_MODEL_SERVER_WORKERS="3")
    answers: list[httpx.Response] = []
    threads = [threading.Thread(target=lambda: answers.append(call(url, 1.0))) for _ in range(3)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert time.monotonic() - started < 2.5  # side by side, not 3 s one after another


def test_a_timed_out_call_does_not_block_the_next_one(workers: WorkerFactory, tmp_path: Path) -> None:
    url, _ = start(workers, tmp_path, GREENFLEET_INVOCATION_TIMEOUT_S="0.5")
    stuck: list[httpx.Response] = []
    slow = threading.Thread(target=lambda: stuck.append(call(url, 20.0)))
    slow.start()
    time.sleep(0.2)
    started = time.monotonic()
    quick = call(url, 0.01)
    assert quick.status_code == 200 and quick.text == "0.01"
    assert time.monotonic() - started < 2.0
    slow.join()
    assert stuck[0].status_code == 504 and "did not answer within 0.5 s" in stuck[0].text
