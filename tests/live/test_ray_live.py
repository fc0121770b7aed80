"""The Ray backend on a real one-machine Ray cluster (in this process, on loopback, bounded: 80 MB object
store, no dashboard): instances are named detached actors that start real workers and report their
address; a killed actor is replaced; a canary through Ray rolls back on its alarm; a restarted server
adopts the actors."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import ray

from greenfleet.instances.instance_types import INSTANCE_TYPES
from greenfleet.instances.ray_backend import ACTOR_PREFIX, RayBackend
from greenfleet.server import Server
from greenfleet.settings import Settings
from tests.conftest import free_port
from tests.live import test_deployments_live as deployments
from tests.live.conftest import FAST, Api
from tests.live.test_endpoints_live import csv_row

pytestmark = pytest.mark.slow
NAMESPACE = "greenfleet-test"


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    """A one-node cluster inside the test process: 8 logical CPUs and 64 GiB of logical memory (what the
    instance types reserve; nothing is allocated), 80 MB of object store."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(address="local", num_cpus=8, _memory=64 * 1024**3, object_store_memory=80 * 1024**2,
             include_dashboard=False, _node_ip_address="127.0.0.1", namespace=NAMESPACE, log_to_driver=False,
             configure_logging=False)
    yield
    ray.shutdown()


def ray_settings(home: Path, port: int | None = None) -> Settings:
    return Settings(home=home, port=port or free_port(), backend="ray", ray_address="local",
                    ray_namespace=NAMESPACE, **FAST)


@pytest.fixture
def ray_server(ray_cluster: None, tmp_path: Path) -> Iterator[Server]:
    instance = Server(ray_settings(tmp_path / "home"))
    instance.start_in_thread()
    yield instance
    instance.stop_thread()


@pytest.fixture
def api(ray_server: Server) -> Iterator[Api]:
    client = Api(ray_server.settings.base_url)
    yield client
    client.http.close()


def actors() -> dict[str, dict[str, Any]]:
    """The live greenfleet instance actors, by name, as the GCS lists them (the state API would need the
    dashboard, which this bounded cluster does not run)."""
    from ray._private import state

    listed: dict[str, dict[str, Any]] = state.actors()
    return {a["Name"]: a for a in listed.values() if a["State"] == "ALIVE" and a["Name"].startswith(ACTOR_PREFIX)}


def ready_instances(server: Server, endpoint: str, count: int, timeout_s: float = 60) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ready = [m.instance_id for m in server.reconciler.instances.values()
                 if m.spec.endpoint_name == endpoint and m.phase == "ready"]
        if len(ready) == count:
            return sorted(ready)
        time.sleep(0.1)
    raise AssertionError(f"{endpoint} has not {count} ready instances")


def deploy(api: Api, endpoint: str, model: Path, count: int, instance_type: str = "ml.c5.large") -> None:
    api.call("POST", "/api/models", {"ModelName": endpoint, "PrimaryContainer": {
        "Image": "greenfleet/sklearn", "ModelDataUrl": str(model)}})
    api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": endpoint, "ProductionVariants": [
        {"VariantName": "main", "ModelName": endpoint, "InitialInstanceCount": count,
         "InstanceType": instance_type}]})
    api.call("POST", "/api/endpoints", {"EndpointName": endpoint, "EndpointConfigName": endpoint})
    api.wait_status(endpoint, "InService")


