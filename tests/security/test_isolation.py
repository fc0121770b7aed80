"""Instances see none of the server's secrets, run only allowed images, and die with their server when no
server comes back to adopt them (exec'd greenfleet/command ones included); one server per home and per
PostgreSQL database."""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from pathlib import Path

import httpx
import pytest

from greenfleet.instances.backend import InstanceSpec
from greenfleet.instances.isolation import Isolation
from greenfleet.instances.local import LocalProcessBackend, _alive
from greenfleet.ownership import AlreadyRunning, HomeLock
from greenfleet.server import Server
from greenfleet.settings import Settings
from tests.aws.servers import running_server
from tests.conftest import free_port
from tests.live.conftest import Api

ENV_SERVER = """
import http.server, json, os

class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, body):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.answer(b"")

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.answer(json.dumps({**os.environ, "__uid": os.getuid()}).encode())

http.server.HTTPServer(("127.0.0.1", int(os.environ["SAGEMAKER_BIND_TO_PORT"])), Handler).serve_forever()
"""


def command(tmp_path: Path) -> str:
    script = tmp_path / "envserver.py"
    script.write_text(ENV_SERVER)
    return f"exec {shlex.quote(sys.executable)} {shlex.quote(str(script))}"


def test_workers_see_none_of_the_servers_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {"GREENFLEET_API_TOKEN": "tok", "GREENFLEET_AWS_CREDENTIALS": '{"AKIDX": "aws-secret"}',
               "GREENFLEET_DATABASE_URL": "sqlite:///nowhere.db", "AWS_SECRET_ACCESS_KEY": "s3-secret",
               "SOME_PASSWORD": "hunter2"}
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PASSED_ON", "yes")
    with running_server(tmp_path / "home", database_url=None, worker_environment_passthrough="PASSED_ON") as server:
        api = Api(server.settings.base_url)
        api.http.headers["Authorization"] = "Bearer tok"
        api.call("POST", "/api/models", {"ModelName": "env", "PrimaryContainer": {
            "Image": "greenfleet/command", "Environment": {"GREENFLEET_COMMAND": command(tmp_path), "MINE": "1"}}})
        api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": "env", "ProductionVariants": [
            {"VariantName": "a", "ModelName": "env", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}]})
        api.call("POST", "/api/endpoints", {"EndpointName": "env", "EndpointConfigName": "env"})
        api.wait_status("env", "InService")
        seen = api.invoke("env", b"{}", "application/json").json()
        api.http.close()
    assert not set(secrets) & set(seen), sorted(seen)
    assert not any(value in json.dumps(seen) for value in ("tok", "aws-secret", "s3-secret", "hunter2"))
    assert seen["MINE"] == "1" and seen["PASSED_ON"] == "yes" and seen["SAGEMAKER_BIND_TO_PORT"]
    assert seen["PATH"] and "GREENFLEET_INSTANCE_TOKEN" in seen  # what the worker needs stays


def test_the_image_allow_list_refuses_commands_and_scripts(tmp_path: Path) -> None:
    with running_server(tmp_path / "home", allowed_images="greenfleet/sklearn,sagemaker-scikit-learn") as server:
        api = Api(server.settings.base_url)
        for image in ("greenfleet/command", "greenfleet/script", "pytorch-inference:2.1"):
            refused = api.http.post("/api/models", json={"ModelName": "x", "PrimaryContainer": {"Image": image}})
            assert refused.status_code == 400 and "is not allowed on this server" in refused.json()["message"]
        # a built-in image that would run the user's inference.py: refused by the worker
        api.call("POST", "/api/models", {"ModelName": "s", "PrimaryContainer": {
            "Image": "sagemaker-scikit-learn:1.2-1", "Environment": {"SAGEMAKER_PROGRAM": "inference.py"}}})
        api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": "s", "ProductionVariants": [
            {"VariantName": "a", "ModelName": "s", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}]})
        api.call("POST", "/api/endpoints", {"EndpointName": "s", "EndpointConfigName": "s"})
        failed = api.wait_status("s", "Failed")
        assert "greenfleet/script is not in this server's allow-list" in failed["FailureReason"]
        api.http.close()


