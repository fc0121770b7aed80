"""A store and a fleet made by the release before the typed endpoint state (commit fcf4da1, schema 0003)
open with today's server: it migrates the store (0004), adopts the old server's live workers, including
the green fleet of a deployment in progress, and serves; the deployment then finishes. On SQLite and
PostgreSQL. The old release is taken from this repository's history (``git archive``)."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.conftest import PG_ADMIN_URL, _pg_reachable, free_port
from tests.live.conftest import FAST, Api, ServerProcess, _kill_leftover_workers
from tests.live.test_endpoints_live import csv_row

pytestmark = [pytest.mark.slow, pytest.mark.parallel]
OLD_RELEASE = "fcf4da1"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def old_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The greenfleet package as it was at OLD_RELEASE."""
    if shutil.which("git") is None:
        pytest.skip("git is needed to take the old release from history")
    target = tmp_path_factory.mktemp("old-release")
    archive = subprocess.run(["git", "-C", str(REPO), "archive", OLD_RELEASE, "greenfleet"], capture_output=True)
    if archive.returncode != 0:
        pytest.skip(f"commit {OLD_RELEASE} is not in this checkout: {archive.stderr.decode()[-200:]}")
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store per test (the old release must create it at its own schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'home' / 'greenfleet.db'}"
        return
    problem = _pg_reachable()
    if problem:
        pytest.skip(f"PostgreSQL store tests skipped: {problem}")
    import psycopg

    name = f"gf_upgrade_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Release(ServerProcess):
    """``greenfleet server`` of a given source tree (None: this checkout) on a given store."""

    def __init__(self, home: Path, port: int, database_url: str, source: Path | None) -> None:
        super().__init__(home, port)
        self.database_url, self.source = database_url, source

    def start(self) -> None:
        env = {**os.environ, "GREENFLEET_HOME": str(self.home), "GREENFLEET_PORT": str(self.port),
               "GREENFLEET_DATABASE_URL": self.database_url,
               **{f"GREENFLEET_{k.upper()}": str(v) for k, v in FAST.items()}}
        if self.source is not None:
            env["PYTHONPATH"] = os.pathsep.join(p for p in (str(self.source), env.get("PYTHONPATH")) if p)
        log = open(self.home.parent / "server.log", "ab")  # noqa: SIM115 - kept open for the child
        self.process = subprocess.Popen([sys.executable, "-m", "greenfleet", "server"], env=env,
                                        stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90  # two releases start here, on a busy machine
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("server did not start: " + (self.home.parent / "server.log").read_text()[-2000:])


def test_a_store_and_fleet_of_the_previous_release_are_adopted_and_served(
        old_release: Path, database_url: str, tmp_path: Path, sklearn_model: Path, features: np.ndarray) -> None:
    home, port = tmp_path / "home", free_port()
    home.mkdir(exist_ok=True)
    servers: list[Release] = []
    try:
        old = Release(home, port, database_url, old_release)
        servers.append(old)
        old.start()
        api = Api(f"http://127.0.0.1:{port}")
        api.deploy("up", sklearn_model, {"a": (0.5, 1), "b": (0.5, 1)})
        api.call("POST", "/api/models", {"ModelName": "up-2", "PrimaryContainer": {
            "Image": "greenfleet/sklearn", "ModelDataUrl": str(sklearn_model)}})
        api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": "up-config-2", "ProductionVariants": [
            {"VariantName": v, "ModelName": "up-2", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
            for v in ("a", "b")]})
        api.call("POST", "/api/endpoints/up/update", {"EndpointConfigName": "up-config-2", "DeploymentConfig": {
            "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
                "Type": "CANARY", "WaitIntervalInSeconds": 3600,
                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 50}}}}})
        deadline = time.monotonic() + 60
        while len(api.call("GET", "/api/endpoints/up/instances")["Instances"]) < 4 or not all(
                i["ReadyAt"] for i in api.call("GET", "/api/endpoints/up/instances")["Instances"]):
            assert time.monotonic() < deadline, "the old release did not start the green fleet"
            time.sleep(0.1)
        before = {i["InstanceId"]: i for i in api.call("GET", "/api/endpoints/up/instances")["Instances"]}
        green = sorted(i for i, row in before.items() if row["Group"].startswith("2/"))
        assert len(green) == 2
        old.kill(signal.SIGKILL)

        new = Release(home, port, database_url, None)
        servers.append(new)
        new.start()
        described = api.call("GET", "/api/endpoints/up")
        assert described["EndpointStatus"] == "Updating"
        assert described["PendingDeploymentSummary"]["EndpointConfigName"] == "up-config-2"
        after = {i["InstanceId"]: i for i in api.call("GET", "/api/endpoints/up/instances")["Instances"]}
        assert set(after) == set(before)  # the old server's workers, adopted
        for instance in green:
            assert after[instance]["EndpointConfigName"] == "up-config-2" and after[instance]["Host"] == "127.0.0.1"
            assert after[instance]["ReadyAt"] == before[instance]["ReadyAt"]
        for _ in range(20):
            assert api.invoke("up", csv_row(features)).status_code == 200
        api.call("POST", "/api/endpoints/up/deployment/promote", {"Reason": "upgrade test"})
        described = api.wait_status("up", "InService", timeout_s=60)
        assert described["EndpointConfigName"] == "up-config-2"
        assert [v["VariantName"] for v in described["ProductionVariants"]] == ["a", "b"]
        deadline = time.monotonic() + 30  # the old fleet drains, then stops
        while {i["InstanceId"] for i in api.call("GET", "/api/endpoints/up/instances")["Instances"]} != set(green):
            assert time.monotonic() < deadline, "the blue fleet was not stopped"
            time.sleep(0.2)
        assert api.invoke("up", csv_row(features)).status_code == 200
    finally:
        for server in servers:
            if server.process is not None and server.process.poll() is None:
                server.kill(signal.SIGTERM)
        _kill_leftover_workers(home)

