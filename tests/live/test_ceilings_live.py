"""The reconciler's last line of defence (issue 19): a store edited to ask for 10**30 instances starts no
more than the server's ceilings, with real worker processes, and DescribeEndpoint says what holds it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from greenfleet.server import Server
from greenfleet.settings import Settings
from greenfleet.store import schema
from tests.conftest import free_port
from tests.live.conftest import FAST, Api

pytestmark = pytest.mark.slow


def workers(home: Path) -> int:
    """Live worker processes of this server (by their model directory)."""
    count = 0
    for proc in Path("/proc").iterdir():
        try:
            environ = (proc / "environ").read_bytes() if proc.name.isdigit() else b""
            state = (proc / "stat").read_text().rsplit(")", 1)[-1].split()[0] if environ else "Z"
        except OSError:
            continue
        count += state != "Z" and f"SM_MODEL_DIR={home}".encode() in environ
    return count


@pytest.fixture
def small_server(tmp_path: Path) -> Iterator[Server]:
    settings = Settings(home=tmp_path / "home", port=free_port(), max_instances_per_variant=2,
                        max_instances_per_endpoint=3, max_instances_total=3, **FAST)
    server = Server(settings)
    server.start_in_thread()
    yield server
    server.stop_thread()


def test_a_stored_count_of_10_to_the_30_starts_no_more_than_the_ceiling(small_server: Server,
                                                                         sklearn_model: Path) -> None:
    api = Api(small_server.settings.base_url)
    api.deploy("storm", sklearn_model, {"a": (0.5, 1), "b": (0.5, 1)})
    row = small_server.repo.get_endpoint("storm")
    assert row is not None
    state = row["state"].copy_deep()
    for variant in state.current.variants:
        variant.desired_count = 10**30
    with small_server.engine.begin() as tx:
        tx.execute(update(schema.endpoints).where(schema.endpoints.c.name == "storm")
                   .values(state=state.model_dump(mode="json")))
    small_server.reconciler.wake()
    deadline = time.monotonic() + 30
    while True:
        variants = api.call("GET", "/api/endpoints/storm")["ProductionVariants"]
        if [v["CurrentInstanceCount"] for v in variants] == [2, 1] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert [v["CurrentInstanceCount"] for v in variants] == [2, 1]  # per variant 2, per endpoint 3
    time.sleep(1.0)  # and no more later
    instances = api.call("GET", "/api/endpoints/storm/instances")["Instances"]
    assert len(instances) == 3 and workers(small_server.settings.home) == 3
    assert "Running 2 of 1000000000000000000000000000000" in variants[0]["VariantStatus"][0]["StatusMessage"]
