"""The reconciler and the deployment driver tick by tick, with a fake instance backend (no processes): they
converge, drain, replace failed instances with a back-off that resets, keep to the instance ceilings, wait
for an address, adopt after a restart with the exact spec, and keep a pass going when one step fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update

from greenfleet.control.control_pass import FunctionStep
from greenfleet.control.instance_groups import Ceilings
from greenfleet.control.snapshot import Snapshot
from greenfleet.store import schema
from tests.control.world import ControlWorld


@pytest.fixture
def world(tmp_path: Path) -> ControlWorld:
    world = ControlWorld(tmp_path)
    world.model("m1")
    world.config("c1", "m1", count=2)
    return world


def test_converges_to_the_desired_count_and_routes_ready_instances(world: ControlWorld) -> None:
    world.endpoints.create_endpoint({"EndpointName": "e", "EndpointConfigName": "c1"})
    world.backend.ready_after_s = 1.0
    world.tick()
    assert len(world.backend.running("e")) == 2 and world.status("e") == "Creating"
    variant = world.describe("e")["ProductionVariants"][0]
    assert variant["CurrentInstanceCount"] == 0
    assert variant["VariantStatus"][0]["Status"] == "Creating"
    assert world.routed("e") == []
    world.tick(passes=2)
    assert world.status("e") == "InService"
    variant = world.describe("e")["ProductionVariants"][0]
    assert (variant["CurrentInstanceCount"], variant["CurrentWeight"]) == (2, 1.0)
    assert "VariantStatus" not in variant
    assert world.routed("e") == sorted(world.backend.instances)
    assert [i.address.host for i in world.reconciler.snapshot.instances if i.address] == ["10.0.0.7"] * 2


def test_an_instance_without_an_address_is_located_then_checked(world: ControlWorld) -> None:
    world.backend.place_after_s = 1.0
    world.endpoints.create_endpoint({"EndpointName": "e", "EndpointConfigName": "c1"})
    world.tick()
    assert [r["host"] for r in world.repo.list_instances()] == [None, None]
    assert all(i.pings == 0 for i in world.backend.instances.values()) and world.status("e") == "Creating"
    world.tick(0.6, passes=2)
    assert world.status("e") == "InService"
    assert [(r["host"], r["port"] > 0) for r in world.repo.list_instances()] == [("10.0.0.7", True)] * 2


def test_a_smaller_count_drains_after_the_table_without_the_instance_is_published(world: ControlWorld) -> None:
    world.endpoints.create_endpoint({"EndpointName": "e", "EndpointConfigName": "c1"})
    world.tick(passes=2)
    busy = world.routed("e")[0]
    for instance_id in world.routed("e"):
        world.router.outstanding.acquire(instance_id)
    world.endpoints.update_weights_and_capacities(
        {"EndpointName": "e", "DesiredWeightsAndCapacities": [{"VariantName": "a", "DesiredInstanceCount": 1}]})
    world.tick()
    draining = [i for i in world.reconciler.snapshot.instances if i.phase == "draining"]
    assert len(draining) == 1 and draining[0].in_flight == 1
    assert draining[0].instance_id not in world.routed("e")
    assert len(world.backend.running("e")) == 2  # a request is still in flight on it
    world.router.outstanding.release(draining[0].instance_id)
    world.tick(passes=2)
    assert len(world.backend.running("e")) == 1 and world.status("e") == "InService"
    assert world.describe("e")["ProductionVariants"][0]["CurrentInstanceCount"] == 1
    assert busy in world.backend.instances


def test_a_dead_instance_is_replaced_after_a_back_off_that_describe_shows(world: ControlWorld) -> None:
    world.endpoints.create_endpoint({"EndpointName": "e", "EndpointConfigName": "c1"})
    world.tick(passes=2)
    victim = world.routed("e")[0]
    world.backend.kill(victim, "out of memory")
    world.tick(0.1)
    assert victim not in world.routed("e") and len(world.backend.running("e")) == 1
    status = world.describe("e")["ProductionVariants"][0]["VariantStatus"][0]
    assert status["Status"] == "Updating"
    assert "1 replacement instance(s) held back after 1 restart(s)" in status["StatusMessage"]
    assert "out of memory" in status["StatusMessage"] and "the next start is at 20" in status["StatusMessage"]
    world.tick(0.5)
    assert len(world.backend.running("e")) == 1  # still backing off (1 s)
    world.tick(0.5, passes=2)
    assert len(world.backend.running("e")) == 2 and len(world.routed("e")) == 2


def test_the_restart_back_off_starts_over_once_an_instance_stayed_healthy(tmp_path: Path) -> None:
    world = ControlWorld(tmp_path, backoff_s=1.0, backoff_reset_s=10.0)
    world.model("m1")
    world.config("c1", "m1", count=1)
    world.endpoints.create_endpoint({"EndpointName": "e", "EndpointConfigName": "c1"})
    world.tick(passes=2)

    def crash_and_wait() -> float:
        """Kill the instance; how long until a replacement is started."""
        world.backend.kill(world.backend.running("e")[0].spec.instance_id)
        world.tick(0.1)
        died, waited = world.clock.now(), 0.0
        while not world.backend.running("e"):
            world.tick(0.25)
            waited = world.clock.now() - died
        world.tick(0.1)  # ready
        return waited

    backoffs = [crash_and_wait() for _ in range(4)]
    assert backoffs == pytest.approx([1.0, 2.0, 4.0, 8.0], abs=0.3)
    world.tick(5.0, passes=3)  # healthy for 15 s (> backoff_reset_s)
    assert crash_and_wait() == pytest.approx(1.0, abs=0.3)


def test_a_stored_count_beyond_the_ceilings_starts_no_more_than_the_ceiling(tmp_path: Path) -> None:
    world = ControlWorld(tmp_path, ceilings=Ceilings(per_variant=3, per_endpoint=4, total=5))
    world.model("m1")
    world.config("c1", "m1", count=1)
    world.config("c2", "m1", count=1, variant="b")
    world.endpoints.create_endpoint({"EndpointName": "e", "EndpointConfigName": "c1"})
    world.endpoints.create_endpoint({"EndpointName": "f", "EndpointConfigName": "c2"})
    world.tick(passes=2)
    for name in ("e", "f"):  # a bad value written straight into the store
        row = world.repo.get_endpoint(name)
        assert row is not None
        state = row["state"].copy_deep()
        state.current.variants[0].desired_count = 10**30
        with world.engine.begin() as tx:
            tx.execute(update(schema.endpoints).where(schema.endpoints.c.name == name)
                       .values(state=state.model_dump(mode="json")))
    world.tick(passes=3)
    assert len(world.backend.running("e")) == 3  # per variant
    assert len(world.backend.running("f")) == 2  # the server's total (5) holds the rest
    assert len(world.backend.instances) == 5
    variant = world.describe("e")["ProductionVariants"][0]
    assert variant["DesiredInstanceCount"] == 10**30 and variant["CurrentInstanceCount"] == 3
    assert "Running 3 of 1000000000000000000000000000000 desired instances" in variant["VariantStatus"][0][
        "StatusMessage"]


def test_adoption_mid_deployment_restores_the_exact_spec_and_records_setup_time_once(world: ControlWorld) -> None:
    world.model("m2", image="greenfleet/xgboost")
    world.config("c2", "m2", count=1)
    world.endpoints.create_endpoint({"EndpointName": "e", "EndpointConfigName": "c1"})
    world.tick(passes=2)
    world.deployments.update_endpoint({"EndpointName": "e", "EndpointConfigName": "c2", "DeploymentConfig": {
        "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
                                  "TerminationWaitInSeconds": 600}}})
    world.tick(passes=3)
    green = [i for i in world.backend.running("e") if i.spec.config_name == "c2"]
    assert len(green) == 1 and world.status("e") == "Updating"
    assert [c for _, c, _ in world.events.recorded] == ["c1", "c1", "c2"]

    world.restart()  # the server process is replaced; the instances survive
    world.tick(passes=2)
    assert sorted(world.backend.adopted) == sorted(i.spec.instance_id for i in world.backend.running("e"))
    adopted = world.reconciler.instances[green[0].spec.instance_id]
    assert adopted.spec == green[0].spec  # endpoint, fleet, config c2, variant, container of m2
    assert adopted.spec.container["Image"] == "greenfleet/xgboost" and adopted.phase == "ready"
    assert world.events.recorded == []  # ModelSetupTime is not recorded again
    world.tick(700, passes=3)
    assert world.status("e") == "InService" and world.describe("e")["EndpointConfigName"] == "c2"
    assert [i.spec.config_name for i in world.backend.running("e")] == ["c2"]


def test_a_failing_step_is_retried_while_the_others_run(world: ControlWorld) -> None:
    seen: list[float] = []

    def broken(snapshot: Snapshot) -> None:
        raise RuntimeError("the autoscaler's metric source is down")

    world.restart(extra_steps=[FunctionStep("autoscaling", broken),
                               FunctionStep("monitor", lambda s: seen.append(s.now))])
    world.endpoints.create_endpoint({"EndpointName": "e", "EndpointConfigName": "c1"})
    world.tick(passes=3)
    assert world.reconciler.order == ["instances", "routing", "autoscaling", "monitor", "deployments"]
    assert world.status("e") == "InService" and len(seen) == 3
    record = world.reconciler.control.records["autoscaling"]
    assert (record.runs, record.failures) == (3, 3) and "metric source is down" in (record.last_error or "")


def test_observed_figures_never_touch_the_desired_row(world: ControlWorld) -> None:
    """API writes compare-and-set the endpoint row; the reconciler's refresh of counts, weights and
    VariantStatus goes to the observation row, so only a status transition can make an API write retry."""
    world.endpoints.create_endpoint({"EndpointName": "e", "EndpointConfigName": "c1"})
    world.tick(passes=2)
    row = world.repo.get_endpoint("e")
    assert row is not None and row["status"] == "InService"
    world.backend.kill(world.routed("e")[0])
    world.tick(0.1)
    assert world.describe("e")["ProductionVariants"][0]["CurrentInstanceCount"] == 1
    world.tick(1.0, passes=3)
    assert world.describe("e")["ProductionVariants"][0]["CurrentInstanceCount"] == 2
    after = world.repo.get_endpoint("e")
    assert after is not None and after["revision"] == row["revision"] and after["state"] == row["state"]


def test_a_ready_instance_is_pinged_every_health_check_interval(tmp_path: Path) -> None:
    world = ControlWorld(tmp_path, health_check_interval_s=1.0)
    world.model("m1")
    world.config("c1", "m1", count=1)
    world.backend.ready_after_s = 0.5
    world.endpoints.create_endpoint({"EndpointName": "e", "EndpointConfigName": "c1"})
    world.tick(0.25, passes=3)  # starting: a ping on every pass after the start
    (instance,) = world.backend.instances.values()
    assert world.status("e") == "InService" and instance.pings == 2
    world.tick(0.25, passes=8)  # ready: 2 s of passes, one ping a second
    assert instance.pings == 4
    instance.healthy = False
    world.tick(0.5, passes=5)
    assert not instance.stopped  # two failed checks so far
    world.tick(0.5)  # the third, a second after the second
    assert instance.stopped and world.reconciler.health[next(iter(world.reconciler.health))].restarts == 1
