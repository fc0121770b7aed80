"""CloudWatch's documented examples of alarm evaluation with missing data ("Configuring how CloudWatch
alarms treat missing data"), row by row, for each TreatMissingData value: first on the pure rule, then
through the whole service (points stored, alarm put, evaluated at the right second).

In the data points, oldest first, 0 is a non-breaching point, X a breaching one and - a missing one; the
evaluation range is 5 periods. RETAIN means "Retain current state" (ignore).
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import pytest
from sqlalchemy import Engine

from greenfleet.alarms import ALARM, INSUFFICIENT_DATA, OK, decide
from greenfleet.clock import FakeClock

RETAIN = "retain"
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")

# Datapoints to Alarm = Evaluation Periods = 3
THREE_OF_THREE = [
    ("0 - X - X", OK, OK, OK, OK),
    ("0 - - - -", OK, OK, OK, OK),
    ("- - - - -", INSUFFICIENT_DATA, RETAIN, ALARM, OK),
    ("0 X X - X", ALARM, ALARM, ALARM, ALARM),
    ("- - - - X", INSUFFICIENT_DATA, RETAIN, ALARM, OK),
    ("X - - - -", ALARM, RETAIN, ALARM, OK),
]
# Datapoints to Alarm = 2, Evaluation Periods = 3
TWO_OF_THREE = [
    ("0 - X - X", ALARM, ALARM, ALARM, ALARM),
    ("0 0 X 0 X", ALARM, ALARM, ALARM, ALARM),
    ("0 - X - -", OK, OK, ALARM, OK),
    ("- - - - 0", OK, OK, ALARM, OK),
    ("- - - - X", INSUFFICIENT_DATA, RETAIN, ALARM, OK),
]
CASES = [(3, row[0], treat, expected) for row in THREE_OF_THREE for treat, expected in zip(TREATMENTS, row[1:],
                                                                                            strict=True)]
CASES += [(2, row[0], treat, expected) for row in TWO_OF_THREE for treat, expected in zip(TREATMENTS, row[1:],
                                                                                           strict=True)]
IDS = [f"{m}of3 [{points}] {treat}" for m, points, treat, _ in CASES]


def _marks(points: str) -> list[bool | None]:
    return [{"0": False, "X": True, "-": None}[p] for p in points.split()]


@pytest.mark.parametrize(("datapoints_to_alarm", "points", "treat", "expected"), CASES, ids=IDS)
def test_rule(datapoints_to_alarm: int, points: str, treat: str, expected: str) -> None:
    decision = decide(_marks(points), 3, datapoints_to_alarm, treat)
    assert decision.state == (None if expected == RETAIN else expected)
    assert len(decision.evaluated) + decision.filled <= 3 or decision.rule == "data"


@pytest.mark.parametrize(("datapoints_to_alarm", "points", "treat", "expected"), CASES, ids=IDS)
def test_service(sqlite_engine: Engine, clock: FakeClock, make_services: Callable[..., SimpleNamespace],
                 datapoints_to_alarm: int, points: str, treat: str, expected: str) -> None:
    services = make_services(sqlite_engine)
    t0 = clock.now()
    for k, mark in enumerate(_marks(points)):
        if mark is not None:
            services.metrics.put_metric_data({"Namespace": "Doc", "MetricData": [
                {"MetricName": "M", "Value": 1.0 if mark else 0.0, "Timestamp": t0 + k, "StorageResolution": 1}]},
                now=t0 + k)
    services.alarms.put_alarm({"AlarmName": "doc", "Namespace": "Doc", "MetricName": "M", "Statistic": "Maximum",
                               "Period": 1, "EvaluationPeriods": 3, "DatapointsToAlarm": datapoints_to_alarm,
                               "Threshold": 0.5, "ComparisonOperator": "GreaterThanThreshold",
                               "TreatMissingData": treat}, now=t0)
    priors = (OK, ALARM) if expected == RETAIN else (OK,)
    for prior in priors:
        services.alarms.set_alarm_state("doc", prior, "test: prior state", now=t0 + 4.5)
        services.alarms.evaluate(t0 + 5)  # the evaluation range is t0 .. t0+4
        (state,) = services.alarms.states(["doc"]).values()
        assert state.state == (prior if expected == RETAIN else expected)
