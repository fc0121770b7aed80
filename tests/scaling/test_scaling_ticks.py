"""The scaling driver in a control plane, tick by tick on a fake clock (tests/scaling/world.py): a
target-tracking policy's own alarms drive scale-out and scale-in; new instances take traffic only once
healthy; scale-in drains in-flight requests; deployments block scaling; UpdateEndpoint refuses to remove an
autoscaled variant or change its instance type; a step policy follows the caller's alarm."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenfleet.errors import ValidationError
from tests.scaling.world import ScalingWorld


@pytest.fixture
def world(tmp_path: Path) -> ScalingWorld:
    world = ScalingWorld(tmp_path)
    world.model("m1")
    world.config("c1", "m1", count=1)
    world.backend.ready_after_s = 5.0  # an instance answers /ping 5 s after it starts
    world.endpoints.create_endpoint({"EndpointName": "e", "EndpointConfigName": "c1"})
    world.tick(1.0, passes=7)
    assert world.status("e") == "InService"
    return world


def _track(world: ScalingWorld, low: int = 1, high: int = 4, target: float = 10.0, cooldown: int = 30) -> None:
    world.scaling.register_scalable_target({**world.key(), "MinCapacity": low, "MaxCapacity": high})
    world.scaling.put_scaling_policy({**world.key(), "PolicyName": "load", "PolicyType": "TargetTrackingScaling",
                                      "TargetTrackingScalingPolicyConfiguration": {
                                          "TargetValue": target, "ScaleOutCooldown": cooldown,
                                          "ScaleInCooldown": cooldown, "CustomizedMetricSpecification": {
                                              "Namespace": "Test", "MetricName": "Load", "Statistic": "Average"}}})


def _run(world: ScalingWorld, total_load: float, seconds: int) -> None:
    """Each second: the load per serving instance, as a per-instance metric reports it, then one pass."""
    for _ in range(seconds):
        world.put("Load", total_load / max(1, len(world.routed("e"))))
        world.tick(1.0)


def test_scale_out_routes_new_instances_only_when_healthy_then_scale_in_drains(world: ScalingWorld) -> None:
    _track(world)
    for _ in range(40):
        _run(world, 30.0, 1)
        if world.desired() > 1:
            break
    assert world.desired() == 3  # ceil(1 x 30 / 10)
    (activity,) = world.activities()
    assert activity["StatusCode"] == "InProgress" and activity["Description"] == "Setting desired instance count to 3."
    assert "-AlarmHigh-" in activity["Cause"] and activity["Cause"].endswith("triggered policy load")
    _run(world, 30.0, 1)  # the next pass starts them
    assert len(world.backend.running("e")) == 3 and len(world.routed("e")) == 1  # the new ones are starting
    _run(world, 30.0, 3)
    assert len(world.routed("e")) == 1
    _run(world, 30.0, 2)
    assert len(world.routed("e")) == 3 and world.status("e") == "InService"
    _run(world, 30.0, 1)  # the scaling step reads the endpoint as the pass began
    (activity,) = world.activities()
    assert activity["StatusCode"] == "Successful" and "EndTime" in activity
    # the load falls: requests are in flight on every instance when the scale-in comes
    for instance_id in world.routed("e"):
        world.router.outstanding.acquire(instance_id)
    for _ in range(60):
        _run(world, 3.0, 1)
        if world.desired() < 3:
            break
    assert world.desired() == 1  # ceil(3 x 1 / 10)
    _run(world, 3.0, 2)
    assert len(world.routed("e")) == 1
    draining = [i for i in world.reconciler.instances.values() if i.phase == "draining"]
    assert len(draining) == 2 and all(not world.backend.instances[m.instance_id].stopped for m in draining)
    for managed in draining:
        world.router.outstanding.release(managed.instance_id)
    _run(world, 3.0, 3)
    assert len(world.backend.running("e")) == 1 and world.status("e") == "InService"
    assert [a["StatusCode"] for a in world.activities()] == ["Successful", "Successful"]


def test_no_scaling_while_a_deployment_runs_and_the_reason_is_an_activity(world: ScalingWorld) -> None:
    _track(world)
    world.model("m2")
    world.config("c2", "m2", count=1)
    world.backend.ready_after_s = 10_000.0  # the new fleet never gets healthy: the deployment keeps running
    world.deployments.update_endpoint({"EndpointName": "e", "EndpointConfigName": "c2"})  # the model only: allowed
    _run(world, 50.0, 40)
    assert world.desired() == 1
    (refused,) = world.activities(not_scaled=True)
    assert refused["StatusCode"] == "Failed"
    assert refused["NotScaledReasons"] == [{"Code": "TargetServicePutResourceAsUnscalable", "CurrentCapacity": 1}]
    assert "a deployment is running on endpoint e" in refused["Cause"]
    assert world.activities() == []  # not-scaled activities only when asked for


def test_update_endpoint_cannot_remove_an_autoscaled_variant_or_change_its_instance_type(world: ScalingWorld) -> None:
    _track(world)
    world.model("m2")
    world.models.create_endpoint_config({"EndpointConfigName": "other", "ProductionVariants": [
        {"VariantName": "b", "ModelName": "m2", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}]})
    with pytest.raises(ValidationError, match="registered as scalable targets"):
        world.deployments.update_endpoint({"EndpointName": "e", "EndpointConfigName": "other"})
    world.models.create_endpoint_config({"EndpointConfigName": "bigger", "ProductionVariants": [
        {"VariantName": "a", "ModelName": "m2", "InitialInstanceCount": 1, "InstanceType": "ml.c5.xlarge"}]})
    with pytest.raises(ValidationError, match="cannot remove them or change their instance type"):
        world.deployments.update_endpoint({"EndpointName": "e", "EndpointConfigName": "bigger"})
    world.scaling.deregister_scalable_target(world.key())
    world.deployments.update_endpoint({"EndpointName": "e", "EndpointConfigName": "bigger"})


def test_a_step_policy_follows_the_callers_alarm_and_deleting_the_endpoint_deregisters(world: ScalingWorld) -> None:
    world.scaling.register_scalable_target({**world.key(), "MinCapacity": 1, "MaxCapacity": 5})
    steps = [{"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 50, "ScalingAdjustment": 1},
             {"MetricIntervalLowerBound": 50, "ScalingAdjustment": 2}]
    arn = world.scaling.put_scaling_policy({**world.key(), "PolicyName": "steps", "PolicyType": "StepScaling",
                                            "StepScalingPolicyConfiguration": {
                                                "AdjustmentType": "ChangeInCapacity", "Cooldown": 20,
                                                "StepAdjustments": steps}})["PolicyARN"]
    world.alarms.put_alarm({"AlarmName": "queue", "Namespace": "Test", "MetricName": "Queue", "Statistic": "Maximum",
                            "Period": 10, "EvaluationPeriods": 1, "Threshold": 100,
                            "ComparisonOperator": "GreaterThanThreshold", "AlarmActions": [arn]})
    for _ in range(30):
        world.put("Queue", 180.0)  # 80 above the threshold: the +2 step
        world.tick(1.0)
        if world.desired() > 1:
            break
    assert world.desired() == 3
    assert world.activities()[0]["Cause"] == "monitor alarm queue in state ALARM triggered policy steps"
    for _ in range(25):  # still in ALARM: again after the 20 s cooldown, up to MaxCapacity
        world.put("Queue", 180.0)
        world.tick(1.0)
    assert world.desired() == 5
    world.endpoints.delete_endpoint({"EndpointName": "e"})
    world.tick(1.0, passes=3)
    assert world.scaling.describe_scalable_targets({"ServiceNamespace": "sagemaker"})["ScalableTargets"] == []


def test_a_policy_whose_second_alarm_cannot_be_made_leaves_nothing_behind(world: ScalingWorld) -> None:
    from greenfleet.errors import ResourceLimitExceeded
    from greenfleet.scaling.service import AlarmPort

    world.scaling.register_scalable_target({**world.key(), "MinCapacity": 1, "MaxCapacity": 2})
    made: list[str] = []

    def put(body: dict[str, object]) -> dict[str, object]:
        if made:
            raise ResourceLimitExceeded("at most 1 alarm may exist")
        made.append(str(body["AlarmName"]))
        return world.alarms.put_alarm(body)

    world.scaling.alarms = AlarmPort(put, world.alarms.delete_alarms)
    with pytest.raises(ResourceLimitExceeded):
        world.scaling.put_scaling_policy({**world.key(), "PolicyName": "p", "PolicyType": "TargetTrackingScaling",
                                          "TargetTrackingScalingPolicyConfiguration": {
                                              "TargetValue": 5.0, "PredefinedMetricSpecification": {
                                                  "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}}})
    assert made and world.alarms.describe_alarms() == []
    assert world.scaling.describe_scaling_policies({"ServiceNamespace": "sagemaker"})["ScalingPolicies"] == []
