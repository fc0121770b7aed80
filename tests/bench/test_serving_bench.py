"""Smoke tests of the serving benchmark (bench/): the launcher really serves the benchmark's model and
body through the router, its worker counts in the peers' harness's process accounting, Ctrl-C cleans
up; and the report computes the issue's ratios. Not a performance test: nothing here is timed."""

from __future__ import annotations

import http.client
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
LAUNCHER = REPO / "bench" / "greenfleet_router.py"
PEERS = REPO.parent / "shared" / "bench" / "peers"

pytestmark = pytest.mark.skipif(not LAUNCHER.exists(), reason="bench/greenfleet_router.py is not in this checkout")


def _post(port: int, path: str, body: bytes) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _proc(pid: int) -> tuple[int, int] | None:
    """(ppid, sid) of a live process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = stat[stat.rfind(")") + 2:].split()
    return None if rest[0] == "Z" else (int(rest[1]), int(rest[3]))


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            info = _proc(int(entry))
            if info and info[0] == pid:
                out.append(int(entry))
    return out


def test_launcher_serves_the_benchmark_body_and_stops_cleanly(tmp_path: Path) -> None:
    X, y = make_classification(n_samples=200, n_features=20, n_classes=2, random_state=0)
    model = LogisticRegression(max_iter=1000, random_state=0).fit(X, y)
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(model, protocol=5))
    row = X[0].tolist()
    expected = int(model.predict(np.asarray([row]))[0])
    port, status_file = free_port(), tmp_path / "status.json"
    proc = subprocess.Popen(
        [sys.executable, str(LAUNCHER), "--port", str(port), "--model", str(tmp_path / "model.pkl"),
         "--status", str(status_file)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    workers: list[int] = []
    try:
        body = json.dumps({"inputs": [row]}).encode()
        deadline, answer = time.monotonic() + 90, None
        while time.monotonic() < deadline and answer is None:
            assert proc.poll() is None, "the launcher exited"
            try:
                code, data = _post(port, "/endpoints/bench/invocations", body)
                if code == 200:
                    answer = json.loads(data)
            except OSError:
                pass
            time.sleep(0.1)
        assert answer == {"predictions": [expected]}
        status = json.loads(status_file.read_text())
        assert status["server_pid"] == proc.pid
        assert status["launched"] <= status["listening"] <= status["endpoint_created"] <= status["in_service"]
        # The worker runs in a session of its own but is the server's child: the harness sums the
        # server's session *and* its descendants, so the worker is counted.
        workers = _children(proc.pid)
        assert len(workers) == 1
        worker = _proc(workers[0])
        assert worker is not None and worker[1] != proc.pid
        if (PEERS / "harness.py").exists():
            sys.path.insert(0, str(PEERS))
            try:
                import harness
            finally:
                sys.path.remove(str(PEERS))
            pids, _ = harness.proc_set(proc.pid)
            assert pids == {proc.pid, workers[0]}
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=45)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    assert proc.returncode == 0
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_proc(w) for w in workers):
        time.sleep(0.1)
    assert not any(_proc(w) for w in workers), "the worker outlived the server"
    assert not Path(status["home"]).exists(), "the temporary GREENFLEET_HOME was left behind"


@pytest.mark.skipif(not (PEERS / "harness.py").exists(), reason="../shared/bench/peers is not beside the repo")
def test_report_computes_the_issue_ratios() -> None:
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import serving
    finally:
        sys.path.remove(str(REPO / "bench"))
    results = {
        "greenfleet-router": {"rps_c8": 3000.0, "p50_c1_ms": 0.40, "server_cpu_ms_per_req": 0.30,
                              "create_to_first_s": 1.5, "rss_mb": 250.0},
        "greenfleet-direct": {"p50_c1_ms": 0.30},
        "mlflow-w1": {"rps_c8": 1000.0, "source": "this run"},
    }
    t = serving.targets(results)
    assert t["rps_vs_mlflow"]["measured"] == pytest.approx(3.0) and t["rps_vs_mlflow"]["met"] is True
    assert t["router_overhead_p50_c1_ms"]["measured"] == pytest.approx(0.10)
    assert t["router_overhead_p50_c1_ms"]["met"] is True
    assert t["router_cpu_ms_per_req"]["met"] is True
    assert t["create_to_first_s"]["met"] is True
    assert t["idle_rss_mb"]["met"] is False
    names = {c["name"] for c in serving.harness.CONFIGS}
    serving.install()
    assert {"greenfleet-router", "greenfleet-direct"} <= {c["name"] for c in serving.harness.CONFIGS}
    assert names <= {c["name"] for c in serving.harness.CONFIGS}
