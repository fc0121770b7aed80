"""Named deployments used across the rollout tests: every mode and size type."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from greenfleet.rollout import Action, FleetSpec, Limits, RolloutState, begin, parse_deployment_config

from .world import FakeWorld, fleet

ALARMS = {"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "errors"}, {"AlarmName": "latency"}]}}
LIMITS = Limits(default_timeout_s=3600.0, drain_timeout_s=15.0, rollback_timeout_s=120.0)


def blue_green(kind: str, wait: int, size: tuple[str, int] | None = None, termination: int = 0) -> dict[str, Any]:
    routing: dict[str, Any] = {"Type": kind, "WaitIntervalInSeconds": wait}
    if size is not None:
        routing["CanarySize" if kind == "CANARY" else "LinearStepSize"] = {"Type": size[0], "Value": size[1]}
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": termination,
            "MaximumExecutionTimeoutInSeconds": 3600,
        },
        **ALARMS,
    }


def rolling(batch: tuple[str, int], wait: int, rollback: tuple[str, int] | None = None) -> dict[str, Any]:
    policy: dict[str, Any] = {
        "MaximumBatchSize": {"Type": batch[0], "Value": batch[1]},
        "WaitIntervalInSeconds": wait,
        "MaximumExecutionTimeoutInSeconds": 3600,
    }
    if rollback is not None:
        policy["RollbackMaximumBatchSize"] = {"Type": rollback[0], "Value": rollback[1]}
    return {"RollingUpdatePolicy": policy, **ALARMS}


@dataclass(frozen=True)
class Scenario:
    config: dict[str, Any] | None
    size: int = 3
    green_shares: list[int] = field(default_factory=list)
    """Green's traffic shares in order over a successful run."""

    def start(self, world: FakeWorld | None = None) -> tuple[RolloutState, FakeWorld, list[Action]]:
        blue, green = fleet("c1", self.size), fleet("c2", self.size)
        world = world or FakeWorld()
        world.run_fleet(blue)
        config = parse_deployment_config(self.config, strict_minimums=False) if self.config is not None else None
        state, actions = begin(
            deployment_id="d-1",
            endpoint_name="ep",
            blue=blue,
            green=green,
            config=config,
            now=0.0,
            limits=LIMITS,
        )
        world.apply(actions, 0.0)
        return state, world, actions

    @property
    def blue(self) -> FleetSpec:
        return fleet("c1", self.size)


SCENARIOS = {
    "default": Scenario(None, green_shares=[0, 100]),
    "all_at_once": Scenario(blue_green("ALL_AT_ONCE", 30, termination=20), green_shares=[0, 100]),
    "canary_count": Scenario(
        blue_green("CANARY", 30, ("INSTANCE_COUNT", 1), termination=20), green_shares=[0, 33, 100]
    ),
    "canary_percent": Scenario(blue_green("CANARY", 30, ("CAPACITY_PERCENT", 10)), green_shares=[0, 10, 100]),
    "linear_count": Scenario(
        blue_green("LINEAR", 20, ("INSTANCE_COUNT", 1), termination=10), green_shares=[0, 33, 67, 100]
    ),
    "linear_percent": Scenario(blue_green("LINEAR", 20, ("CAPACITY_PERCENT", 50)), green_shares=[0, 50, 100]),
    "rolling_count": Scenario(rolling(("INSTANCE_COUNT", 1), 20), size=4, green_shares=[0, 25, 50, 75, 100]),
    "rolling_percent": Scenario(rolling(("CAPACITY_PERCENT", 50), 20), size=4, green_shares=[0, 50, 100]),
    "rolling_rollback_batches": Scenario(
        rolling(("INSTANCE_COUNT", 1), 20, rollback=("INSTANCE_COUNT", 1)), size=4, green_shares=[0, 25, 50, 75, 100]
    ),
}


# --- GreenfleetRollout -------------------------------------------------------------------------------

LATENCY = {
    "Name": "latency",
    "MetricName": "ModelLatency",
    "Test": "MANN_WHITNEY",
    "Direction": "INCREASE",
    "Critical": True,
    "AllowedIncrease": 1.1,
    "CriticalIncrease": 1.5,
    "MinSamples": 30,
}
ERRORS = {
    "Name": "errors",
    "MetricName": "Invocation5XXErrors",
    "Test": "SEQUENTIAL_PROPORTION",
    "Direction": "INCREASE",
    "Critical": True,
    "MinSamples": 100,
}
JUDGE: dict[str, Any] = {"Metrics": [LATENCY, ERRORS], "IntervalInSeconds": 30, "NoDataLimit": 2}


def webhook(name: str, point: str, **extra: Any) -> dict[str, Any]:
    return {"Name": name, "Point": point, "Url": f"https://hooks.example/{name}", **extra}


def extended(config: dict[str, Any] | None, **extension: Any) -> dict[str, Any]:
    """``config`` with a GreenfleetRollout member (a copy)."""
    return {**(config or {}), "GreenfleetRollout": extension}


def step_list(
    *steps: tuple[int, int],
    approvals: tuple[int, ...] = (),
    termination: int = 0,
    timeout: int = 3600,
    **extension: Any,
) -> dict[str, Any]:
    """Blue/green with GreenfleetRollout.Steps [(percent, bake)], approvals at those step indexes."""
    config: dict[str, Any] = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
            "TerminationWaitInSeconds": termination,
            "MaximumExecutionTimeoutInSeconds": timeout,
        },
        **ALARMS,
    }
    listed = [
        {"TrafficPercent": p, "BakeInSeconds": b, **({"RequireApproval": True} if i in approvals else {})}
        for i, (p, b) in enumerate(steps)
    ]
    return extended(config, Steps=listed, **extension)


STEPS = step_list((1, 20), (5, 20), (25, 20), (50, 20), (100, 0))
