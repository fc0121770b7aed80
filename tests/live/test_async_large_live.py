"""A payload of a few hundred MB through InvokeEndpointAsync (boto3, a real server, a real worker process,
file:// input and output): one prediction per row, in order, while the worker's peak memory stays a small
fraction of the payload; and a body the worker must read whole, past its maximum, ends in the failure path
with the reason."""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from greenfleet.server import Server
from greenfleet.settings import Settings
from tests.conftest import free_port
from tests.live.conftest import FAST, Api
from tests.live.test_async_live import runtime

pytestmark = [pytest.mark.slow, pytest.mark.parallel]
PAYLOAD_BYTES = 288 * 1024 * 1024
BLOCK_ROWS = 997  # a prime: a chunk (10,000 rows) out of place cannot line up with the block again


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[Server]:
    (tmp_path / "files").mkdir()
    settings = Settings(home=tmp_path / "home", port=free_port(), async_file_roots=str(tmp_path / "files"),
                        worker_max_body_bytes=1024 * 1024, **FAST)
    server = Server(settings)
    server.start_in_thread()
    yield server
    server.stop_thread()


@pytest.fixture
def model(tmp_path: Path) -> tuple[Path, LogisticRegression]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 4))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    fitted = LogisticRegression().fit(x, y)
    path = tmp_path / "model.pkl"  # a plain pickle: the worker serves it without importing scikit-learn
    path.write_bytes(pickle.dumps(fitted))
    return path, fitted


def workers_of(pid: int) -> list[int]:
    """The worker processes this process started (the in-thread server's instances)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid and b"greenfleet.workers" in command:
            found.append(int(entry.name))
    return found


def peak_rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmHWM for {pid}")


def wait_for(path: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert path.exists(), f"no {path} after {timeout_s} s"


def test_a_large_csv_payload_is_streamed_with_flat_worker_memory(file_server: Server, tmp_path: Path,
                                                                 model: tuple[Path, LogisticRegression]) -> None:
    path, fitted = model
    api = Api(file_server.settings.base_url)
    files = tmp_path / "files"
    api.deploy_async("big", path, "greenfleet/sklearn", (files / "out").as_uri())

    block = np.random.default_rng(1).normal(size=(BLOCK_ROWS, 4)).round(4)
    text = "".join(",".join(f"{v:.4f}" for v in row) + "\n" for row in block).encode()
    repeats = PAYLOAD_BYTES // len(text)
    source = files / "big.csv"
    with source.open("wb") as handle:
        for _ in range(repeats):
            handle.write(text)
    size = source.stat().st_size
    (worker,) = workers_of(os.getpid())
    baseline = peak_rss_bytes(worker)
    client = runtime(file_server)
    answer = client.invoke_endpoint_async(EndpointName="big", InputLocation=source.as_uri(), ContentType="text/csv",
                                          Accept="text/csv", InvocationTimeoutSeconds=600)
    output = files / "out" / f"{answer['InferenceId']}.out"
    wait_for(output, 120)
    peak = peak_rss_bytes(worker)

    expected = fitted.predict(block).astype(int)
    predicted = np.loadtxt(output, dtype=np.int64)
    assert predicted.shape == (repeats * BLOCK_ROWS,)
    assert (predicted.reshape(repeats, BLOCK_ROWS) == expected).all()
    figures = (f"worker peak RSS {peak / 2**20:.0f} MiB ({baseline / 2**20:.0f} MiB before) for a "
               f"{size / 2**20:.0f} MiB payload")
    print(figures)
    assert peak < size / 4, figures
    assert peak - baseline < size / 8, figures

    # A body the worker reads whole (one JSON document) past GREENFLEET_WORKER_MAX_BODY_BYTES: failure, reason.
    document = files / "big.json"
    document.write_bytes(b'{"instances": [' + b",".join([b"[0.5, 0.5, 0.5, 0.5]"] * 100_000) + b"]}")
    refused = client.invoke_endpoint_async(EndpointName="big", InputLocation=document.as_uri(),
                                           ContentType="application/json")
    failure = files / "out" / f"{refused['InferenceId']}-error.out"
    wait_for(failure, 30)
    reason = failure.read_text()
    assert reason.startswith("ModelError: Received client error (413)"), reason
    assert "GREENFLEET_WORKER_MAX_BODY_BYTES" in reason and "1048576" in reason
