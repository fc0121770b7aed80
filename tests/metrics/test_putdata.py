"""PutMetricData's shapes and their validation: each error names the field at fault."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from greenfleet.clock import FakeClock
from greenfleet.errors import ValidationError
from greenfleet.metrics import MetricService
from greenfleet.metrics.timestamps import iso


@pytest.fixture
def svc(sqlite_engine: Engine, clock: FakeClock) -> MetricService:
    return MetricService(sqlite_engine, clock)


def _one(svc: MetricService, t: float, name: str = "M", period: int = 60, dims: list[Any] | None = None,
         **extra: Any) -> dict[str, Any]:
    body = {"Namespace": "App", "MetricName": name, "Dimensions": dims or [], "StartTime": t, "EndTime": t + period,
            "Period": period, "Statistics": ["SampleCount", "Sum", "Average", "Minimum", "Maximum"], **extra}
    (point,) = svc.get_metric_statistics(body)["Datapoints"]
    return point  # type: ignore[no-any-return]


def test_value_values_counts_and_statistic_values(svc: MetricService, clock: FakeClock) -> None:
    t = clock.now()
    svc.put_metric_data({"Namespace": "App", "MetricData": [
        {"MetricName": "M", "Value": 10.0, "Timestamp": t, "Unit": "Count"},
        {"MetricName": "M", "Values": [1.0, 2.0], "Counts": [3.0, 1.0], "Timestamp": t + 1, "Unit": "Count"},
        {"MetricName": "M", "StatisticValues": {"SampleCount": 4, "Sum": 40, "Minimum": 5, "Maximum": 20},
         "Timestamp": iso(t + 2), "Unit": "Count"},
    ]})
    point = _one(svc, t)
    assert (point["SampleCount"], point["Sum"], point["Minimum"], point["Maximum"]) == (9.0, 55.0, 1.0, 20.0)
    assert point["Unit"] == "Count"
    extended = svc.get_metric_statistics({"Namespace": "App", "MetricName": "M", "StartTime": t, "EndTime": t + 60,
                                          "Period": 60, "ExtendedStatistics": ["p50"]})
    assert extended["Datapoints"][0]["ExtendedStatistics"] == {"p50": None}  # a StatisticSet has no percentiles


def test_thirty_dimensions_are_allowed(svc: MetricService, clock: FakeClock) -> None:
    dims = [{"Name": f"D{i:02}", "Value": str(i)} for i in range(30)]
    svc.put_metric_data({"Namespace": "App", "MetricData": [{"MetricName": "M", "Value": 1, "Dimensions": dims}]})
    assert _one(svc, clock.now(), dims=list(reversed(dims)))["Sum"] == 1.0  # order does not matter


def test_high_resolution_points_answer_any_period(svc: MetricService, clock: FakeClock) -> None:
    t = clock.now()
    svc.put_metric_data({"Namespace": "App", "MetricData": [
        {"MetricName": "Hi", "Value": float(s), "Timestamp": t + s, "StorageResolution": 1} for s in range(60)]})
    out = svc.get_metric_statistics({"Namespace": "App", "MetricName": "Hi", "StartTime": t, "EndTime": t + 60,
                                     "Period": 7, "Statistics": ["Sum"]})
    assert [p["Sum"] for p in out["Datapoints"]] == [sum(range(k, min(k + 7, 60))) for k in range(0, 60, 7)]


BAD = [
    ({"MetricData": [{"MetricName": "M", "Value": 1}]}, "Namespace must be a non-empty string"),
    ({"Namespace": "AWS/SageMaker", "MetricData": [{"MetricName": "M", "Value": 1}]}, "AWS/ namespaces are reserved"),
    ({"Namespace": "A", "MetricData": []}, "MetricData must be a non-empty list"),
    ({"Namespace": "A", "MetricData": [{"Value": 1}]}, "MetricData.member.1.MetricName"),
    ({"Namespace": "A", "MetricData": [{"MetricName": "M"}]}, "At least one of the parameters"),
    ({"Namespace": "A", "MetricData": [{"MetricName": "M", "Value": 1, "Values": [1]}]},
     "The parameters MetricData.member.1.Value and MetricData.member.1.Values are mutually exclusive"),
    ({"Namespace": "A", "MetricData": [{"MetricName": "M", "Value": "x"}]}, "MetricData.member.1.Value must be"),
    ({"Namespace": "A", "MetricData": [{"MetricName": "M", "Value": 1}, {"MetricName": "M", "Value": float("nan")}]},
     "The value NaN for parameter MetricData.member.2.Value is invalid."),
    ({"Namespace": "A", "MetricData": [{"MetricName": "M", "Values": [1.0, float("-inf")]}]},
     "The value -Infinity for parameter MetricData.member.1.Values.member.2 is invalid."),
    ({"Namespace": "A", "MetricData": [{"MetricName": "M", "Values": [1, 2], "Counts": [1]}]},
     "MetricData.member.1.Values and MetricData.member.1.Counts must be of the same size"),
    ({"Namespace": "A", "MetricData": [{"MetricName": "M", "Values": [1.0] * 151}]}, "at most 150 values"),
    ({"Namespace": "A", "MetricData": [{"MetricName": "M", "StatisticValues": {"SampleCount": 1, "Sum": 1,
                                                                               "Minimum": 1}}]},
     "StatisticValues.Maximum is required"),
    ({"Namespace": "A", "MetricData": [{"MetricName": "M", "Value": 1, "Unit": "Parsecs"}]},
     "MetricData.member.1.Unit: 'Parsecs' is not one of"),
    ({"Namespace": "A", "MetricData": [{"MetricName": "M", "Value": 1, "StorageResolution": 5}]},
     "StorageResolution must be 1 or 60"),
    ({"Namespace": "A", "MetricData": [{"MetricName": "M", "Value": 1, "Timestamp": 0}]},
     "Timestamp must be within two weeks"),
    ({"Namespace": "A", "MetricData": [{"MetricName": "M", "Value": 1,
                                        "Dimensions": [{"Name": f"D{i}", "Value": "v"} for i in range(31)]}]},
     "at most 30 dimensions"),
    ({"Namespace": "A", "MetricData": [{"MetricName": "M", "Value": 1,
                                        "Dimensions": [{"Name": "D", "Value": "a"}, {"Name": "D", "Value": "b"}]}]},
     "'D' appears more than once"),
    ({"Namespace": "A", "MetricData": [{"MetricName": "M", "Value": 1, "Colour": "red"}]}, "unknown member(s) Colour"),
]


@pytest.mark.parametrize(("body", "message"), BAD, ids=[m for _, m in BAD])
def test_invalid_requests_name_the_field(svc: MetricService, body: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        svc.put_metric_data(body)
    assert message in caught.value.message


def test_query_validation(svc: MetricService, clock: FakeClock) -> None:
    t = clock.now()
    base = {"Namespace": "App", "MetricName": "M", "StartTime": t, "EndTime": t + 60, "Period": 60}
    for extra, message in (({"Statistics": ["Median"]}, "'Median' is not one of"),
                           ({}, "Must specify either Statistics or ExtendedStatistics"),
                           ({"ExtendedStatistics": ["p101"]}, "The value p101 for parameter ExtendedStatistics"),
                           ({"ExtendedStatistics": ["Sum"]}, "The value Sum for parameter ExtendedStatistics"),
                           ({"Statistics": ["Sum"], "Period": 0}, "Period must be a whole number"),
                           ({"Statistics": ["Sum"], "EndTime": t - 1}, "StartTime must not equal parameter EndTime"),
                           ({"Statistics": ["Sum"], "Period": 1, "EndTime": t + 7200}, "more than 1440")):
        with pytest.raises(ValidationError, match=message):
            svc.get_metric_statistics({**base, **extra})
