"""Live: an inference pipeline's supervisor (``python -m greenfleet.workers`` with a plan, no server) calls its
script members over their lanes: a call past the invocation timeout is answered 504 naming the container and
the next one is served; a member that dies mid-call is named; and SAGEMAKER_MODEL_SERVER_WORKERS=1 holds across
the lane and the member's own HTTP port together."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from greenfleet.router.table import InstanceAddress
from greenfleet.workers.pipeline import Member, PipelineApp
from greenfleet.workers.watchdog import Heartbeat
from tests.conftest import free_port
from tests.workers.conftest import WorkerFactory, worker_env

pytestmark = pytest.mark.slow

SCRIPT = '''
import os
import threading
import time

_lock = threading.Lock()
_running = 0
_most = 0


def model_fn(model_dir):
    return None


def transform_fn(model, body, content_type, accept):
    global _running, _most
    text = body.decode() if isinstance(body, bytes) else body
    if text == "die " + os.path.basename(os.getcwd()):  # a member runs in its own directory (c0, c1, ...)
        os.kill(os.getpid(), 9)
    if text == "who":
        return f"{_most} {threading.current_thread().name}".encode(), "text/plain"
    with _lock:
        _running += 1
        _most = max(_most, _running)
    try:
        if text.startswith("sleep "):
            time.sleep(float(text.split()[1]))
    finally:
        with _lock:
            _running -= 1
    return body, content_type
'''


@dataclass
class Pipeline:
    process: subprocess.Popen[bytes]
    http: httpx.Client
    member_ports: list[int]

    def invoke(self, body: str) -> httpx.Response:
        return self.http.post("/invocations", content=body.encode(), headers={"Content-Type": "text/plain"})


@contextlib.contextmanager
def start_pipeline(root: Path, size: int, **env: str) -> Iterator[Pipeline]:
    (root / "model" / "code").mkdir(parents=True)
    (root / "model" / "code" / "inference.py").write_text(SCRIPT)
    members = []
    for index in range(size):
        directory = root / f"c{index}"
        directory.mkdir()
        port = free_port()
        environment = worker_env(directory, "greenfleet/script", port, env)
        environment["SM_MODEL_DIR"] = str(root / "model")
        members.append({"hostname": f"c{index}", "port": port, "directory": str(directory),
                        "environment": environment})
    (root / "plan.json").write_text(json.dumps({"Mode": "Serial", "Members": members}))
    port = free_port()
    supervisor = worker_env(root, "", port, {**env, "GREENFLEET_PIPELINE_FILE": str(root / "plan.json")})
    supervisor.pop("GREENFLEET_IMAGE")
    with (root / "log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "greenfleet.workers"], env=supervisor, cwd=root,
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # a process group of its own, as the backends start it
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (root / "log").read_text()[-3000:]
            try:
                if http.get("/ping").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, (root / "log").read_text()[-3000:]
            time.sleep(0.05)
        yield Pipeline(process, http, [member["port"] for member in members])
    finally:
        http.close()
        if process.poll() is None:
            process.terminate()
        process.wait(30)


@pytest.fixture(scope="module")
def timed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """Two script containers, a 0.5 s invocation timeout (the supervisor's and, from the contract, theirs)."""
    with start_pipeline(tmp_path_factory.mktemp("timed"), 2, GREENFLEET_INVOCATION_TIMEOUT_S="0.5") as pipeline:
        yield pipeline


def test_a_call_past_the_timeout_is_504_naming_the_container_and_the_next_is_served(timed: Pipeline) -> None:
    stuck = timed.invoke("sleep 5")
    assert stuck.status_code == 504, stuck.text
    assert stuck.headers["x-greenfleet-container"] == "c0"
    assert stuck.text == "container c0 did not answer within 0.5 s"
    started = time.monotonic()
    who = timed.invoke("who")  # c0's answer goes to c1, which answers for itself
    assert who.status_code == 200, who.text
    assert time.monotonic() - started < 2.0  # not behind the stuck call: it stopped counting at its timeout
    assert who.text.split()[1].startswith("lane-")  # answered on a lane thread, not over HTTP
    assert [part.split("=")[0] for part in who.headers["x-greenfleet-container-latency"].split(",")] == ["c0", "c1"]


def test_a_member_that_dies_mid_call_is_named(timed: Pipeline) -> None:
    died = timed.invoke("die c1")  # c0 hands it on; c1 dies reading it
    assert died.status_code == 500
    assert died.headers["x-greenfleet-container"] == "c1"
    assert died.text.startswith("container c1 did not answer")
    assert timed.process.wait(10) != 0  # and the instance goes down with it, as before


def test_one_model_server_worker_runs_one_call_at_once_over_the_lane_and_http(tmp_path: Path) -> None:
    answers: list[int] = []

    def call(client: httpx.Client) -> None:
        response = client.post("/invocations", content=b"sleep 0.1", headers={"Content-Type": "text/plain"})
        answers.append(response.status_code)

    with start_pipeline(tmp_path, 1, SAGEMAKER_MODEL_SERVER_WORKERS="1") as pipeline, \
            httpx.Client(base_url=f"http://127.0.0.1:{pipeline.member_ports[0]}", timeout=30) as direct:
        threads = [threading.Thread(target=call, args=(client,)) for client in [pipeline.http, direct] * 4]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert answers == [200] * 8
        assert time.monotonic() - started >= 0.75  # one at a time: eight calls of 0.1 s
        most, thread_name = pipeline.invoke("who").text.split()
        assert most == "1"
        assert thread_name.startswith("lane-")


def test_a_member_without_a_lane_is_called_over_http_from_then_on(workers: WorkerFactory, tmp_path: Path) -> None:
    """A member that answers on its port but has no lane socket (a ``greenfleet/command`` image's own server)
    keeps being called over HTTP, with the same answers and headers."""
    (tmp_path / "model" / "code").mkdir(parents=True)
    (tmp_path / "model" / "code" / "inference.py").write_text(SCRIPT)
    worker = workers.start("greenfleet/script", tmp_path / "model")
    member = Member("c0", InstanceAddress("c0", "127.0.0.1", worker.port), tmp_path, tmp_path / "none.sock")
    app = PipelineApp([member], "Serial", Heartbeat(), timeout_s=5)

    async def go() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pipeline") as client:
            return [await client.post("/invocations", content=b"who", headers={"Content-Type": "text/plain"})
                    for _ in range(2)]

    answers = asyncio.run(go())
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].text.split()[1].startswith("model")  # the HTTP app's model thread
    assert answers[0].headers["x-greenfleet-container-latency"].startswith("c0=")
    assert app.lanes == {}


