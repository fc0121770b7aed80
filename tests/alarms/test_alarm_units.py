"""An alarm that names a Unit reads only the points sent in that unit, as GetMetricData does (issue 20)."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

from sqlalchemy import Engine

from greenfleet.alarms import ALARM, OK
from greenfleet.clock import FakeClock
from tests.observability_support import tick

ALARM_BODY = {"Namespace": "Shop", "MetricName": "Wait", "Statistic": "Maximum", "Period": 60,
              "EvaluationPeriods": 1, "Threshold": 10.0, "ComparisonOperator": "GreaterThanThreshold",
              "TreatMissingData": "notBreaching"}


def test_an_alarm_naming_a_unit_sees_only_that_units_points(
        sqlite_engine: Engine, make_services: Callable[..., SimpleNamespace], clock: FakeClock) -> None:
    services = make_services(sqlite_engine)
    for name, unit in (("in-seconds", "Seconds"), ("in-bytes", "Bytes"), ("any-unit", None)):
        services.alarms.put_alarm({**ALARM_BODY, "AlarmName": name, **({"Unit": unit} if unit else {})})
    for _ in range(60):
        services.metrics.put_metric_data({"Namespace": "Shop", "MetricData": [
            {"MetricName": "Wait", "Value": 50.0, "Unit": "Seconds", "Timestamp": clock.now()},
            {"MetricName": "Wait", "Value": 1.0, "Timestamp": clock.now()}]})
        tick(services)
    tick(services)
    states = services.alarms.states(["in-seconds", "in-bytes", "any-unit"])
    assert {name: status.state for name, status in states.items()} == \
        {"in-seconds": ALARM, "in-bytes": OK, "any-unit": ALARM}  # no Bytes points: missing, not breaching
    # the Seconds alarm's reason shows the Seconds points only
    assert "[50.0 (" in services.alarms.describe_alarm("in-seconds")["StateReason"]
