"""Metrics through the CLI against a live in-process server: datapoints put with the client come back from
``metrics get`` as a table and a chart; ``metrics list``; option errors."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from greenfleet.cli.metrics import bar, parse_duration, sparkline
from greenfleet.client import Client
from tests.cli.conftest import Run
from tests.client.live import unique


@pytest.fixture
def namespace(server_url: str) -> str:
    """A fresh namespace holding Latency{Service=api} in three consecutive minutes: averages 15, 40 and 80."""
    name = unique("Test/Cli")
    now = time.time()
    with Client(server_url) as client:
        client.put_metric_data(Namespace=name, MetricData=[
            {"MetricName": "Latency", "Dimensions": [{"Name": "Service", "Value": "api"}], "Values": values,
             "Unit": "Milliseconds", "Timestamp": now - age}
            for age, values in ((180, [10, 20]), (120, [40]), (60, [70, 80, 90]))])
    return name


def test_metrics_get_prints_the_datapoints_and_a_chart(run: Run, namespace: str) -> None:
    result = run("metrics", "get", "--namespace", namespace, "--metric", "Latency", "--dimension", "Service=api",
                 "--statistic", "Average", "--statistic", "Sum", "--since", "10m", "--chart")
    assert result.exit_code == 0, result.output
    rows = [[cell.strip() for cell in line.split("│")] for line in result.output.splitlines() if "Milliseconds" in line]
    assert [(row[1], row[2]) for row in rows] == [("15", "30"), ("40", "40"), ("80", "240")]
    assert [row[4] for row in rows] == ["████▌", "████████████", "█" * 24]  # bars from 0 to the highest average
    spark = next(line for line in result.output.splitlines() if line.startswith("Average  "))
    assert "▁" in spark and "█" in spark and "min 15  max 80  (3 datapoints, 60 s each)" in spark


def test_metrics_get_json_and_percentiles(run: Run, namespace: str) -> None:
    result = run("metrics", "get", "--namespace", namespace, "--metric", "Latency", "--dimension", "Service=api",
                 "--extended-statistic", "p50", "--json")
    assert result.exit_code == 0, result.output
    points = json.loads(result.stdout)["Datapoints"]
    assert [p["ExtendedStatistics"]["p50"] for p in points] == pytest.approx([10, 40, 80], rel=0.02)
    assert "Average" not in points[0]


def test_client_get_metric_data_takes_datetimes(server_url: str, namespace: str) -> None:
    metric = {"Namespace": namespace, "MetricName": "Latency", "Dimensions": [{"Name": "Service", "Value": "api"}]}
    now = datetime.now(UTC)
    with Client(server_url) as client:
        answer = client.get_metric_data(
            MetricDataQueries=[{"Id": "m1", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"},
                                "ReturnData": False}, {"Id": "e1", "Expression": "m1*2"}],
            StartTime=now - timedelta(minutes=10), EndTime=now, ScanBy="TimestampAscending")
    assert [(r["Id"], r["Values"]) for r in answer["MetricDataResults"]] == [("e1", [60, 80, 480])]


def test_metrics_get_without_data(run: Run) -> None:
    result = run("metrics", "get", "--namespace", "Test/Nothing", "--metric", unique("m"), "--chart")
    assert result.exit_code == 0 and "No datapoints" in result.output


def test_metrics_list(run: Run, namespace: str) -> None:
    listed = run("metrics", "list", "--namespace", namespace)
    assert listed.exit_code == 0, listed.output
    assert "Latency" in listed.output and "Service=api" in listed.output
    doc = json.loads(run("metrics", "list", "--namespace", namespace, "--dimension", "Service", "--json").stdout)
    assert [m["MetricName"] for m in doc["Metrics"]] == ["Latency"]
    assert json.loads(run("metrics", "list", "--namespace", namespace, "--dimension", "Other",
                          "--json").stdout) == {"Metrics": []}


@pytest.mark.parametrize(("args", "message"), [
    (("--since", "ten minutes"), "expected a duration such as 30s"),
    (("--since", "0m"), "the duration must be positive"),
    (("--statistic", "Median"), "'Median' is not one of"),
    (("--period", "0"), "--period"),
    (("--dimension", "Service"), "expected KEY=VALUE"),
])
def test_metrics_get_option_errors(run: Run, args: tuple[str, ...], message: str) -> None:
    result = run("metrics", "get", "--metric", "Latency", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_server_rejects_a_bad_percentile(run: Run) -> None:
    result = run("metrics", "get", "--metric", "Latency", "--extended-statistic", "p101")
    assert result.exit_code == 1 and "ValidationException" in result.output


def test_chart_helpers() -> None:
    assert parse_duration("1h30m") == 5400 and parse_duration("90") == 90
    assert sparkline([0, None, 7]) == "▁ █" and sparkline([3, 3]) == "▄▄" and sparkline([None]) == ""
    assert bar(4, 0, 8, width=2) == "█" and bar(1, 0, 8, width=2) == "▎" and bar(0, 0, 0) == ""
