from __future__ import annotations

import pytest

from greenfleet.rollout.plans import (
    batch_instances,
    compile_plan,
    green_share,
    rollback_plan,
    rollback_targets,
    rolling_targets,
    traffic_steps,
)
from greenfleet.rollout.policy import CapacitySize, TrafficRoutingConfig, parse_deployment_config
from greenfleet.rollout.state import Strategy

from .world import fleet


def routing(kind: str, size_type: str = "", value: int = 0, wait: int = 60) -> TrafficRoutingConfig:
    size = {"Type": size_type, "Value": value} if size_type else None
    return TrafficRoutingConfig.model_validate(
        {
            "Type": kind,
            "WaitIntervalInSeconds": wait,
            **({"CanarySize": size} if kind == "CANARY" else {}),
            **({"LinearStepSize": size} if kind == "LINEAR" else {}),
        }
    )


def percents(r: TrafficRoutingConfig | None, green: int = 3) -> list[tuple[int, float]]:
    return [(s.percent, s.bake_s) for s in traffic_steps(r, green)]


def test_default_is_all_at_once_without_bake() -> None:
    assert percents(None) == [(100, 0.0)]


def test_all_at_once_bakes_the_wait_interval() -> None:
    assert percents(routing("ALL_AT_ONCE", wait=60)) == [(100, 60.0)]


def test_canary_instance_count_is_a_share_of_green_capacity() -> None:
    assert percents(routing("CANARY", "INSTANCE_COUNT", 1), green=3) == [(33, 60.0), (100, 0.0)]
    assert percents(routing("CANARY", "INSTANCE_COUNT", 1), green=8) == [(13, 60.0), (100, 0.0)]  # 12.5 -> 13


def test_canary_percent_is_the_traffic_share() -> None:
    assert percents(routing("CANARY", "CAPACITY_PERCENT", 10)) == [(10, 60.0), (100, 0.0)]


def test_linear_instance_count_steps_by_instances() -> None:
    assert percents(routing("LINEAR", "INSTANCE_COUNT", 1), green=3) == [(33, 60.0), (67, 60.0), (100, 60.0)]
    assert [p for p, _ in percents(routing("LINEAR", "INSTANCE_COUNT", 2), green=5)] == [40, 80, 100]


def test_linear_percent_adds_the_step_until_100() -> None:
    assert [p for p, _ in percents(routing("LINEAR", "CAPACITY_PERCENT", 33))] == [33, 66, 99, 100]
    assert [p for p, _ in percents(routing("LINEAR", "CAPACITY_PERCENT", 50))] == [50, 100]


@pytest.mark.parametrize(
    ("size", "total", "expected"),
    [
        (None, 6, 6),
        (CapacitySize(Type="INSTANCE_COUNT", Value=2), 6, 2),
        (CapacitySize(Type="CAPACITY_PERCENT", Value=25), 6, 1),  # 1.5 rounded down
        (CapacitySize(Type="CAPACITY_PERCENT", Value=50), 4, 2),
        (CapacitySize(Type="CAPACITY_PERCENT", Value=5), 4, 1),  # never less than one instance
    ],
)
def test_batch_instances(size: CapacitySize | None, total: int, expected: int) -> None:
    assert batch_instances(size, total) == expected


def test_rolling_targets() -> None:
    assert rolling_targets(4, 4, 1) == [(1, 3), (2, 2), (3, 1), (4, 0)]
    assert rolling_targets(5, 5, 2) == [(2, 3), (4, 1), (5, 0)]
    assert rolling_targets(2, 4, 1) == [(1, 2), (2, 0)]  # blue shrinks in proportion
    assert rolling_targets(4, 2, 1) == [(1, 2), (2, 1), (3, 1), (4, 0)]


def test_rollback_targets() -> None:
    assert rollback_targets(1, 4, 3, 1) == [(2, 2), (3, 1), (4, 0)]
    assert rollback_targets(1, 4, 3, 4) == [(4, 0)]
    assert rollback_targets(4, 4, 4, 1) == [(4, 0)]  # blue intact: one step


def test_green_share_edges() -> None:
    assert green_share(0, 3) == 0
    assert green_share(3, 0) == 100
    assert green_share(1, 200) == 1  # never rounded to nothing
    assert green_share(200, 1) == 99  # never rounded to everything


def test_rolling_plan_moves_traffic_with_capacity() -> None:
    batch = {"Type": "INSTANCE_COUNT", "Value": 2}
    config = parse_deployment_config({"RollingUpdatePolicy": {"MaximumBatchSize": batch, "WaitIntervalInSeconds": 30}})
    strategy, plan, termination = compile_plan(config, fleet("c1", 4), fleet("c2", 4))
    assert strategy is Strategy.ROLLING and termination == 0.0
    assert [(s.fleets["c1"]["AllTraffic"], s.fleets["c2"]["AllTraffic"]) for s in plan] == [(4, 2), (2, 4)]
    assert [s.traffic["c2"] for s in plan] == [50, 100]
    assert [s.await_ready for s in plan] == [{"c2": {"AllTraffic": 2}}, {"c2": {"AllTraffic": 4}}]


def test_blue_green_rollback_is_one_immediate_stage() -> None:
    blue, green = fleet("c1"), fleet("c2")
    (stage,) = rollback_plan({"c1": blue.counts(), "c2": green.counts()}, blue, green, None)
    assert stage.traffic == {"c1": 100, "c2": 0}
    assert stage.await_ready == {}  # blue is intact: traffic moves back at once
    assert stage.fleets["c2"] == {"AllTraffic": 3}  # green stops only after the rollback


def test_rolling_rollback_in_batches() -> None:
    blue, green = fleet("c1", 4), fleet("c2", 4)
    plan = rollback_plan(
        {"c1": {"AllTraffic": 1}, "c2": {"AllTraffic": 3}}, blue, green, CapacitySize(Type="INSTANCE_COUNT", Value=1)
    )
    assert [(s.fleets["c1"]["AllTraffic"], s.fleets["c2"]["AllTraffic"]) for s in plan] == [(2, 3), (3, 2), (4, 1)]
    assert [s.traffic["c1"] for s in plan] == [50, 75, 100]
    assert [s.await_ready for s in plan] == [{"c1": {"AllTraffic": n}} for n in (2, 3, 4)]
