"""A control-plane world with autoscaling, for tick-by-tick tests: tests/control/world.py's (real store,
services, router, reconciler and deployment driver on a fake clock and the fake backend) plus the metric
store, the alarm service and the scaling service and driver, run as the server runs them (metrics flushed
and alarms evaluated each second, then the scaling step). Alarm periods are short (10 s, 2 datapoints high, 3
low) so that scenarios take tens of simulated seconds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from greenfleet.alarms import AlarmService
from greenfleet.control.control_pass import EverySecond, FunctionStep
from greenfleet.control.snapshot import Snapshot
from greenfleet.events import EventService
from greenfleet.metrics import MetricService
from greenfleet.scaling.alarms import AlarmShape
from greenfleet.scaling.driver import ScalingDriver
from greenfleet.scaling.machine import Limits
from greenfleet.scaling.names import ScalingArns
from greenfleet.scaling.repository import ScalingRepository
from greenfleet.scaling.service import AlarmPort, ScalingService
from tests.control.world import ControlWorld

SHAPE = AlarmShape(period_s=10, high_periods=2, low_periods=3)
DIMENSION = "sagemaker:variant:DesiredInstanceCount"


class ScalingWorld(ControlWorld):
    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.metrics = MetricService(self.engine, self.clock)
        self.event_log = EventService(self.engine, self.clock)
        self.alarms = AlarmService(self.engine, self.metrics, self.event_log, self.clock)
        self.scaling_repo = ScalingRepository(self.engine)
        self.scaling = ScalingService(self.scaling_repo, self.repo, ScalingArns("us-east-1", "123456789012"),
                                      self.clock, AlarmPort(self.alarms.put_alarm, self.alarms.delete_alarms),
                                      default_cooldown_s=300.0, shape=SHAPE)
        self.driver = ScalingDriver(self.scaling_repo, self.scaling, self.alarms, self.endpoints,
                                    limits=Limits(activity_timeout_s=600.0), shape=SHAPE)
        self.deployments.scaled_variants = lambda endpoint: {
            r["resource_id"].rsplit("/", 1)[1] for r in self.scaling_repo.list_targets()
            if r["resource_id"].startswith(f"endpoint/{endpoint}/")}
        self.restart(extra_steps=[EverySecond(FunctionStep("observability", self._observe)),
                                  EverySecond(self.driver)])

    def _observe(self, snapshot: Snapshot) -> None:
        self.metrics.flush(snapshot.now)
        self.alarms.evaluate(snapshot.now)

    def key(self, endpoint: str = "e", variant: str = "a") -> dict[str, Any]:
        return {"ServiceNamespace": "sagemaker", "ResourceId": f"endpoint/{endpoint}/variant/{variant}",
                "ScalableDimension": DIMENSION}

    def put(self, name: str, value: float) -> None:
        self.metrics.put_metric_data({"Namespace": "Test", "MetricData": [
            {"MetricName": name, "Value": value, "Timestamp": self.clock.now(), "StorageResolution": 1}]})

    def desired(self, endpoint: str = "e") -> int:
        return int(self.describe(endpoint)["ProductionVariants"][0]["DesiredInstanceCount"])

    def activities(self, not_scaled: bool = False) -> list[dict[str, Any]]:
        answer = self.scaling.describe_scaling_activities({"ServiceNamespace": "sagemaker",
                                                          "IncludeNotScaledActivities": not_scaled})
        return list(answer["ScalingActivities"])
