"""The generated ``ci/release.sh`` run for real across three servers (dev, test, prod): promote dev → test,
approve there (the binding deploys it), wait, integration and load checks recorded as evidence, promote
to prod, where the required evidence lets the approval through."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from greenfleet.client import Client
from greenfleet.server import Server
from greenfleet.settings import Settings
from tests.conftest import free_port
from tests.init.conftest import MakeProject
from tests.init.test_init_live import FAST_POLICY, clean_env
from tests.live.conftest import FAST

pytestmark = pytest.mark.slow


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(name: str, **settings: str) -> Server:
        server = Server(Settings(home=tmp_path / name, port=free_port(), **{**FAST, **settings}))
        server.start_in_thread()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop_thread()


@pytest.mark.timeout(600)
def test_release_promotes_through_test_with_evidence_to_prod(make_project: MakeProject,
                                                              servers: Callable[..., Server]) -> None:
    dev, test = servers("dev"), servers("test")
    prod = servers("prod", registry_required_evidence="integration,load")
    project = make_project("rel", "baseline")
    env = {**clean_env(), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "GREENFLEET_DEV_URL": dev.settings.base_url, "GREENFLEET_TEST_URL": test.settings.base_url,
           "GREENFLEET_PROD_URL": prod.settings.base_url}
    trained = subprocess.run([sys.executable, "-m", "rel.pipeline", "--env", "dev", "--group", "prod", "--approve"],
                             cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert trained.returncode == 0, trained.stderr
    with Client(test.settings.base_url) as client:  # once per server: the endpoint bound to the group
        client.create_model_package_group(ModelPackageGroupName="rel-prod")
        client.create_model(ModelName="rel-first", PrimaryContainer={
            "Image": "greenfleet/sklearn", "ModelDataUrl": str(project / "build" / "model")})
        client.create_endpoint_config(EndpointConfigName="rel-c1", ProductionVariants=[
            {"VariantName": "main", "ModelName": "rel-first", "InitialInstanceCount": 1,
             "InstanceType": "ml.m5.large"}])
        client.create_endpoint(EndpointName="rel", EndpointConfigName="rel-c1")
        wait_in_service(client, "rel")
        client.create_registry_binding(EndpointName="rel", ModelPackageGroupName="rel-prod",
                                       DeploymentConfig=FAST_POLICY)

    released = subprocess.run(["bash", "ci/release.sh", "rel-prod/1", "prod"], cwd=project, env=env,
                              capture_output=True, text=True, timeout=500)
    assert released.returncode == 0, released.stdout[-3000:] + released.stderr[-3000:]
    assert "PendingManualApproval" in released.stdout
    with Client(test.settings.base_url) as client:
        assert client.champion(ModelPackageGroupName="rel-prod")["Endpoints"][0]["ModelPackageVersion"] == 1
    with Client(prod.settings.base_url) as client:
        copy = client.describe_model_package(ModelPackageName="rel-prod/1")
        assert copy["ModelApprovalStatus"] == "PendingManualApproval"
        assert copy["CustomerMetadataProperties"]["dataset"] == "breast_cancer"
        evidence = client.list_model_package_evidence(ModelPackageName="rel-prod/1")
        assert {(e["Check"], e["Status"]) for e in evidence["Evidence"]} == {("integration", "Passed"),
                                                                             ("load", "Passed")}
        assert evidence["MissingChecks"] == []
        client.update_model_package("rel-prod/1", by="release manager", ModelApprovalStatus="Approved")
        assert client.describe_model_package(ModelPackageName="rel-prod/1")["ModelApprovalStatus"] == "Approved"


def wait_in_service(client: Client, endpoint: str, timeout_s: float = 120) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    while client.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] != "InService":
        assert time.monotonic() < deadline, f"{endpoint} not InService after {timeout_s} s"
        time.sleep(0.2)
