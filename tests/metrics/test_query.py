"""GetMetricData with metric math, the safe expression evaluator, and ListMetrics."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from greenfleet.clock import FakeClock
from greenfleet.errors import ValidationError
from greenfleet.metrics import MetricService
from greenfleet.metrics.expression import Expression
from greenfleet.metrics.timestamps import iso


def test_expressions_do_arithmetic_point_by_point() -> None:
    expr = Expression("m1 / m2 * 100")
    assert expr.evaluate({"m1": [1.0, None, 3.0, 1.0], "m2": [4.0, 2.0, None, 0.0]}, 4) == [25.0, None, None, None]
    assert Expression("-(a - 2) * 3 + b / 4").evaluate({"a": [5.0], "b": [8.0]}, 1) == [-7.0]
    assert Expression("FILL(e, 0) / FILL(n, 1)").evaluate({"e": [None, 2.0], "n": [None, 4.0]}, 2) == [0.0, 0.5]
    assert Expression("ABS(x) + 1").evaluate({"x": [-2.0]}, 1) == [3.0]


@pytest.mark.parametrize("text", ["__import__('os').system('true')", "m1.real", "m1 ** 2", "m1 if m2 else 0",
                                  "[m1]", "lambda: 1", "open('x')", "m1 // 2", "M1 + 1", "'a' + m1", "m1 +"])
def test_expressions_refuse_anything_but_arithmetic(text: str) -> None:
    with pytest.raises(ValidationError):
        Expression(text)


def _seed(svc: MetricService, t: float) -> None:
    for s in range(120):
        errors = 5.0 if s < 60 else 0.0
        svc.put_metric_data({"Namespace": "Web", "MetricData": [
            {"MetricName": "Errors", "Value": errors, "Timestamp": t + s, "StorageResolution": 1},
            {"MetricName": "Requests", "Value": 50.0, "Timestamp": t + s, "StorageResolution": 1}]}, now=t + s)


def test_get_metric_data_with_math(sqlite_engine: Engine, clock: FakeClock) -> None:
    svc = MetricService(sqlite_engine, clock)
    t = clock.now()
    _seed(svc, t)

    def stat(name: str) -> dict[str, object]:
        return {"Metric": {"Namespace": "Web", "MetricName": name}, "Period": 60, "Stat": "Sum"}

    out = svc.get_metric_data({"StartTime": t, "EndTime": t + 120, "ScanBy": "TimestampAscending",
                               "MetricDataQueries": [
                                   {"Id": "rate", "Expression": "errors / requests * 100", "Label": "Error %"},
                                   {"Id": "errors", "MetricStat": stat("Errors"), "ReturnData": False},
                                   {"Id": "requests", "MetricStat": stat("Requests"), "ReturnData": False}]})
    (result,) = out["MetricDataResults"]
    assert (result["Id"], result["Label"], result["Values"]) == ("rate", "Error %", [10.0, 0.0])
    for queries, message in (
        ([{"Id": "a", "Expression": "b + 1"}, {"Id": "b", "Expression": "a * 2"}], "refers to itself"),
        ([{"Id": "a", "Expression": "zz + 1"}, {"Id": "m", "MetricStat": stat("Errors")}], "unknown id 'zz'"),
        ([{"Id": "a", "MetricStat": stat("Errors")}, {"Id": "a", "MetricStat": stat("Errors")}], "more than once"),
        ([{"Id": "A1", "MetricStat": stat("Errors")}], "not a valid id"),
    ):
        with pytest.raises(ValidationError, match=message):
            svc.get_metric_data({"StartTime": t, "EndTime": t + 120, "MetricDataQueries": queries})


def test_each_query_reads_its_own_period(sqlite_engine: Engine, clock: FakeClock) -> None:
    """GetMetricData allows a Period per MetricStat: each query's datapoints are whole periods of its own
    (aligned on the epoch); an expression takes the period of the queries it uses, which must agree."""
    svc = MetricService(sqlite_engine, clock)
    t = clock.now()  # a whole minute, not a whole two minutes: the 120-second periods start 60 s earlier
    _seed(svc, t)

    def stat(period: int) -> dict[str, object]:
        return {"Metric": {"Namespace": "Web", "MetricName": "Errors"}, "Period": period, "Stat": "Sum"}

    out = svc.get_metric_data({"StartTime": t, "EndTime": t + 120, "ScanBy": "TimestampAscending",
                               "MetricDataQueries": [{"Id": "minute", "MetricStat": stat(60)},
                                                     {"Id": "two", "MetricStat": stat(120)},
                                                     {"Id": "double", "Expression": "minute * 2"}]})
    got = {r["Id"]: (r["Label"], r["Timestamps"], r["Values"]) for r in out["MetricDataResults"]}
    assert got == {"minute": ("Errors 60", [iso(t), iso(t + 60)], [300.0, 0.0]),
                   "two": ("Errors 120", [iso(t - 60), iso(t + 60)], [300.0, 0.0]),
                   "double": ("double", [iso(t), iso(t + 60)], [600.0, 0.0])}
    mixed = [{"Id": "minute", "MetricStat": stat(60)}, {"Id": "two", "MetricStat": stat(120)},
             {"Id": "sum", "Expression": "minute + two"}]
    with pytest.raises(ValidationError, match=r"the expression of 'sum' combines queries of different periods "
                                              r"\(60 s and 120 s\); give the queries it uses the same Period"):
        svc.get_metric_data({"StartTime": t, "EndTime": t + 120, "MetricDataQueries": mixed})
    with pytest.raises(ValidationError, match="share one Period"):  # the dashboard's charts read one period
        svc.get_metric_data_values({"StartTime": t, "EndTime": t + 120, "MetricDataQueries": mixed[:2]})
    # a query's own Period member: an expression's must be its inputs'; a MetricStat's, its MetricStat's
    same = svc.get_metric_data({"StartTime": t, "EndTime": t + 120, "MetricDataQueries": [
        {"Id": "minute", "MetricStat": stat(60), "ReturnData": False},
        {"Id": "double", "Expression": "minute * 2", "Period": 60}]})
    assert same["MetricDataResults"][0]["Values"] == [0.0, 600.0]  # newest first
    for queries, message in (
            ([{"Id": "minute", "MetricStat": stat(60)}, {"Id": "e", "Expression": "minute * 2", "Period": 120}],
             "the expression of 'e' has Period 120 but the queries it uses have 60"),
            ([{"Id": "minute", "MetricStat": stat(60), "Period": 120}],
             r"MetricDataQueries.member.1.Period \(120\) differs from its MetricStat.Period \(60\)"),
            ([{"Id": "minute", "MetricStat": stat(60), "AccountId": "123456789012"}],
             "cross-account queries are not supported")):
        with pytest.raises(ValidationError, match=message):
            svc.get_metric_data({"StartTime": t, "EndTime": t + 120, "MetricDataQueries": queries})


def test_list_metrics_filters(sqlite_engine: Engine, clock: FakeClock) -> None:
    svc = MetricService(sqlite_engine, clock)
    svc.put_metric_data({"Namespace": "Web", "MetricData": [
        {"MetricName": "Hits", "Value": 1, "Dimensions": [{"Name": "Page", "Value": "home"}]},
        {"MetricName": "Hits", "Value": 1, "Dimensions": [{"Name": "Page", "Value": "cart"}]},
        {"MetricName": "Misses", "Value": 1}]})
    assert len(svc.list_metrics("Web")["Metrics"]) == 3
    assert len(svc.list_metrics("Web", "Hits")["Metrics"]) == 2
    (only,) = svc.list_metrics(dimensions=[{"Name": "Page", "Value": "cart"}])["Metrics"]
    assert only["Dimensions"] == [{"Name": "Page", "Value": "cart"}]
