"""Run inside a venv with an OLD botocore (≤ 1.42.6, CloudWatch over the query protocol): exercise every
CloudWatch operation greenfleet serves and print the results as JSON for test_cloudwatch_query.py.
Imports nothing from greenfleet. Usage: python query_client.py BASE_URL ACCESS_KEY SECRET"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

HOOK = "http://127.0.0.1:9/hook"


def run(url: str, key: str, secret: str) -> dict[str, Any]:
    def client(secret: str = secret, **config: Any) -> Any:
        return boto3.client("cloudwatch", endpoint_url=url, region_name="us-east-1", aws_access_key_id=key,
                            aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}, **config))

    def error(call: Callable[[], Any]) -> list[Any] | None:
        try:
            call()
        except ClientError as exc:
            response: Any = exc.response
            return [response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"],
                    response["Error"].get("Type"), response["Error"]["Message"]]
        return None

    cw = client()
    out: dict[str, Any] = {"botocore": botocore.__version__, "protocol": cw.meta.service_model.protocol}
    sent: list[Any] = []
    cw.meta.events.register("before-send.cloudwatch.PutMetricData",
                            lambda request, **_: sent.append(request.headers.get("Content-Encoding")))
    now = time.time()
    dims = [{"Name": "Endpoint", "Value": "checkout"}]

    # metrics
    cw.put_metric_data(Namespace="Legacy", MetricData=[
        {"MetricName": "Latency", "Dimensions": dims, "Values": [10.0, 20.0, 30.0], "Counts": [1.0, 1.0, 2.0],
         "Unit": "Milliseconds", "Timestamp": now},
        {"MetricName": "Errors", "Dimensions": dims, "StatisticValues": {"SampleCount": 2, "Sum": 3, "Minimum": 1,
                                                                        "Maximum": 2}, "StorageResolution": 1}])
    cw.put_metric_data(Namespace="Bulk", MetricData=[
        {"MetricName": "Big", "Dimensions": [{"Name": "Shard", "Value": str(i)}],
         "Values": [float(v) for v in range(150)]} for i in range(20)])
    out["encodings"] = [e.decode() if isinstance(e, bytes) else e for e in sent]
    window = {"StartTime": now - 600, "EndTime": now + 60, "Period": 60}
    out["statistics"] = cw.get_metric_statistics(Namespace="Legacy", MetricName="Latency", Dimensions=dims,
                                                 Statistics=["SampleCount", "Sum", "Maximum"],
                                                 ExtendedStatistics=["p50"], **window)["Datapoints"]
    out["big"] = cw.get_metric_statistics(Namespace="Bulk", MetricName="Big", Statistics=["SampleCount"],
                                          Dimensions=[{"Name": "Shard", "Value": "19"}], **window)["Datapoints"]
    out["metric_data"] = cw.get_metric_data(StartTime=now - 600, EndTime=now + 60, MetricDataQueries=[
        {"Id": "lat", "MetricStat": {"Metric": {"Namespace": "Legacy", "MetricName": "Latency", "Dimensions": dims},
                                     "Period": 60, "Stat": "Sum"}, "ReturnData": False},
        {"Id": "half", "Expression": "lat / 2", "Label": "half"}])["MetricDataResults"]
    out["metrics"] = sorted(m["MetricName"] for m in cw.list_metrics(Namespace="Legacy")["Metrics"])
    out["metrics_by_dimension"] = len(cw.list_metrics(Dimensions=[{"Name": "Endpoint", "Value": "checkout"}])
                                      ["Metrics"])

    # alarms, on hourly periods: none completes during the run, so only these calls change state and history
    base = {"MetricName": "Latency", "Namespace": "Legacy", "Dimensions": dims, "Statistic": "Average",
            "Period": 3600, "EvaluationPeriods": 2, "DatapointsToAlarm": 1, "Threshold": 50.5,
            "ComparisonOperator": "GreaterThanThreshold"}
    for i in range(5):
        cw.put_metric_alarm(AlarmName=f"legacy-{i}", OKActions=[], AlarmActions=[HOOK] if i == 0 else [], **base)
    cw.put_metric_alarm(AlarmName="legacy-math", EvaluationPeriods=1, Threshold=1.0,
                        ComparisonOperator="GreaterThanThreshold", Metrics=[
                            {"Id": "e", "MetricStat": {"Metric": {"Namespace": "Legacy", "MetricName": "Errors",
                                                                  "Dimensions": dims}, "Period": 3600,
                                                       "Stat": "Sum"},
                             "ReturnData": False},
                            {"Id": "rate", "Expression": "e / 10", "ReturnData": True}])
    out["alarm"] = cw.describe_alarms(AlarmNames=["legacy-0"])["MetricAlarms"][0]
    out["math_alarm"] = cw.describe_alarms(AlarmNames=["legacy-math"])["MetricAlarms"][0]
    out["pages"] = [[a["AlarmName"] for a in page["MetricAlarms"]]
                    for page in cw.get_paginator("describe_alarms").paginate(PaginationConfig={"PageSize": 2})]
    cw.set_alarm_state(AlarmName="legacy-1", StateValue="ALARM", StateReason="query drill",
                       StateReasonData=json.dumps({"x": 1}))
    out["in_alarm"] = [a["AlarmName"] for a in cw.describe_alarms(StateValue="ALARM")["MetricAlarms"]]
    out["by_action"] = [a["AlarmName"] for a in cw.describe_alarms(ActionPrefix=HOOK)["MetricAlarms"]]
    out["for_metric"] = sorted(a["AlarmName"] for a in cw.describe_alarms_for_metric(
        Namespace="Legacy", MetricName="Latency", Dimensions=dims, Period=3600)["MetricAlarms"])
    cw.disable_alarm_actions(AlarmNames=["legacy-0", "legacy-2"])
    cw.enable_alarm_actions(AlarmNames=["legacy-2"])
    out["actions_enabled"] = {a["AlarmName"]: a["ActionsEnabled"] for a in cw.describe_alarms()["MetricAlarms"]}
    out["history"] = cw.describe_alarm_history(AlarmName="legacy-1")["AlarmHistoryItems"]
    out["history_pages"] = [len(page["AlarmHistoryItems"]) for page in cw.get_paginator(
        "describe_alarm_history").paginate(ScanBy="TimestampAscending", PaginationConfig={"PageSize": 4})]

    # errors
    unchecked = client(parameter_validation=False)
    renamed = client()

    def rename(request: Any, **_: Any) -> None:  # before signing: the form is still a dict
        request.data["Action"] = "ListDashboards"

    renamed.meta.events.register("before-sign.cloudwatch.ListMetrics", rename)
    out["errors"] = {
        "bad_statistic": error(lambda: cw.put_metric_alarm(**{**base, "AlarmName": "x", "Statistic": "Mean"})),
        "reserved_namespace": error(lambda: cw.put_metric_data(Namespace="AWS/EC2", MetricData=[
            {"MetricName": "m", "Value": 1.0}])),
        "missing_parameter": error(lambda: unchecked.get_metric_statistics(
            MetricName="m", Statistics=["Sum"], **window)),
        "combination": error(lambda: cw.describe_alarms(AlarmNames=["a"], AlarmNamePrefix="a")),
        "token": error(lambda: cw.describe_alarms(NextToken="junk")),
        "missing_alarm": error(lambda: cw.set_alarm_state(AlarmName="nope", StateValue="OK", StateReason="x")),
        "bad_reason_data": error(lambda: cw.set_alarm_state(AlarmName="legacy-2", StateValue="OK",
                                                            StateReason="x", StateReasonData="{")),
        "delete_missing": error(lambda: cw.delete_alarms(AlarmNames=["nope"])),  # None: CloudWatch says nothing
        "wrong_secret": error(lambda: client(secret="guessed").list_metrics()),
        "unknown_action": error(renamed.list_metrics),
    }
    cw.delete_alarms(AlarmNames=[f"legacy-{i}" for i in range(5)] + ["legacy-math"])
    out["after_delete"] = cw.describe_alarms()["MetricAlarms"]
    return out


if __name__ == "__main__":
    print(json.dumps(run(*sys.argv[1:4]), default=str))
