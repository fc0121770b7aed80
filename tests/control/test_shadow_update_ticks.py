"""UpdateEndpoint to a config with another shadow variant, tick by tick: the new config's shadow starts with
the green fleet (DescribeEndpoint's PendingDeploymentSummary lists it), the old config's shadow keeps getting
copies until the deployment succeeds and is then replaced; a rollback stops the new shadow with green and
keeps the old one. Production is served on every tick."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.control.world import ControlWorld

BLUE_GREEN = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE",
                                                                        "WaitIntervalInSeconds": 0},
                                        "TerminationWaitInSeconds": 60}}


def shadow_config(world: ControlWorld, name: str, model: str, shadow: str, shadow_model: str) -> None:
    world.models.create_endpoint_config({"EndpointConfigName": name, "ProductionVariants": [
        {"VariantName": "a", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
        "ShadowProductionVariants": [{"VariantName": shadow, "ModelName": shadow_model, "InitialInstanceCount": 1,
                                      "InstanceType": "ml.m5.large"}]})


@pytest.fixture
def world(tmp_path: Path) -> ControlWorld:
    world = ControlWorld(tmp_path)
    for model in ("m1", "m2", "shadow1", "shadow2"):
        world.model(model)
    shadow_config(world, "c1", "m1", "s1", "shadow1")
    shadow_config(world, "c2", "m2", "s2", "shadow2")
    world.endpoints.create_endpoint({"EndpointName": "e", "EndpointConfigName": "c1"})
    world.tick(passes=3)
    assert world.status("e") == "InService"
    return world


def mirrored_to(world: ControlWorld) -> dict[str, int]:
    route = world.router.table.get("e")
    assert route is not None
    return {s.target.variant_name: len(s.target.instances) for s in route.shadows}


def shadow_names(described: dict[str, Any], where: str = "") -> list[str]:
    part = described.get(where, {}) if where else described
    return [v["VariantName"] for v in part.get("ShadowProductionVariants", [])]


def test_shadow_instances_are_started_at_the_shadow_niceness_and_production_at_0(tmp_path: Path) -> None:
    world = ControlWorld(tmp_path)
    world.reconciler.shadow_niceness = 12
    world.reconciler.shadow_scheduling = "idle"
    for model in ("m1", "shadow1"):
        world.model(model)
    shadow_config(world, "c1", "m1", "s1", "shadow1")
    world.endpoints.create_endpoint({"EndpointName": "e", "EndpointConfigName": "c1"})
    world.tick(passes=2)
    assert sorted((i.spec.variant_name, i.spec.niceness, i.spec.scheduling) for i in world.backend.running("e")) == \
        [("a", 0, "normal"), ("s1", 12, "idle")]


def test_the_new_shadow_starts_with_green_and_replaces_the_old_one_when_the_deployment_succeeds(
        world: ControlWorld) -> None:
    world.deployments.update_endpoint({"EndpointName": "e", "EndpointConfigName": "c2", "DeploymentConfig": BLUE_GREEN})
    seen: list[dict[str, int]] = []
    for _ in range(6):
        world.tick()
        assert world.routed("e"), "production must be served on every tick"
        seen.append(mirrored_to(world))
        assert mirrored_to(world).get("s1") == 1  # the old shadow keeps its copies while the deployment runs
    assert {"s1": 1, "s2": 1} in seen
    described = world.describe("e")
    assert described["EndpointStatus"] == "Updating"
    assert shadow_names(described) == ["s1"]
    assert shadow_names(described, "PendingDeploymentSummary") == ["s2"]
    world.tick(70, passes=3)  # past TerminationWaitInSeconds
    described = world.describe("e")
    assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == "c2"
    assert shadow_names(described) == ["s2"] and "PendingDeploymentSummary" not in described
    world.tick(passes=3)
    assert mirrored_to(world) == {"s2": 1}
    assert sorted(i.spec.variant_name for i in world.backend.running("e")) == ["a", "s2"]


def test_a_rollback_stops_the_new_shadow_with_green_and_keeps_the_old_one(world: ControlWorld) -> None:
    world.deployments.update_endpoint({"EndpointName": "e", "EndpointConfigName": "c2", "DeploymentConfig": BLUE_GREEN})
    world.tick(passes=4)
    assert sorted(i.spec.variant_name for i in world.backend.running("e")) == ["a", "a", "s1", "s2"]
    world.deployments.command("e", "ABORT", by="test", reason="changed my mind")
    for _ in range(8):
        world.tick()
        assert world.routed("e")
    described = world.describe("e")
    assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == "c1"
    assert shadow_names(described) == ["s1"]
    world.tick(passes=3)
    assert mirrored_to(world) == {"s1": 1}
    assert sorted((i.spec.config_name, i.spec.variant_name) for i in world.backend.running("e")) == \
        [("c1", "a"), ("c1", "s1")]
