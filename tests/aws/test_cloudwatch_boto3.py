"""boto3's cloudwatch client (the installed botocore: AWS JSON 1.0) against greenfleet, unchanged."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import botocore
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from greenfleet.server import Server

HOOK = "http://127.0.0.1:9/alarm-hook"  # webhook actions: nothing listens, deliveries just fail


def cloudwatch(server: Server, **config: Any) -> Any:
    return boto3.client("cloudwatch", endpoint_url=server.settings.base_url, region_name="us-east-1",
                        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                        config=Config(retries={"max_attempts": 1}, **config))


@pytest.fixture
def cw(server: Server) -> Iterator[Any]:
    yield cloudwatch(server)


def error_of(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response: Any = info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def put_alarm(cw: Any, name: str, **extra: Any) -> None:
    """An alarm on an hourly period: it cannot be evaluated during a test, so its state and history only
    change through the calls the test makes (SetAlarmState holds until the next period completes)."""
    cw.put_metric_alarm(**{"AlarmName": name, "MetricName": "Latency", "Namespace": "Shop",
                           "Dimensions": [{"Name": "Endpoint", "Value": "checkout"}], "Statistic": "Average",
                           "Period": 3600, "EvaluationPeriods": 1, "Threshold": 100.0,
                           "ComparisonOperator": "GreaterThanThreshold", **extra})


def test_the_client_speaks_json_1_0(cw: Any) -> None:
    assert botocore.__version__ >= "1.42.7"
    assert cw.meta.service_model.resolved_protocol == "json"


def test_metric_data_round_trip(cw: Any) -> None:
    now = time.time()
    dims = [{"Name": "Endpoint", "Value": "checkout"}]
    cw.put_metric_data(Namespace="Shop", MetricData=[
        {"MetricName": "Latency", "Dimensions": dims, "Values": [10.0, 20.0, 30.0], "Unit": "Milliseconds"},
        {"MetricName": "Errors", "Dimensions": dims, "Value": 1.0, "Timestamp": now - 30},
        {"MetricName": "Latency", "Dimensions": [{"Name": "Endpoint", "Value": "search"}], "Value": 5.0}])

    stats = cw.get_metric_statistics(Namespace="Shop", MetricName="Latency", Dimensions=dims, StartTime=now - 600,
                                     EndTime=now + 60, Period=60, Statistics=["SampleCount", "Average", "Maximum"],
                                     ExtendedStatistics=["p50"])
    assert stats["Label"] == "Latency"
    [point] = stats["Datapoints"]
    assert (point["SampleCount"], point["Average"], point["Maximum"]) == (3.0, 20.0, 30.0)
    assert point["ExtendedStatistics"]["p50"] == pytest.approx(20.0, rel=0.02)
    assert point["Unit"] == "Milliseconds" and point["Timestamp"].tzinfo is not None

    data = cw.get_metric_data(StartTime=now - 600, EndTime=now + 60, MetricDataQueries=[
        {"Id": "m1", "MetricStat": {"Metric": {"Namespace": "Shop", "MetricName": "Latency", "Dimensions": dims},
                                    "Period": 60, "Stat": "Sum"}, "ReturnData": False},
        {"Id": "double", "Expression": "m1 * 2", "Label": "twice"}])
    [result] = data["MetricDataResults"]
    assert (result["Id"], result["Label"], result["Values"], result["StatusCode"]) == \
        ("double", "twice", [120.0], "Complete")
    assert abs(result["Timestamps"][0].timestamp() - now) < 120

    everything = cw.list_metrics(Namespace="Shop")["Metrics"]
    assert sorted((m["MetricName"], m["Dimensions"][0]["Value"]) for m in everything) == \
        [("Errors", "checkout"), ("Latency", "checkout"), ("Latency", "search")]
    assert len(cw.list_metrics(MetricName="Latency")["Metrics"]) == 2
    assert [m["MetricName"] for m in cw.list_metrics(Dimensions=[{"Name": "Endpoint", "Value": "search"}])
            ["Metrics"]] == ["Latency"]
    assert cw.list_metrics(Namespace="Nothing")["Metrics"] == []


def test_metric_validation_errors(cw: Any) -> None:
    now = time.time()
    with pytest.raises(cw.exceptions.InvalidParameterValueException) as info:
        cw.put_metric_data(Namespace="AWS/SageMaker", MetricData=[{"MetricName": "x", "Value": 1.0}])
    assert error_of(info) == ("InvalidParameterValue", 400)
    with pytest.raises(ClientError) as info:
        cw.put_metric_data(Namespace="Shop", MetricData=[{"MetricName": "x", "Value": 1.0, "Unit": "Parsecs"}])
    assert error_of(info) == ("InvalidParameterValue", 400)
    assert "unit" in info.value.response["Error"]["Message"].lower()
    with pytest.raises(ClientError) as info:
        cw.get_metric_statistics(Namespace="Shop", MetricName="x", StartTime=now, EndTime=now - 60, Period=60,
                                 Statistics=["Sum"])
    assert error_of(info) == ("ValidationError", 400)  # issue 20 item 6
    with pytest.raises(ClientError) as info:
        cw.get_metric_statistics(Namespace="Shop", MetricName="x", StartTime=now - 60, EndTime=now, Period=60,
                                 Statistics=["Median"])
    assert error_of(info) == ("InvalidParameterValue", 400)
    unchecked = cloudwatch_unvalidated(cw)
    with pytest.raises(unchecked.exceptions.MissingRequiredParameterException) as info:
        unchecked.get_metric_statistics(MetricName="x", StartTime=now - 60, EndTime=now, Period=60,
                                        Statistics=["Sum"])
    assert error_of(info) == ("MissingParameter", 400)


def cloudwatch_unvalidated(cw: Any) -> Any:
    """A client that skips botocore's own required-member check, to see the server's."""
    return boto3.client("cloudwatch", endpoint_url=cw.meta.endpoint_url, region_name="us-east-1",
                        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                        config=Config(retries={"max_attempts": 1}, parameter_validation=False))


def test_alarm_lifecycle(cw: Any) -> None:
    # no data and TreatMissingData "missing": the alarm stays INSUFFICIENT_DATA until SetAlarmState
    put_alarm(cw, "latency-high", AlarmDescription="p50 over 100 ms", AlarmActions=[HOOK])
    cw.put_metric_alarm(AlarmName="errors-math", EvaluationPeriods=2, DatapointsToAlarm=1, Threshold=5.0,
                        ComparisonOperator="GreaterThanOrEqualToThreshold", Metrics=[
                            {"Id": "e", "MetricStat": {"Metric": {"Namespace": "Shop", "MetricName": "Errors"},
                                                       "Period": 3600, "Stat": "Sum"}, "ReturnData": False},
                            {"Id": "rate", "Expression": "e / 10"}])

    [alarm] = cw.describe_alarms(AlarmNames=["latency-high"])["MetricAlarms"]
    assert alarm["AlarmArn"] == "arn:aws:cloudwatch:us-east-1:000000000000:alarm:latency-high"
    assert (alarm["StateValue"], alarm["ActionsEnabled"], alarm["AlarmActions"]) == \
        ("INSUFFICIENT_DATA", True, [HOOK])
    assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Average", 3600, 100.0)
    assert alarm["AlarmConfigurationUpdatedTimestamp"].tzinfo is not None
    [math_alarm] = cw.describe_alarms(AlarmNamePrefix="errors")["MetricAlarms"]
    assert [m["Id"] for m in math_alarm["Metrics"]] == ["e", "rate"]

    for_metric = cw.describe_alarms_for_metric(Namespace="Shop", MetricName="Latency",
                                               Dimensions=[{"Name": "Endpoint", "Value": "checkout"}])
    assert [a["AlarmName"] for a in for_metric["MetricAlarms"]] == ["latency-high"]
    assert cw.describe_alarms_for_metric(Namespace="Shop", MetricName="Latency", Statistic="Sum",
                                         Dimensions=[{"Name": "Endpoint", "Value": "checkout"}])["MetricAlarms"] == []
    assert [a["AlarmName"] for a in cw.describe_alarms_for_metric(Namespace="Shop", MetricName="Errors")
            ["MetricAlarms"]] == ["errors-math"]

    cw.disable_alarm_actions(AlarmNames=["latency-high", "no-such-alarm"])
    assert cw.describe_alarms(AlarmNames=["latency-high"])["MetricAlarms"][0]["ActionsEnabled"] is False
    cw.set_alarm_state(AlarmName="latency-high", StateValue="ALARM", StateReason="drill",
                       StateReasonData=json.dumps({"drill": True}))
    assert [a["AlarmName"] for a in cw.describe_alarms(StateValue="ALARM")["MetricAlarms"]] == ["latency-high"]
    assert [a["AlarmName"] for a in cw.describe_alarms(ActionPrefix="http://127.0.0.1:9/")["MetricAlarms"]] == \
        ["latency-high"]
    cw.enable_alarm_actions(AlarmNames=["latency-high"])
    assert cw.describe_alarms(AlarmNames=["latency-high"])["MetricAlarms"][0]["ActionsEnabled"] is True

    history = cw.describe_alarm_history(AlarmName="latency-high")["AlarmHistoryItems"]
    assert [h["HistoryItemType"] for h in history][:2] == ["StateUpdate", "ConfigurationUpdate"]
    assert history[0]["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    oldest_first = cw.describe_alarm_history(AlarmName="latency-high", ScanBy="TimestampAscending",
                                             HistoryItemType="ConfigurationUpdate")["AlarmHistoryItems"]
    assert oldest_first[0]["HistorySummary"] == 'Alarm "latency-high" created'
    assert cw.describe_alarm_history(AlarmTypes=["CompositeAlarm"])["AlarmHistoryItems"] == []

    cw.delete_alarms(AlarmNames=["latency-high", "errors-math"])
    assert cw.describe_alarms()["MetricAlarms"] == []


def test_alarm_validation_errors(cw: Any) -> None:
    with pytest.raises(cw.exceptions.InvalidParameterValueException) as info:
        put_alarm(cw, "bad", Statistic="Mean")
    assert error_of(info) == ("InvalidParameterValue", 400)
    assert "statistic" in info.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as info:
        put_alarm(cw, "bad", ComparisonOperator="Above")
    assert error_of(info) == ("InvalidParameterValue", 400)
    with pytest.raises(ClientError) as info:
        put_alarm(cw, "bad", EvaluationPeriods=1, DatapointsToAlarm=3)
    assert error_of(info) == ("InvalidParameterValue", 400)
    with pytest.raises(ClientError) as info:
        put_alarm(cw, "bad", AlarmActions=["arn:aws:sns:us-east-1:topic"])  # no account: malformed
    assert error_of(info) == ("ValidationError", 400)
    with pytest.raises(ClientError) as info:
        cw.describe_alarms(MaxRecords=101)
    assert error_of(info) == ("InvalidParameterValue", 400)
    with pytest.raises(cw.exceptions.InvalidParameterCombinationException):
        cw.describe_alarms(AlarmNames=["a"], AlarmNamePrefix="a")
    with pytest.raises(cw.exceptions.InvalidNextToken):
        cw.describe_alarms(NextToken="not-a-token")
    with pytest.raises(ClientError) as info:
        cw.describe_alarms(StateValue="FIRING")
    assert error_of(info) == ("InvalidParameterValue", 400)
    with pytest.raises(cw.exceptions.ResourceNotFound) as info:
        cw.set_alarm_state(AlarmName="missing", StateValue="OK", StateReason="x")
    assert error_of(info) == ("ResourceNotFound", 404)
    cw.delete_alarms(AlarmNames=["missing"])  # CloudWatch deletes nothing and says nothing
    put_alarm(cw, "exists")
    with pytest.raises(cw.exceptions.InvalidFormatFault) as info:
        cw.set_alarm_state(AlarmName="exists", StateValue="OK", StateReason="x", StateReasonData="{not json")
    assert error_of(info) == ("InvalidFormat", 400)
    with pytest.raises(cw.exceptions.MissingRequiredParameterException) as info:
        cloudwatch_unvalidated(cw).put_metric_alarm(MetricName="Latency", Namespace="Shop", Statistic="Sum",
                                                    Period=10, EvaluationPeriods=1, Threshold=1.0,
                                                    ComparisonOperator="GreaterThanThreshold")
    assert error_of(info) == ("MissingParameter", 400)


def test_describe_alarms_and_history_paginate(cw: Any) -> None:
    names = [f"alarm-{i:02d}" for i in range(7)]
    for name in names:
        put_alarm(cw, name)
    pages = list(cw.get_paginator("describe_alarms").paginate(PaginationConfig={"PageSize": 3}))
    assert [len(p["MetricAlarms"]) for p in pages] == [3, 3, 1]
    assert [a["AlarmName"] for p in pages for a in p["MetricAlarms"]] == names
    assert "NextToken" not in pages[-1]
    first = cw.describe_alarms(MaxRecords=5, AlarmNamePrefix="alarm-0")
    rest = cw.describe_alarms(MaxRecords=5, AlarmNamePrefix="alarm-0", NextToken=first["NextToken"])
    assert len(first["MetricAlarms"]) + len(rest["MetricAlarms"]) == 7
    assert cw.get_paginator("describe_alarms").paginate().build_full_result()["MetricAlarms"][-1]["AlarmName"] \
        == "alarm-06"

    for name in names[:3]:
        cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="paging")
    everything = cw.describe_alarm_history(MaxRecords=100)["AlarmHistoryItems"]
    assert len(everything) == 10
    for order in ("TimestampDescending", "TimestampAscending"):
        paged = [item for page in cw.get_paginator("describe_alarm_history").paginate(
            ScanBy=order, PaginationConfig={"PageSize": 3}) for item in page["AlarmHistoryItems"]]
        expected = everything if order == "TimestampDescending" else everything[::-1]
        assert [(i["AlarmName"], i["HistorySummary"]) for i in paged] == \
            [(i["AlarmName"], i["HistorySummary"]) for i in expected]


def test_large_put_metric_data_arrives_gzipped(cw: Any) -> None:
    encodings: list[bytes] = []
    cw.meta.events.register("before-send.cloudwatch.PutMetricData",
                            lambda request, **_: encodings.append(request.headers.get("Content-Encoding")))
    now = time.time()
    data = [{"MetricName": "Big", "Dimensions": [{"Name": "Shard", "Value": str(i)}],
             "Values": [float(v) for v in range(150)], "Timestamp": now} for i in range(20)]
    cw.put_metric_data(Namespace="Bulk", MetricData=data)
    assert encodings == [b"gzip"]  # botocore compresses bodies over 10 KB
    for shard in ("0", "19"):
        [point] = cw.get_metric_statistics(Namespace="Bulk", MetricName="Big", StartTime=now - 120,
                                           EndTime=now + 60, Period=60, Statistics=["SampleCount", "Sum"],
                                           Dimensions=[{"Name": "Shard", "Value": shard}])["Datapoints"]
        assert (point["SampleCount"], point["Sum"]) == (150.0, float(sum(range(150))))


def test_a_zip_bomb_gets_a_clear_413(cw: Any) -> None:
    bomb = gzip.compress(b" " * (64 * 1024 * 1024))  # 64 MB of spaces in ~64 KB

    def swap_body(request: Any, **_: Any) -> None:
        request.body = bomb
        request.headers["Content-Encoding"] = "gzip"
        request.headers["Content-Length"] = str(len(bomb))

    cw.meta.events.register("before-send.cloudwatch.PutMetricData", swap_body)
    with pytest.raises(ClientError) as info:
        cw.put_metric_data(Namespace="Bomb", MetricData=[{"MetricName": "x", "Value": 1.0}])
    assert error_of(info) == ("RequestEntityTooLarge", 413)
    assert "inflates" in info.value.response["Error"]["Message"]
    assert cw.list_metrics(Namespace="Bomb")["Metrics"] == []  # nothing was stored, the server still answers


def test_unsupported_operations_and_corrupt_bodies_get_clear_errors(cw: Any) -> None:
    def retarget(request: Any, **_: Any) -> None:
        request.headers["X-Amz-Target"] = "GraniteServiceVersion20100801.ListDashboards"

    def corrupt(request: Any, **_: Any) -> None:
        request.body = b"\x1f\x8b\x08\x00 this is not deflate data"
        request.headers["Content-Encoding"] = "gzip"
        request.headers["Content-Length"] = str(len(request.body))

    cw.meta.events.register("before-send.cloudwatch.ListMetrics", retarget)
    with pytest.raises(ClientError) as info:
        cw.list_metrics()
    assert error_of(info) == ("UnknownOperationException", 400)
    assert "ListDashboards is not supported" in info.value.response["Error"]["Message"]
    cw.meta.events.unregister("before-send.cloudwatch.ListMetrics", retarget)
    cw.meta.events.register("before-send.cloudwatch.ListMetrics", corrupt)
    with pytest.raises(ClientError) as info:
        cw.list_metrics()
    assert error_of(info) == ("MalformedInput", 400)
    assert "gzip" in info.value.response["Error"]["Message"]
