"""Real worker processes (``python -m greenfleet.workers``) on free loopback ports, and models to serve."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
ECR_SKLEARN = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
_CONTRACT_PREFIXES = ("GREENFLEET_", "SAGEMAKER_", "SM_")


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    port: int
    model_dir: Path
    failure_file: Path
    log_file: Path
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)

    def invoke(
        self, body: bytes | str, content_type: str = "application/json", accept: str | None = None
    ) -> httpx.Response:
        headers = {"Content-Type": content_type}
        if accept is not None:
            headers["Accept"] = accept
        content = body.encode() if isinstance(body, str) else body
        return self.http.post("/invocations", content=content, headers=headers)

    def failure(self) -> str:
        return self.failure_file.read_text().strip() if self.failure_file.exists() else ""

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"worker exited with {self.process.returncode}: {self.failure()!r}\n{self.log()[-3000:]}"
                )
            try:
                if self.http.get("/ping", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"worker not ready after {timeout_s} s\n{self.log()[-3000:]}")

    def wait_exit(self, timeout_s: float = 60) -> int:
        return self.process.wait(timeout_s)

    def stop(self) -> None:
        self.http.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def worker_env(base: Path, image: str, port: int, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test process's environment without contract variables, plus a worker's contract."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(_CONTRACT_PREFIXES)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(
        {
            "SAGEMAKER_BIND_TO_PORT": str(port),
            "SM_MODEL_DIR": str(base / "model"),
            "GREENFLEET_IMAGE": image,
            "GREENFLEET_FAILURE_FILE": str(base / "failure"),
        }
    )
    env.update(extra or {})
    return env


class WorkerFactory:
    """Starts workers under ``root`` and stops every one of them at teardown."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.workers: list[Worker] = []

    def launch(
        self, image: str, model_data_url: Path | str | None = None, env: Mapping[str, str] | None = None
    ) -> Worker:
        base = self.root / f"worker-{len(self.workers)}"
        base.mkdir(parents=True)
        port = free_port()
        extra = dict(env or {})
        if model_data_url is not None:
            extra["GREENFLEET_MODEL_DATA_URL"] = str(model_data_url)
        log_file = base / "log"
        with log_file.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "greenfleet.workers"],
                env=worker_env(base, image, port, extra),
                cwd=base,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        worker = Worker(process, port, base / "model", base / "failure", log_file)
        self.workers.append(worker)
        return worker

    def start(
        self,
        image: str,
        model_data_url: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        timeout_s: float = 30,
    ) -> Worker:
        """A worker that answers ``GET /ping``."""
        worker = self.launch(image, model_data_url, env)
        worker.wait_ready(timeout_s)
        return worker

    def stop_all(self) -> None:
        for worker in self.workers:
            worker.stop()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[WorkerFactory]:
    factory = WorkerFactory(tmp_path / "workers")
    yield factory
    factory.stop_all()


@pytest.fixture(scope="module")
def module_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerFactory]:
    """For a module whose tests share one worker."""
    factory = WorkerFactory(tmp_path_factory.mktemp("workers"))
    yield factory
    factory.stop_all()


def make_tarball(path: Path, members: Mapping[str, bytes | Path]) -> Path:
    """A ``.tar.gz`` holding ``members`` (archive name -> content or file to add)."""
    with tarfile.open(path, "w:gz") as archive:
        for name, content in members.items():
            if isinstance(content, Path):
                archive.add(content, arcname=name)
            else:
                info = tarfile.TarInfo(name)
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
    return path


@pytest.fixture(scope="session")
def classification() -> tuple[np.ndarray, np.ndarray]:
    """20-feature binary classification data."""
    x, y = make_classification(n_samples=300, n_features=20, random_state=0)
    return x, y


@pytest.fixture(scope="session")
def logistic_model(tmp_path_factory: pytest.TempPathFactory, classification: tuple[np.ndarray, np.ndarray]) -> Path:
    """``model.joblib``: a LogisticRegression on 20 features."""
    x, y = classification
    path = tmp_path_factory.mktemp("sklearn") / "model.joblib"
    joblib.dump(LogisticRegression(max_iter=1000).fit(x, y), path)
    return path
