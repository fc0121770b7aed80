"""The environment contract: what the control plane builds is what the worker reads."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from greenfleet.settings import Settings
from greenfleet.workers import WorkerEnvironment, read_failure_reason, worker_argv, worker_environ
from greenfleet.workers.failure import write_failure


def test_worker_environ_round_trips(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = Settings(artifact_max_bytes=1234, s3_endpoint_url="http://127.0.0.1:9000", worker_orphan_grace_s=7)
    environ = worker_environ(
        settings,
        port=8123,
        model_dir=tmp_path / "model",
        image="greenfleet/sklearn",
        failure_file=tmp_path / "failure",
        model_data_url="s3://bucket/model.tar.gz",
        container_environment={"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_BIND_TO_PORT": "1"},
    )
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    env = WorkerEnvironment.from_environ()
    assert env.port == 8123
    assert env.model_dir == tmp_path / "model"
    assert env.model_data_url == "s3://bucket/model.tar.gz"
    assert env.artifact_max_bytes == 1234
    assert env.s3_endpoint_url == "http://127.0.0.1:9000"
    assert env.orphan_grace_s == 7
    assert env.program == "inference.py"
    assert env.failure_file == tmp_path / "failure"


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGEMAKER_BIND_TO_PORT", "8080")
    monkeypatch.setenv("SM_MODEL_DIR", "/opt/ml/model")
    monkeypatch.setenv("GREENFLEET_IMAGE", "greenfleet/sklearn")
    monkeypatch.setenv("GREENFLEET_MODEL_DATA_URL", "")
    env = WorkerEnvironment.from_environ()
    assert env.artifact_max_bytes == 4 * 1024**3
    assert env.orphan_grace_s == 60
    assert env.model_data_url is None


def test_command_environ_exports_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGEMAKER_BIND_TO_PORT", "8080")
    monkeypatch.setenv("SM_MODEL_DIR", "/models/a")
    monkeypatch.setenv("GREENFLEET_IMAGE", "greenfleet/command")
    environ = WorkerEnvironment.from_environ().command_environ()
    assert environ["PORT"] == environ["SAGEMAKER_BIND_TO_PORT"] == "8080"
    assert environ["SM_MODEL_DIR"] == "/models/a"


def test_worker_argv() -> None:
    assert worker_argv(Settings()) == [sys.executable, "-m", "greenfleet.workers"]
    assert worker_argv(Settings(worker_python="/opt/py/bin/python"))[0] == "/opt/py/bin/python"


def test_failure_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "instance" / "failure"
    assert read_failure_reason(path) is None
    assert write_failure(path, "ModelDataUrl x:\n  broken " + "y" * 2000) == 3
    reason = read_failure_reason(path)
    assert reason is not None and reason.startswith("ModelDataUrl x: broken yyy") and len(reason) == 1024
