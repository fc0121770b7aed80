"""Live fixtures: a real greenfleet server (in-process or as its own OS process) on a loopback port,
real worker processes, real models trained here."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from greenfleet.server import Server
from greenfleet.settings import Settings
from tests.conftest import free_port

FAST = {"reconcile_interval_s": 0.1, "health_check_interval_s": 0.2, "instance_restart_backoff_s": 0.2,
        "startup_health_check_timeout_s": 30.0, "drain_timeout_s": 5.0, "worker_orphan_grace_s": 30.0,
        "strict_deployment_minimums": False, "model_data_roots": tempfile.gettempdir()}
"""Short durations; model data may come from the test's temporary directories."""


@pytest.fixture(scope="session")
def features() -> np.ndarray:
    x, _ = make_classification(n_samples=200, n_features=20, random_state=0)
    return x


@pytest.fixture(scope="session")
def sklearn_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model.tar.gz holding a LogisticRegression as model.joblib."""
    x, y = make_classification(n_samples=1000, n_features=20, random_state=0)
    root = tmp_path_factory.mktemp("sklearn-model")
    joblib.dump(LogisticRegression(max_iter=1000, random_state=0).fit(x, y), root / "model.joblib")
    archive = root / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root / "model.joblib", arcname="model.joblib")
    return archive


class Api:
    """A thin test client for the native REST API (the real client is tested on its own)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=30)

    def call(self, method: str, path: str, body: Any = None, expect: int | None = None) -> Any:
        response = self.http.request(method, path, json=body)
        if expect is not None:
            assert response.status_code == expect, response.text
        elif response.status_code >= 400:
            raise AssertionError(f"{method} {path} -> {response.status_code}: {response.text}")
        return response.json()

    def wait_status(self, name: str, wanted: str, timeout_s: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        described: dict[str, Any] = {}
        while time.monotonic() < deadline:
            described = self.call("GET", f"/api/endpoints/{name}")
            if described["EndpointStatus"] == wanted:
                return described
            if described["EndpointStatus"] == "Failed" and wanted != "Failed":
                raise AssertionError(f"endpoint failed: {described.get('FailureReason')}")
            time.sleep(0.1)
        raise AssertionError(f"{name} not {wanted} after {timeout_s}s: {described}")

    def invoke(self, name: str, body: bytes | str, content_type: str = "text/csv",
               headers: dict[str, str] | None = None) -> httpx.Response:
        return self.http.post(f"/endpoints/{name}/invocations", content=body,
                              headers={"Content-Type": content_type, **(headers or {})})

    def deploy(self, endpoint: str, model_url: Path, variants: dict[str, tuple[float, int]],
               image: str = "greenfleet/sklearn", config: str | None = None) -> dict[str, Any]:
        config = config or f"{endpoint}-config"
        for variant in variants:
            self.call("POST", "/api/models", {"ModelName": f"{endpoint}-{variant}",
                                              "PrimaryContainer": {"Image": image, "ModelDataUrl": str(model_url)}})
        self.call("POST", "/api/endpoint-configs", {"EndpointConfigName": config, "ProductionVariants": [
            {"VariantName": v, "ModelName": f"{endpoint}-{v}", "InitialInstanceCount": count,
             "InstanceType": "ml.m5.large", "InitialVariantWeight": weight}
            for v, (weight, count) in variants.items()]})
        self.call("POST", "/api/endpoints", {"EndpointName": endpoint, "EndpointConfigName": config})
        return self.wait_status(endpoint, "InService")

    def deploy_capturing(self, endpoint: str, model_url: Path, destination: str) -> dict[str, Any]:
        """One instance of one scikit-learn model, every request and answer captured to ``destination``."""
        self.call("POST", "/api/models", {"ModelName": endpoint, "PrimaryContainer": {
            "Image": "greenfleet/sklearn", "ModelDataUrl": str(model_url)}})
        self.call("POST", "/api/endpoint-configs", {"EndpointConfigName": endpoint, "ProductionVariants": [
            {"VariantName": "main", "ModelName": endpoint, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
            "DataCaptureConfig": {"InitialSamplingPercentage": 100, "DestinationS3Uri": destination,
                                  "CaptureOptions": [{"CaptureMode": "InputAndOutput"}]}})
        self.call("POST", "/api/endpoints", {"EndpointName": endpoint, "EndpointConfigName": endpoint})
        return self.wait_status(endpoint, "InService")

    def deploy_async(self, endpoint: str, model_url: Path, image: str, output_uri: str) -> dict[str, Any]:
        """One instance of one model behind an asynchronous endpoint whose outputs go to ``output_uri``."""
        self.call("POST", "/api/models", {"ModelName": endpoint, "PrimaryContainer": {
            "Image": image, "ModelDataUrl": str(model_url)}})
        self.call("POST", "/api/endpoint-configs", {"EndpointConfigName": endpoint, "ProductionVariants": [
            {"VariantName": "main", "ModelName": endpoint, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
            "AsyncInferenceConfig": {"OutputConfig": {"S3OutputPath": output_uri}}})
        self.call("POST", "/api/endpoints", {"EndpointName": endpoint, "EndpointConfigName": endpoint})
        return self.wait_status(endpoint, "InService")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    settings = Settings(home=tmp_path / "home", port=free_port(), **FAST)
    instance = Server(settings)
    instance.start_in_thread()
    yield instance
    instance.stop_thread()


@pytest.fixture
def api(server: Server) -> Iterator[Api]:
    client = Api(server.settings.base_url)
    yield client
    client.http.close()


class ServerProcess:
    """``greenfleet server`` as its own OS process, for crash and restart tests."""

    def __init__(self, home: Path, port: int, extra_env: dict[str, str] | None = None) -> None:
        self.home, self.port = home, port
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "GREENFLEET_HOME": str(self.home), "GREENFLEET_PORT": str(self.port),
               **{f"GREENFLEET_{k.upper()}": str(v) for k, v in FAST.items()}, **self.extra_env}
        log = open(self.home.parent / "server.log", "ab")  # noqa: SIM115 - kept open for the child
        self.process = subprocess.Popen([sys.executable, "-m", "greenfleet", "server"], env=env,
                                        stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("server did not start: " + (self.home.parent / "server.log").read_text()[-2000:])

    def kill(self, sig: int = signal.SIGKILL) -> None:
        assert self.process is not None
        self.process.send_signal(sig)
        self.process.wait(30)


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    made: list[ServerProcess] = []
    home, port = tmp_path / "home", free_port()
    home.mkdir()

    def make(extra_env: dict[str, str] | None = None) -> ServerProcess:
        process = ServerProcess(home, port, extra_env)
        made.append(process)
        return process

    yield make
    for process in made:
        if process.process is not None and process.process.poll() is None:
            process.kill(signal.SIGTERM)
    _kill_leftover_workers(home)


def _kill_leftover_workers(home: Path) -> None:
    """Workers outlive a SIGKILLed server by design; tests must not leak them."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        if f"SM_MODEL_DIR={home}".encode() in environ:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(proc.name), signal.SIGKILL)
