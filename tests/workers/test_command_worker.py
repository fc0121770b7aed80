"""The command image: after fetching the model data the worker becomes GREENFLEET_COMMAND."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from tests.workers.conftest import WorkerFactory

CONTRACT_SERVER = """
import http.server, json, os

class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, body):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.answer(b"")

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        facts = {
            "files": sorted(os.listdir(os.environ["SM_MODEL_DIR"])),
            "port": os.environ["PORT"],
            "bind": os.environ["SAGEMAKER_BIND_TO_PORT"],
            "pid": os.getpid(),
        }
        self.answer(json.dumps(facts).encode())

port = int(os.environ["SAGEMAKER_BIND_TO_PORT"])
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


def test_the_command_runs_with_the_contract_exported(workers: WorkerFactory, tmp_path: Path) -> None:
    server = tmp_path / "server.py"
    server.write_text(CONTRACT_SERVER)
    data = tmp_path / "weights.bin"
    data.write_bytes(b"\x00" * 16)
    command = f"exec {shlex.quote(sys.executable)} {shlex.quote(str(server))}"
    worker = workers.start("greenfleet/command", data, env={"GREENFLEET_COMMAND": command})
    facts = worker.invoke("{}").json()
    assert facts["files"] == ["weights.bin"]
    assert facts["port"] == facts["bind"] == str(worker.port)
    assert facts["pid"] == worker.process.pid  # exec'd: the instance keeps the worker's pid


def test_the_command_image_without_a_command_fails_precisely(workers: WorkerFactory) -> None:
    worker = workers.launch("greenfleet/command")
    assert worker.wait_exit() == 3
    assert worker.failure() == "Image 'greenfleet/command' runs GREENFLEET_COMMAND, which is not set"


@pytest.mark.slow
@pytest.mark.parallel
def test_mlflow_scoring_server_as_the_instance(workers: WorkerFactory, tmp_path: Path) -> None:
    mlflow_sklearn = pytest.importorskip("mlflow.sklearn")
    x = np.random.default_rng(0).normal(size=(60, 4))
    y = (x[:, 0] > 0).astype(int)
    classifier = LogisticRegression().fit(x, y)
    model_dir = tmp_path / "mlflow-model"
    mlflow_sklearn.save_model(classifier, str(model_dir), pip_requirements=["scikit-learn"])
    command = (
        'exec mlflow models serve -m "$SM_MODEL_DIR" -h 127.0.0.1 -p "$SAGEMAKER_BIND_TO_PORT" --env-manager local'
    )
    worker = workers.start("greenfleet/command", model_dir, env={"GREENFLEET_COMMAND": command}, timeout_s=120)
    body = {"dataframe_split": pd.DataFrame(x[:3]).to_dict(orient="split")}
    body["dataframe_split"].pop("index")
    response = worker.invoke(json.dumps(body))
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": classifier.predict(x[:3]).tolist()}
