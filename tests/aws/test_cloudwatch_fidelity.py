"""Where greenfleet's CloudWatch answers as CloudWatch does (issue 20), through boto3 against a live server:
units, default labels, ARN alarm actions, DeleteAlarms of unknown names, error codes and texts."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from greenfleet.server import Server
from tests.aws.servers import running_server
from tests.aws.test_cloudwatch_boto3 import cloudwatch, put_alarm

SNS = "arn:aws:sns:us-east-1:123456789012:ops-pager"
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:restart-model"
EC2 = "arn:aws:automate:us-east-1:ec2:reboot"
OPSITEM = "arn:aws:ssm:us-east-1:123456789012:opsitem:2#CATEGORY=Availability"


def message_of(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    response: Any = info.value.response
    return response["Error"]["Code"], response["Error"]["Message"]


def stat(metric: str, stat_name: str = "SampleCount", period: int = 60, unit: str | None = None,
         **query: Any) -> dict[str, Any]:
    ms: dict[str, Any] = {"Metric": {"Namespace": "Shop", "MetricName": metric}, "Period": period,
                          "Stat": stat_name}
    if unit:
        ms["Unit"] = unit
    return {"MetricStat": ms, **query}


def test_a_unit_selects_the_points_sent_in_that_unit(cw: Any) -> None:
    now = datetime.now(UTC)
    cw.put_metric_data(Namespace="Shop", MetricData=[
        {"MetricName": "Wait", "Value": 50.0, "Unit": "Seconds", "Timestamp": now},
        {"MetricName": "Wait", "Value": 7.0, "Unit": "Seconds", "Timestamp": now},
        {"MetricName": "Wait", "Value": -50.0, "Timestamp": now}])
    window = {"StartTime": now - timedelta(seconds=60), "EndTime": now + timedelta(seconds=60)}
    results = cw.get_metric_data(**window, MetricDataQueries=[
        {"Id": "all", **stat("Wait")}, {"Id": "seconds", **stat("Wait", unit="Seconds")},
        {"Id": "none", **stat("Wait", unit="None")}, {"Id": "bytes", **stat("Wait", unit="Bytes")}])
    assert {r["Id"]: r["Values"] for r in results["MetricDataResults"]} == \
        {"all": [3.0], "seconds": [2.0], "none": [1.0], "bytes": []}

    def statistics(**unit: str) -> list[tuple[str, float, float]]:
        points = cw.get_metric_statistics(Namespace="Shop", MetricName="Wait", Period=60,
                                          Statistics=["SampleCount", "Sum"], **window, **unit)["Datapoints"]
        return sorted((p["Unit"], p["SampleCount"], p["Sum"]) for p in points)

    assert statistics(Unit="Seconds") == [("Seconds", 2.0, 57.0)]
    assert statistics(Unit="Milliseconds") == []
    assert statistics() == [("None", 1.0, -50.0), ("Seconds", 2.0, 57.0)]  # each unit's points apart
    assert [m["MetricName"] for m in cw.list_metrics(Namespace="Shop")["Metrics"]] == ["Wait"]  # one metric


def test_default_labels_name_the_stat_and_period_only_when_needed(cw: Any) -> None:
    now = datetime.now(UTC)
    cw.put_metric_data(Namespace="Shop", MetricData=[
        {"MetricName": name, "Value": 1.0, "Timestamp": now} for name in ("Orders", "Refunds")])
    window = {"StartTime": now - timedelta(seconds=60), "EndTime": now + timedelta(seconds=60)}

    def labels(*queries: dict[str, Any]) -> dict[str, str]:
        answer = cw.get_metric_data(**window, MetricDataQueries=[{"Id": f"q{i}", **q} for i, q in
                                                                   enumerate(queries)])
        return {r["Id"]: r["Label"] for r in answer["MetricDataResults"]}

    assert labels(stat("Orders", "Sum")) == {"q0": "Orders"}
    assert labels(stat("Orders", "Average"), stat("Orders", "Sum"), stat("Refunds", "Sum")) == \
        {"q0": "Orders Average", "q1": "Orders Sum", "q2": "Refunds"}
    assert labels(stat("Orders", "Sum"), stat("Orders", "Sum", Label="mine")) == {"q0": "Orders", "q1": "mine"}


def test_time_windows_are_compared_to_the_second_with_cloudwatch_codes(cw: Any) -> None:
    """StartTime not before EndTime (to the second) is a ValidationError in both operations, as issue 20
    item 6 asks."""
    now = datetime.now(UTC).replace(microsecond=0)
    query = [{"Id": "q", **stat("Orders")}]
    expected = ("ValidationError", "The parameter StartTime must not equal parameter EndTime.")
    for start, end in ((now.replace(microsecond=20_000), now.replace(microsecond=987_000)), (now, now),
                       (now + timedelta(seconds=1), now)):
        with pytest.raises(ClientError) as info:
            cw.get_metric_data(StartTime=start, EndTime=end, MetricDataQueries=query)
        assert message_of(info) == expected
        with pytest.raises(ClientError) as info:
            cw.get_metric_statistics(Namespace="Shop", MetricName="Orders", Period=60, Statistics=["Sum"],
                                     StartTime=start, EndTime=end)
        assert message_of(info) == expected


def test_nan_and_infinity_are_refused_naming_the_member(cw: Any) -> None:
    now = datetime.now(UTC)
    for data, where, text in (
            ([{"MetricName": "m", "Value": 1.0}, {"MetricName": "m", "Value": float("nan")}],
             "MetricData.member.2.Value", "NaN"),
            ([{"MetricName": "m", "Values": [1.0, float("inf")], "Timestamp": now}],
             "MetricData.member.1.Values.member.2", "Infinity"),
            ([{"MetricName": "m", "StatisticValues": {"SampleCount": 1.0, "Sum": float("nan"), "Minimum": 1.0,
                                                      "Maximum": 1.0}}], "MetricData.member.1.StatisticValues.Sum",
             "NaN")):
        with pytest.raises(ClientError) as info:
            cw.put_metric_data(Namespace="Shop", MetricData=data)
        assert message_of(info) == ("InvalidParameterValue", f"The value {text} for parameter {where} is invalid.")
    assert cw.list_metrics(Namespace="Shop")["Metrics"] == []  # nothing of a refused request is kept


def test_queries_of_different_periods_in_one_request(cw: Any) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    cw.put_metric_data(Namespace="Shop", MetricData=[
        {"MetricName": "Orders", "Value": 1.0, "Timestamp": now - timedelta(minutes=m)} for m in range(1, 6)])
    answer = cw.get_metric_data(StartTime=now - timedelta(minutes=10), EndTime=now, ScanBy="TimestampAscending",
                                MetricDataQueries=[{"Id": "minute", **stat("Orders", "Sum", 60)},
                                                   {"Id": "ten", **stat("Orders", "Sum", 600)}])
    got = {r["Id"]: (r["Label"], len(r["Values"]), sum(r["Values"])) for r in answer["MetricDataResults"]}
    assert got["minute"] == ("Orders 60", 5, 5.0)
    assert got["ten"][0] == "Orders 600" and got["ten"][2] == 5.0 and got["ten"][1] in (1, 2)  # 10-min periods
    with pytest.raises(ClientError) as info:
        cw.get_metric_data(StartTime=now - timedelta(minutes=10), EndTime=now, MetricDataQueries=[
            {"Id": "minute", **stat("Orders", "Sum", 60)}, {"Id": "ten", **stat("Orders", "Sum", 600)},
            {"Id": "both", "Expression": "minute + ten"}])
    assert message_of(info)[0] == "InvalidParameterValue"
    assert "combines queries of different periods (60 s and 600 s)" in message_of(info)[1]


def test_error_codes_and_texts_as_cloudwatch_writes_them(cw: Any) -> None:
    now = datetime.now(UTC)
    member = "MetricData.member.1"
    cases: list[tuple[dict[str, Any], tuple[str, str]]] = [
        ({"Value": 1.0, "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}},
         ("InvalidParameterCombination", f"The parameters {member}.Value and {member}.StatisticValues are "
                                         "mutually exclusive and you have specified both.")),
        ({"Value": 1.0, "Values": [1.0, 2.0]},
         ("InvalidParameterValue", f"The parameters {member}.Value and {member}.Values are mutually exclusive "
                                   "and you have specified both.")),
        ({"Values": [1.0, 2.0], "Counts": [1.0]},
         ("InvalidParameterValue", f"The parameters {member}.Values and {member}.Counts must be of the same "
                                   "size.")),
    ]
    for datum, expected in cases:
        with pytest.raises(ClientError) as info:
            cw.put_metric_data(Namespace="Shop", MetricData=[{"MetricName": "m", **datum}])
        assert message_of(info) == expected
    with pytest.raises(ClientError) as info:
        cw.put_metric_data(Namespace="Shop", MetricData=[{"MetricName": "m"}])
    assert message_of(info)[0] == "InvalidParameterCombination"
    with pytest.raises(ClientError) as info:
        cw.get_metric_statistics(Namespace="Shop", MetricName="m", Period=60, StartTime=now - timedelta(minutes=1),
                                 EndTime=now)
    assert message_of(info) == ("InvalidParameterCombination", "Must specify either Statistics or "
                                                               "ExtendedStatistics")
    with pytest.raises(ClientError) as info:
        cw.put_metric_alarm(AlarmName="x", Namespace="Shop", MetricName="m", ExtendedStatistic="90", Period=60,
            EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold")
    assert message_of(info) == ("InvalidParameterValue", "The value 90 for parameter ExtendedStatistic is not "
                                                         "supported.")
    with pytest.raises(ClientError) as info:
        cw.put_metric_alarm(AlarmName="x", Namespace="Shop", MetricName="m", ExtendedStatistic="p90", Period=60,
                            EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold",
                            EvaluateLowSampleCountPercentile="unknown")
    assert message_of(info) == ("ValidationError", "Option unknown is not supported. Supported options for "
                                                   "parameter EvaluateLowSampleCountPercentile are evaluate and "
                                                   "ignore.")


def test_a_bad_next_token_is_refused_in_cloudwatchs_words(cw: Any) -> None:
    for call in (lambda: cw.list_metrics(NextToken="junk"), lambda: cw.describe_alarms(NextToken="junk")):
        with pytest.raises(ClientError) as info:
            call()
        assert message_of(info) == ("InvalidNextToken", "Request parameter NextToken is invalid")


def test_delete_alarms_of_unknown_names_succeeds(cw: Any) -> None:
    put_alarm(cw, "kept")
    put_alarm(cw, "gone")
    cw.delete_alarms(AlarmNames=["gone", "never-existed"])
    assert [a["AlarmName"] for a in cw.describe_alarms()["MetricAlarms"]] == ["kept"]
    cw.delete_alarms(AlarmNames=["never-existed"])


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        _Hook.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def hook() -> Iterator[str]:
    _Hook.received = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/sns"
    httpd.shutdown()
    httpd.server_close()


def test_arn_actions_are_stored_and_delivered_where_mapped(tmp_path: Path, hook: str) -> None:
    with running_server(tmp_path / "home", alarm_action_webhooks={SNS: hook}) as server:
        cw = cloudwatch(server)
        put_alarm(cw, "pager", AlarmActions=[SNS, LAMBDA], OKActions=[EC2], InsufficientDataActions=[OPSITEM])
        [alarm] = cw.describe_alarms(AlarmNames=["pager"])["MetricAlarms"]
        assert (alarm["AlarmActions"], alarm["OKActions"], alarm["InsufficientDataActions"]) == \
            ([SNS, LAMBDA], [EC2], [OPSITEM])
        for malformed in ("arn:aws:sns:us-east-1:1:topic", "arn:aws:automate:us-east-1:ec2:explode",
                          "arn:aws:lambda:us-east-1:123456789012:fn"):
            with pytest.raises(ClientError) as info:
                put_alarm(cw, "bad", AlarmActions=[malformed])
            assert message_of(info) == ("ValidationError", f"Invalid arn syntax: {malformed}")

        cw.set_alarm_state(AlarmName="pager", StateValue="ALARM", StateReason="testing")
        actions = wait_for_actions(cw, "pager", 2)
        assert _Hook.received[0]["AlarmName"] == "pager" and _Hook.received[0]["NewStateValue"] == "ALARM"
        assert actions[SNS]["actionState"] == "Succeeded"
        assert actions[LAMBDA]["actionState"] == "Failed"
        assert "GREENFLEET_ALARM_ACTION_WEBHOOKS" in actions[LAMBDA]["summary"]


def wait_for_actions(cw: Any, name: str, count: int) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + 15
    while True:
        items = cw.describe_alarm_history(AlarmName=name, HistoryItemType="Action")["AlarmHistoryItems"]
        if len(items) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    found = {}
    for item in items:
        data = json.loads(item["HistoryData"])
        found[data["notificationResource"]] = {**data, "summary": item["HistorySummary"]}
    assert len(found) == count, items
    return found


@pytest.fixture
def cw(server: Server) -> Iterator[Any]:
    yield cloudwatch(server)
