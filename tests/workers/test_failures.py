"""A worker that cannot serve exits with status 3 and says exactly why in its failure file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from greenfleet.workers.errors import MissingDependency
from greenfleet.workers.extras import require_extra, require_package
from tests.conftest import free_port
from tests.workers.conftest import ECR_SKLEARN, WorkerFactory, make_tarball, worker_env


def test_a_traversing_archive_fails_the_worker(workers: WorkerFactory, tmp_path: Path) -> None:
    tarball = make_tarball(tmp_path / "model.tar.gz", {"../evil": b"x"})
    worker = workers.launch("greenfleet/sklearn", tarball)
    assert worker.wait_exit() == 3
    assert worker.failure() == f"ModelDataUrl {tarball}: archive member '../evil' escapes the model directory"
    assert not (worker.model_dir.parent / "evil").exists()


def test_a_non_gzip_archive_fails_the_worker(workers: WorkerFactory, tmp_path: Path) -> None:
    tarball = tmp_path / "model.tar.gz"
    tarball.write_bytes(b"this is not gzip")
    worker = workers.launch(ECR_SKLEARN, tarball)
    assert worker.wait_exit() == 3
    assert worker.failure() == f"ModelDataUrl {tarball}: archive is not gzip-compressed (expected a .tar.gz)"


def test_an_unknown_image_lists_the_known_ones(workers: WorkerFactory) -> None:
    worker = workers.launch("registry.example:5000/team/tensorrt-llm:0.9")
    assert worker.wait_exit() == 3
    assert worker.failure().startswith(
        "Image 'registry.example:5000/team/tensorrt-llm:0.9' has no runtime; known images:"
    )
    assert "greenfleet/sklearn" in worker.failure()


def test_a_model_dir_without_a_model_names_what_it_found(workers: WorkerFactory, tmp_path: Path) -> None:
    tarball = make_tarball(tmp_path / "model.tar.gz", {"README.md": b"hi"})
    worker = workers.launch("greenfleet/sklearn", tarball)
    assert worker.wait_exit() == 3
    assert "no scikit-learn model in SM_MODEL_DIR" in worker.failure()
    assert "README.md" in worker.failure()


def test_an_invalid_environment_is_reported_too(tmp_path: Path) -> None:
    env = worker_env(tmp_path, "greenfleet/sklearn", free_port())
    env["SAGEMAKER_BIND_TO_PORT"] = "not-a-port"
    result = subprocess.run([sys.executable, "-m", "greenfleet.workers"], env=env, capture_output=True, timeout=60)
    assert result.returncode == 3
    reason = (tmp_path / "failure").read_text()
    assert reason.startswith("the worker's environment is invalid: SAGEMAKER_BIND_TO_PORT")


def test_a_missing_optional_extra_names_the_extra() -> None:
    with pytest.raises(MissingDependency) as caught:
        require_extra("greenfleet_test_absent_module", "xgboost", "sagemaker-xgboost:1.7-1")
    assert caught.value.message.startswith(
        "Image 'sagemaker-xgboost:1.7-1' needs the optional extra: pip install 'greenfleet[xgboost]'"
    )


def test_a_missing_framework_names_the_package() -> None:
    with pytest.raises(MissingDependency, match="needs the Python package 'greenfleet_test_torch'"):
        require_package("greenfleet_test_torch", "pytorch-inference:2.1-cpu")


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None


def _gone(pid: int) -> bool:
    return _state(pid) in (None, "Z", "X")


LAUNCHER = """
import subprocess, sys, time, urllib.request
child = subprocess.Popen([sys.executable, "-m", "greenfleet.workers"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        urllib.request.urlopen(sys.argv[1], timeout=1)
        break
    except OSError:
        time.sleep(0.05)
print(child.pid)
"""


def test_an_orphan_lives_while_health_checked_and_exits_when_not(tmp_path: Path, logistic_model: Path) -> None:
    port = free_port()
    env = worker_env(tmp_path, "greenfleet/sklearn", port, {"GREENFLEET_MODEL_DATA_URL": str(logistic_model)})
    env["GREENFLEET_ORPHAN_GRACE_S"] = "1.5"
    ping = f"http://127.0.0.1:{port}/ping"
    launched = subprocess.run([sys.executable, "-c", LAUNCHER, ping], env=env, capture_output=True, timeout=90)
    pid = int(launched.stdout)  # the launcher (the worker's parent) has exited
    try:
        until = time.monotonic() + 2.5
        while time.monotonic() < until:  # an adopting control plane keeps health-checking it
            assert httpx.get(ping, timeout=2).status_code == 200
            time.sleep(0.2)
        assert not _gone(pid)
        deadline = time.monotonic() + 15
        while not _gone(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _gone(pid), "the orphan did not exit once the health checks stopped"
    finally:
        if not _gone(pid):
            os.kill(pid, signal.SIGKILL)