def test_an_endpoint_with_two_instances_serves_through_ray(ray_server: Server, api: Api, sklearn_model: Path,
                                                           features: np.ndarray) -> None:
    deploy(api, "rayed", sklearn_model, 2)
    ids = ready_instances(ray_server, "rayed", 2)
    live = actors()
    assert {ACTOR_PREFIX + i for i in ids} == set(live)  # one named, detached actor per instance
    assert all(live[ACTOR_PREFIX + i]["IsDetached"] for i in ids)
    # each reserves its instance type (ml.c5.large: 2 vCPUs, 4 GiB) out of the cluster's 8 CPUs, 64 GiB
    total, free = ray.cluster_resources(), ray.available_resources()
    assert total["CPU"] - free.get("CPU", 0) == 4
    assert total["memory"] - free.get("memory", 0) == 2 * INSTANCE_TYPES["ml.c5.large"].memory_bytes
    handles = [m.handle for m in ray_server.reconciler.instances.values() if m.instance_id in ids]
    # the worker listens on its node's address (Ray 2.60 turns a loopback node address into the machine's)
    node_address = ray.nodes()[0]["NodeManagerAddress"]
    assert all(h.address is not None and h.address.host == node_address for h in handles)
    served = [api.invoke("rayed", csv_row(features)) for _ in range(20)]
    assert [r.status_code for r in served] == [200] * 20
    assert served[0].json()["predictions"][0] in (0, 1)
    # the worker runs at the ordinary priority, not at the niceness Ray gives its own workers (15)
    pid = int(ray.get(ray.get_actor(ACTOR_PREFIX + ids[0], namespace=NAMESPACE).identity.remote())["pid"])
    assert int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16]) == 0
    # CPU and memory come from the actor on the instance's node (two samples: a figure)
    backend = ray_server.backend
    assert isinstance(backend, RayBackend)
    deadline, usage = time.monotonic() + 10, None
    while usage is None and time.monotonic() < deadline:
        usage = backend.sample(handles[0], time.monotonic())
        time.sleep(0.3)
    assert usage is not None and usage.cpu_percent >= 0 and 0 < usage.memory_percent < 100


def test_a_killed_actor_is_replaced(ray_server: Server, api: Api, sklearn_model: Path,
                                    features: np.ndarray) -> None:
    deploy(api, "phoenix", sklearn_model, 2)
    before = ready_instances(ray_server, "phoenix", 2)
    victim = before[0]
    pid = int(ray.get(ray.get_actor(ACTOR_PREFIX + victim, namespace=NAMESPACE).identity.remote())["pid"])
    ray.kill(ray.get_actor(ACTOR_PREFIX + victim, namespace=NAMESPACE), no_restart=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = {m.instance_id for m in ray_server.reconciler.instances.values()
               if m.spec.endpoint_name == "phoenix" and m.phase == "ready"}
        if victim not in now and len(now) == 2:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the killed actor's instance was not replaced")
    assert ACTOR_PREFIX + victim not in actors()
    # its worker died with its actor (PR_SET_PDEATHSIG), it does not answer behind the control plane's back
    deadline = time.monotonic() + 15
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{pid}").exists() or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    assert all(api.invoke("phoenix", csv_row(features)).status_code == 200 for _ in range(10))
    events = api.call("GET", "/api/endpoints/phoenix")
    assert events["EndpointStatus"] == "InService"


def test_a_canary_through_ray_rolls_back_on_its_alarm(api: Api, sklearn_model: Path, features: np.ndarray,
                                                      tmp_path: Path) -> None:
    deployments.test_canary_to_a_failing_model_rolls_back_on_the_alarm(api, sklearn_model, features, tmp_path)
    assert len(actors()) == 2  # the canary's actor is gone; blue's two remain


def test_a_restarted_server_adopts_the_detached_actors(ray_cluster: None, tmp_path: Path, sklearn_model: Path,
                                                       features: np.ndarray) -> None:
    home, port = tmp_path / "home", free_port()
    first = Server(ray_settings(home, port))
    first.start_in_thread()
    api = Api(first.settings.base_url)
    deploy(api, "kept", sklearn_model, 1)
    ids = ready_instances(first, "kept", 1)
    first.stop_thread(stop_instances=False)  # as after a crash: the actors stay
    assert ACTOR_PREFIX + ids[0] in actors()
    second = Server(ray_settings(home, port))
    second.start_in_thread()
    try:
        assert ready_instances(second, "kept", 1) == ids  # adopted, not restarted
        assert api.invoke("kept", csv_row(features)).status_code == 200
    finally:
        second.stop_thread()
        api.http.close()
    deadline = time.monotonic() + 20
    while ACTOR_PREFIX + ids[0] in actors() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ACTOR_PREFIX + ids[0] not in actors()  # a clean stop stops the actors too
