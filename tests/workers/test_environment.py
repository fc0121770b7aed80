"""The environment contract: what the control plane builds is what the worker reads."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from greenfleet.settings import Settings
from greenfleet.workers import WorkerEnvironment, read_failure_reason, worker_argv, worker_environ
from greenfleet.workers.failure import write_failure


def test_worker_environ_round_trips(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = Settings(artifact_max_bytes=1234, s3_endpoint_url="http://127.0.0.1:9000", worker_orphan_grace_s=7,
                        worker_max_body_bytes=4321, worker_stream_chunk_rows=99)
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
    assert (env.max_body_bytes, env.stream_chunk_rows) == (4321, 99)


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGEMAKER_BIND_TO_PORT", "8080")
    monkeypatch.setenv("SM_MODEL_DIR", "/opt/ml/model")
    monkeypatch.setenv("GREENFLEET_IMAGE", "greenfleet/sklearn")
    monkeypatch.setenv("GREENFLEET_MODEL_DATA_URL", "")
    env = WorkerEnvironment.from_environ()
    assert env.artifact_max_bytes == 4 * 1024**3
    assert env.orphan_grace_s == 60
    assert env.model_data_url is None
    assert (env.max_body_bytes, env.stream_chunk_rows) == (64 * 1024**2, 10_000)


def test_the_backends_contract_passes_the_body_limits_and_bad_ones_are_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from greenfleet.instances.contract import WorkerContract
    from greenfleet.workers.environment import InvalidEnvironment

    environ = WorkerContract(max_body_bytes=1000, stream_chunk_rows=5).environment({"Image": "greenfleet/sklearn"},
                                                                                   "token", server={})
    contract = {**environ, "SAGEMAKER_BIND_TO_PORT": "8080", "SM_MODEL_DIR": "/opt/ml/model"}
    env = WorkerEnvironment.from_environ(contract)
    assert (env.max_body_bytes, env.stream_chunk_rows) == (1000, 5)
    with pytest.raises(InvalidEnvironment, match="GREENFLEET_WORKER_STREAM_CHUNK_ROWS: Input should be greater"):
        WorkerEnvironment.from_environ({**contract, "GREENFLEET_WORKER_STREAM_CHUNK_ROWS": "0"})
    with pytest.raises(InvalidEnvironment, match="GREENFLEET_WORKER_MAX_BODY_BYTES"):
        WorkerEnvironment.from_environ({**contract, "GREENFLEET_WORKER_MAX_BODY_BYTES": "lots"})


def test_a_pipeline_members_lane_socket_must_be_an_absolute_path_a_socket_can_bind() -> None:
    from greenfleet.workers.environment import LANE_SOCKET, InvalidEnvironment

    contract = {"SAGEMAKER_BIND_TO_PORT": "8080", "SM_MODEL_DIR": "/opt/ml/model",
                "GREENFLEET_IMAGE": "greenfleet/script"}
    assert WorkerEnvironment.from_environ(contract).lane_socket is None
    assert WorkerEnvironment.from_environ({**contract, LANE_SOCKET: "/run/c1/lane.sock"}).lane_socket == Path(
        "/run/c1/lane.sock")
    with pytest.raises(InvalidEnvironment, match="GREENFLEET_LANE_SOCKET: Input should be an absolute path"):
        WorkerEnvironment.from_environ({**contract, LANE_SOCKET: "lane.sock"})
    with pytest.raises(InvalidEnvironment, match="GREENFLEET_LANE_SOCKET: Input should be a path of at most 107"):
        WorkerEnvironment.from_environ({**contract, LANE_SOCKET: "/" + "d" * 100 + "/lane.sock"})


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
