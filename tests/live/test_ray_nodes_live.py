"""The Ray backend on a cluster of three raylets on this machine (``ray.cluster_utils.Cluster``: a head
that runs no instance and two worker nodes): a variant's instances spread over the nodes, and when a
node is lost its instance is replaced on the other one."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import ray
from ray.cluster_utils import Cluster

from greenfleet.instances.ray_backend import ACTOR_PREFIX
from greenfleet.server import Server
from greenfleet.settings import Settings
from tests.conftest import free_port
from tests.live.conftest import FAST, Api
from tests.live.test_endpoints_live import csv_row
from tests.live.test_ray_live import deploy, ready_instances

pytestmark = pytest.mark.slow
NAMESPACE = "greenfleet-nodes"
NODE = {"num_cpus": 4, "memory": 16 * 1024**3, "object_store_memory": 80 * 1024**2}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    made = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "object_store_memory": 80 * 1024**2,
                                                         "include_dashboard": False})
    made.add_node(**NODE)
    made.add_node(**NODE)
    ray.init(address=made.address, namespace=NAMESPACE, log_to_driver=False, configure_logging=False)
    made.wait_for_nodes()
    yield made
    ray.shutdown()
    made.shutdown()


def node_of(instance_id: str) -> str:
    actor = ray.get_actor(ACTOR_PREFIX + instance_id, namespace=NAMESPACE)
    return str(ray.get(actor.identity.remote(), timeout=10)["node_id"])


def test_instances_spread_over_nodes_and_a_lost_node_is_replaced(cluster: Cluster, tmp_path: Path,
                                                                  sklearn_model: Path, features: np.ndarray) -> None:
    server = Server(Settings(home=tmp_path / "home", port=free_port(), backend="ray", ray_address="auto",
                             ray_namespace=NAMESPACE, **FAST))
    server.start_in_thread()
    api = Api(server.settings.base_url)
    try:
        deploy(api, "spread", sklearn_model, 2)  # ml.c5.large: 2 CPUs each; either node could take both
        ids = ready_instances(server, "spread", 2)
        nodes = {i: node_of(i) for i in ids}
        assert len(set(nodes.values())) == 2, nodes  # SPREAD: one per node
        lost = next(n for n in cluster.worker_nodes if n.node_id == nodes[ids[0]])
        cluster.remove_node(lost)  # the node's raylet and its processes are gone
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            now = ready_instances(server, "spread", 2, timeout_s=90)
            if ids[0] not in now:
                break
            time.sleep(0.2)
        replacement = next(i for i in now if i not in ids)
        assert node_of(replacement) == nodes[ids[1]]  # the surviving node took it
        assert all(api.invoke("spread", csv_row(features)).status_code == 200 for _ in range(10))
    finally:
        server.stop_thread()
        api.http.close()