def test_lanes_too_long_for_the_members_directories_live_in_a_temporary_directory_removed_with_the_instance(
        tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 40)  # <deep>/c0/lane.sock is over a Unix socket's 107 bytes
    deep.mkdir(parents=True)
    spare_root = Path(tempfile.mkdtemp(prefix="gf-", dir="/tmp"))  # short: the lanes' sockets go under it
    for ending in ("stop", "die c1"):
        root = deep / ending.split()[0]
        root.mkdir()
        with start_pipeline(root, 2, TMPDIR=str(spare_root)) as pipeline:
            (spare,) = spare_root.iterdir()
            assert spare.name.startswith("greenfleet-lanes-") and sorted(p.name for p in spare.iterdir()) == [
                "0.sock", "1.sock"]
            who = pipeline.invoke("who")
            assert who.status_code == 200 and who.text.split()[1].startswith("lane-"), who.text  # over the lane
            if ending == "stop":  # as a backend stops an instance: SIGTERM to its process group
                os.killpg(pipeline.process.pid, signal.SIGTERM)
                assert pipeline.process.wait(30) == 0, (root / "log").read_text()[-3000:]
                assert not (root / "failure").exists()  # a stop, not a member's failure
            else:
                assert pipeline.invoke(ending).status_code == 500
                assert pipeline.process.wait(10) != 0  # the member's failure took the instance down
                assert "container c1 of the pipeline exited" in (root / "failure").read_text()
        assert list(spare_root.iterdir()) == [], ending
    spare_root.rmdir()
