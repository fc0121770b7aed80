"""Prometheus exposition of alarm states: ``greenfleet_alarm_state{alarm_name, state}`` is 1 for the
alarm's current state and 0 for the two others."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from greenfleet.alarms.spec import STATES


class AlarmCollector(Collector):
    def __init__(self, alarms: object) -> None:
        self.alarms = alarms

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("greenfleet_alarm_state", "1 for the alarm's current state, else 0",
                                   labels=["alarm_name", "state"])
        for alarm in self.alarms.describe_alarms():  # type: ignore[attr-defined]
            for state in STATES:
                family.add_metric([alarm["AlarmName"], state], 1.0 if alarm["StateValue"] == state else 0.0)
        yield family
