"""Exact alarm transitions under a fake clock: every statistic, every comparison operator, every
TreatMissingData mode, several M-of-N combinations and a metric-math alarm.

``run`` puts second k's samples at t0+k and evaluates at t0+k+1 (the range then ends with second k); it
returns (k, old state, new state) for every transition.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine

from greenfleet.alarms import ALARM, INSUFFICIENT_DATA, OK, decide
from greenfleet.clock import FakeClock

I = INSUFFICIENT_DATA  # noqa: E741
Samples = Sequence[float] | None


@pytest.fixture
def services(sqlite_engine: Engine, make_services: Callable[..., SimpleNamespace]) -> SimpleNamespace:
    return make_services(sqlite_engine)


def run(services: SimpleNamespace, seconds: Sequence[Samples], **alarm: Any) -> list[tuple[int, str, str]]:
    clock = services.clock
    t0 = clock.now()
    spec = {"AlarmName": "a", "Namespace": "Test", "MetricName": "M", "Period": 1, "EvaluationPeriods": 1,
            "Threshold": 10.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold", **alarm}
    if "ExtendedStatistic" not in spec and "Metrics" not in spec:
        spec.setdefault("Statistic", "Maximum")
    services.alarms.put_alarm(spec, now=t0)
    transitions = []
    for k, samples in enumerate(seconds):
        if samples is not None:
            services.metrics.put_metric_data({"Namespace": "Test", "MetricData": [
                {"MetricName": "M", "Values": list(samples), "Timestamp": t0 + k, "StorageResolution": 1}]},
                now=t0 + k)
        now = clock.set(t0 + k + 1) or t0 + k + 1
        transitions += [(k, t.old, t.new) for t in services.alarms.evaluate(now)]
    return transitions


STAT_SECONDS = [[1, 2, 3], [2, 2, 40], [1] * 20, [9, 10, 11, 12], [30, 30, 30], [-5, 0, 5]]


def _reference(stat: str, samples: Sequence[float]) -> float:
    values = np.asarray(samples, dtype=float)
    return {"SampleCount": float(len(values)), "Sum": float(values.sum()), "Average": float(values.mean()),
            "Minimum": float(values.min()), "Maximum": float(values.max()),
            "p50": float(np.percentile(values, 50, method="lower")),
            "p90": float(np.percentile(values, 90, method="lower")),
            "TM(0%:50%)": float(np.sort(values)[: len(values) // 2].mean()) if len(values) > 1 else values[0],
            }[stat]


def _expected(values: list[float], threshold: float, start: str = I) -> list[tuple[int, str, str]]:
    state, out = start, []
    for k, value in enumerate(values):
        new = ALARM if value >= threshold else OK
        if new != state:
            out.append((k, state, new))
            state = new
    return out


@pytest.mark.parametrize(("stat", "threshold"), [
    ("SampleCount", 4), ("Sum", 40), ("Average", 10), ("Minimum", 5), ("Maximum", 12), ("p50", 3), ("p90", 20),
    ("TM(0%:50%)", 4),
])
def test_every_statistic(services: SimpleNamespace, stat: str, threshold: float) -> None:
    key = "Statistic" if stat[0].isupper() and "(" not in stat else "ExtendedStatistic"
    transitions = run(services, STAT_SECONDS, **{key: stat}, Threshold=threshold)
    reference = [_reference(stat, s) for s in STAT_SECONDS]
    assert transitions == _expected(reference, threshold)
    assert len(transitions) >= 3  # each statistic is exercised both ways


@pytest.mark.parametrize(("operator", "expected"), [
    ("GreaterThanOrEqualToThreshold", [(0, I, OK), (1, OK, ALARM), (4, ALARM, OK)]),
    ("GreaterThanThreshold", [(0, I, OK), (2, OK, ALARM), (3, ALARM, OK)]),
    ("LessThanThreshold", [(0, I, ALARM), (1, ALARM, OK), (4, OK, ALARM)]),
    ("LessThanOrEqualToThreshold", [(0, I, ALARM), (2, ALARM, OK), (3, OK, ALARM)]),
])
def test_every_comparison_operator(services: SimpleNamespace, operator: str,
                                   expected: list[tuple[int, str, str]]) -> None:
    # the threshold is 10: the values reach it exactly at seconds 1 and 3
    assert run(services, [[5], [10], [15], [10], [5]], ComparisonOperator=operator) == expected


@pytest.mark.parametrize(("treat", "expected"), [
    # a breaching point, then the metric stops: the range (3 periods for N=1) keeps it for 2 more seconds
    ("missing", [(0, I, ALARM), (3, ALARM, I)]),
    ("ignore", [(0, I, ALARM)]),
    ("breaching", [(0, I, ALARM)]),
    ("notBreaching", [(0, I, ALARM), (3, ALARM, OK)]),
])
def test_every_missing_data_treatment_after_the_metric_stops(services: SimpleNamespace, treat: str,
                                                              expected: list[tuple[int, str, str]]) -> None:
    assert run(services, [[50], None, None, None, None, None], TreatMissingData=treat) == expected


@pytest.mark.parametrize(("treat", "expected"), [
    ("missing", [(2, I, OK)]),
    ("ignore", [(2, I, OK)]),
    ("breaching", [(0, I, ALARM), (2, ALARM, OK)]),
    ("notBreaching", [(0, I, OK)]),
])
def test_every_missing_data_treatment_before_the_metric_starts(services: SimpleNamespace, treat: str,
                                                                expected: list[tuple[int, str, str]]) -> None:
    assert run(services, [None, None, [1], [1]], TreatMissingData=treat) == expected


@pytest.mark.parametrize(("n", "m", "treat", "seconds", "expected"), [
    (3, 2, "missing", "X 0 X 0 0 X X 0", [(1, I, OK), (2, OK, ALARM), (3, ALARM, OK), (6, OK, ALARM)]),
    (3, 3, "missing", "X X X 0 X X X X", [(2, I, ALARM), (3, ALARM, OK), (6, OK, ALARM)]),
    (5, 3, "missing", "X 0 X 0 X 0 0 0 X X X", [(1, I, OK), (4, OK, ALARM), (5, ALARM, OK), (10, OK, ALARM)]),
    (4, 1, "notBreaching", "0 0 X 0 0 0 0 0", [(0, I, OK), (2, OK, ALARM), (6, ALARM, OK)]),
    # real points win over filled ones: [0, X] stays OK; [X] plus one filled breaching point is ALARM
    (2, 2, "breaching", "0 - X - - 0 0", [(0, I, OK), (4, OK, ALARM), (5, ALARM, OK)]),
    (3, 2, "ignore", "X - X - - - 0 0", [(2, I, ALARM), (6, ALARM, OK)]),
])
def test_m_out_of_n(services: SimpleNamespace, n: int, m: int, treat: str, seconds: str,
                    expected: list[tuple[int, str, str]]) -> None:
    samples: list[Samples] = [{"X": [50.0], "0": [1.0], "-": None}[s] for s in seconds.split()]
    assert run(services, samples, EvaluationPeriods=n, DatapointsToAlarm=m, TreatMissingData=treat) == expected


def test_m_out_of_n_matches_the_rule_on_random_sequences(services: SimpleNamespace, clock: FakeClock) -> None:
    rng = np.random.default_rng(7)
    seconds: list[Samples] = [None if r < 0.3 else [50.0] if r < 0.65 else [1.0] for r in rng.random(40)]
    transitions = run(services, seconds, EvaluationPeriods=4, DatapointsToAlarm=2)
    state, expected = I, []
    marks = [None if s is None else s[0] >= 10 for s in seconds]
    for k in range(len(seconds)):
        window = [marks[j] if j >= 0 else None for j in range(k - 5, k + 1)]  # the range: 4 + 2 periods
        new = decide(window, 4, 2, "missing").state or state
        if new != state:
            expected.append((k, state, new))
            state = new
    assert transitions == expected and len(transitions) > 4


def test_metric_math_alarm(services: SimpleNamespace, clock: FakeClock) -> None:
    t0 = clock.now()
    services.alarms.put_alarm({
        "AlarmName": "error-rate", "EvaluationPeriods": 1, "Threshold": 10.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "notBreaching",
        "Metrics": [
            {"Id": "rate", "Expression": "errors / requests * 100", "Label": "error %"},
            {"Id": "errors", "ReturnData": False, "MetricStat": {
                "Metric": {"Namespace": "Web", "MetricName": "Errors"}, "Period": 5, "Stat": "Sum"}},
            {"Id": "requests", "ReturnData": False, "MetricStat": {
                "Metric": {"Namespace": "Web", "MetricName": "Requests"}, "Period": 5, "Stat": "Sum"}}]}, now=t0)
    transitions = []
    for k in range(30):
        errors = 3.0 if 10 <= k < 20 else 0.0  # 3 of 20 per second = 15 %
        services.metrics.put_metric_data({"Namespace": "Web", "MetricData": [
            {"MetricName": "Errors", "Value": errors, "Timestamp": t0 + k, "StorageResolution": 1},
            {"MetricName": "Requests", "Value": 20.0, "Timestamp": t0 + k, "StorageResolution": 1}]}, now=t0 + k)
        transitions += [(k, t.old, t.new) for t in services.alarms.evaluate(t0 + k + 1)]
    # periods of 5 s aligned on the epoch: [t0+10, t0+15) completes at t0+15 (after second 14)
    assert transitions == [(0, I, OK), (14, OK, ALARM), (24, ALARM, OK)]
    alarm = services.alarms.describe_alarm("error-rate")
    assert "were not greater than or equal to the threshold (10.0)" in alarm["StateReason"] or \
           "was not greater than or equal to the threshold (10.0)" in alarm["StateReason"]