def spec(tmp_path: Path, instance_id: str) -> InstanceSpec:
    return InstanceSpec(instance_id, "e", 1, "c", "a", {"Image": "greenfleet/command",
                                                       "Environment": {"GREENFLEET_COMMAND": command(tmp_path)}})


def wait_ready(port: int, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ping", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("the command instance did not start")


def test_an_execd_command_dies_when_no_server_comes_back(tmp_path: Path) -> None:
    home = tmp_path / "home"
    lock = HomeLock(home)
    lock.acquire()  # a server runs
    backend = LocalProcessBackend(home, orphan_grace_s=1.0, server_lock=lock.path)
    handle = backend.start(spec(tmp_path, "i-1"), time.time())
    pid, token = handle.ref["pid"], handle.ref["token"]
    assert handle.address is not None
    try:
        wait_ready(handle.address.port)
        lock.release()  # the server dies ...
        time.sleep(0.5)
        relock = HomeLock(home)
        relock.acquire()  # ... and a new one starts within the grace period: the instance is kept for it
        time.sleep(2.0)
        assert _alive(pid, token)
        relock.release()  # this one dies for good
        deadline = time.monotonic() + 15
        while _alive(pid, token) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(pid, token)
    finally:
        backend.close(stop_instances=True)


def test_one_server_per_home(tmp_path: Path) -> None:
    first = Server(Settings(home=tmp_path / "home", port=free_port()))
    try:
        with pytest.raises(AlreadyRunning, match=f"pid {os.getpid()}"):
            Server(Settings(home=tmp_path / "home", port=free_port()))
    finally:
        first.stop_controllers()
    Server(Settings(home=tmp_path / "home", port=free_port())).stop_controllers()  # free again


def test_one_server_per_postgresql_database(tmp_path: Path, postgres_url: str) -> None:
    first = Server(Settings(home=tmp_path / "a", port=free_port(), database_url=postgres_url))
    try:
        with pytest.raises(AlreadyRunning, match="holds the lease on the database"):
            Server(Settings(home=tmp_path / "b", port=free_port(), database_url=postgres_url))
    finally:
        first.stop_controllers()
    Server(Settings(home=tmp_path / "b", port=free_port(), database_url=postgres_url)).stop_controllers()


def test_a_worker_user_needs_an_existing_user(tmp_path: Path) -> None:
    from greenfleet.server import ConfigurationError

    with pytest.raises(ConfigurationError, match="no user 'no-such-user-gf'"):
        Server(Settings(home=tmp_path / "home", port=free_port(), worker_user="no-such-user-gf"))


def test_isolation_environment_is_built_from_scratch() -> None:
    env = Isolation(passthrough=("EXTRA",)).environment(
        {"PATH": "/bin", "LC_ALL": "C", "GREENFLEET_API_TOKEN": "x", "AWS_ACCESS_KEY_ID": "k", "EXTRA": "1",
         "HOME": "/root"}, {"MINE": "2"}, wants_s3=False)
    assert env == {"PATH": "/bin", "LC_ALL": "C", "EXTRA": "1", "HOME": "/root", "MINE": "2"}
    assert Isolation().environment({"AWS_ACCESS_KEY_ID": "k"}, {}, wants_s3=True) == {"AWS_ACCESS_KEY_ID": "k"}


def test_instances_run_as_the_worker_user(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("switching users needs root")
    import shutil
    import stat
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="gf-user-"))
    try:
        base.chmod(0o755)
        fake = base / "python"  # stands in for the worker's interpreter: tells who it runs as, then fails
        fake.write_text('#!/bin/sh\necho "runs as uid $(id -u)" > "$GREENFLEET_FAILURE_FILE"\nexit 3\n')
        fake.chmod(fake.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        with running_server(base / "home", worker_user="nobody", worker_python=str(fake)) as server:
            api = Api(server.settings.base_url)
            api.call("POST", "/api/models", {"ModelName": "m", "PrimaryContainer": {"Image": "greenfleet/sklearn"}})
            api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": "c", "ProductionVariants": [
                {"VariantName": "a", "ModelName": "m", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}]})
            api.call("POST", "/api/endpoints", {"EndpointName": "e", "EndpointConfigName": "c"})
            reason = api.wait_status("e", "Failed")["FailureReason"]
            api.http.close()
        assert "runs as uid 65534" in reason, reason
    finally:
        shutil.rmtree(base, ignore_errors=True)
