"""Alarms and events through the CLI against a live in-process server: put, describe, set-state, history,
delete; metric math and --from-file; option errors; the event log and --follow's polling."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from greenfleet.cli.alarms import parse_metric_query
from greenfleet.cli.events import poll_events
from greenfleet.client import Client
from tests.cli.conftest import Run
from tests.client.live import unique

ARN_HEAD = "arn:aws:cloudwatch:us-east-1:000000000000:alarm:"


def put_simple(run: Run, name: str, *extra: str) -> None:
    """An hourly alarm: a state set by set-state holds until the hour ends, so the evaluator cannot move it
    during a test."""
    result = run("alarm", "put", name, "--namespace", "Test/Cli", "--metric", "Errors", "--dimension",
                 "Service=api", "--statistic", "Average", "--period", "3600", "--evaluation-periods", "3",
                 "--datapoints-to-alarm", "2", "--threshold", "0.5", "--comparison", ">", *extra)
    assert result.exit_code == 0, result.output
    assert f"Saved alarm {name}" in result.output


def test_alarm_life_through_the_cli(run: Run) -> None:
    name = unique("alarm")
    put_simple(run, name)

    described = run("alarm", "describe", name)
    assert described.exit_code == 0, described.output
    assert "INSUFFICIENT_DATA" in described.output
    assert "Test/Cli:Errors{Service=api} Average/3600s" in described.output and "> 0.5 (2 of 3)" in described.output
    alarm = json.loads(run("alarm", "describe", name, "--json").stdout)["MetricAlarms"][0]
    assert (alarm["ComparisonOperator"], alarm["DatapointsToAlarm"], alarm["EvaluationPeriods"]) == \
        ("GreaterThanThreshold", 2, 3)

    moved = run("alarm", "set-state", name, "--state", "ALARM", "--reason", "testing the pager")
    assert moved.exit_code == 0, moved.output
    assert f"Alarm {name} is now ALARM" in moved.output
    in_alarm = run("alarm", "describe", "--state", "ALARM", "--prefix", name)
    assert name in in_alarm.output and "testing the pager" in in_alarm.output

    history = run("alarm", "history", name)
    assert history.exit_code == 0, history.output
    assert "Alarm updated from INSUFFICIENT_DATA to ALARM" in history.output
    assert "ConfigurationUpdate" in history.output and f'Alarm "{name}" created' in history.output
    items = json.loads(run("alarm", "history", name, "--type", "StateUpdate", "--json").stdout)["AlarmHistoryItems"]
    assert [i["HistorySummary"] for i in items] == ["Alarm updated from INSUFFICIENT_DATA to ALARM"]

    logged = run("events", "--source", "aws.cloudwatch", "--resource", ARN_HEAD + name)
    assert logged.exit_code == 0, logged.output
    assert f"{name}: INSUFFICIENT_DATA -> ALARM: testing the pager" in logged.output

    deleted = run("alarm", "delete", name)
    assert deleted.exit_code == 0 and f"Deleted alarm {name}" in deleted.output
    gone = run("alarm", "describe", name)
    assert gone.exit_code == 1 and f"no such alarm: {name}" in gone.output


def test_put_replaces_the_definition_and_keeps_the_state(run: Run) -> None:
    name = unique("alarm")
    put_simple(run, name)
    assert run("alarm", "set-state", name, "--state", "OK", "--reason", "fine").exit_code == 0
    put_simple(run, name, "--treat-missing-data", "notBreaching", "--alarm-action", "http://127.0.0.1:9/hook")
    alarm = json.loads(run("alarm", "describe", name, "--json").stdout)["MetricAlarms"][0]
    assert (alarm["StateValue"], alarm["TreatMissingData"], alarm["AlarmActions"]) == \
        ("OK", "notBreaching", ["http://127.0.0.1:9/hook"])
    assert run("alarm", "delete", name).exit_code == 0


def test_history_of_every_alarm_and_actions_switch(run: Run, server_url: str) -> None:
    name = unique("alarm")
    put_simple(run, name)
    everything = run("alarm", "history", "--type", "ConfigurationUpdate", "--limit", "1000")
    assert "Alarm" in everything.output.splitlines()[0] and f'Alarm "{name}" created' in everything.output
    with Client(server_url) as client:
        client.disable_alarm_actions([name])
        assert client.describe_alarm(name)["ActionsEnabled"] is False
        client.enable_alarm_actions([name])
        assert client.describe_alarm(name)["ActionsEnabled"] is True
    assert run("alarm", "history", unique("absent")).exit_code == 1
    assert run("alarm", "delete", name).exit_code == 0


def test_metric_math_alarm(run: Run) -> None:
    name = unique("alarm")
    result = run("alarm", "put", name, "--expression", "m1/m2*100", "--period", "30",
                 "--metric-query", "m1=AWS/SageMaker:Invocation5XXErrors:Sum:EndpointName=ep,VariantName=blue",
                 "--metric-query", "m2=AWS/SageMaker:Invocations:Sum:EndpointName=ep,VariantName=blue",
                 "--evaluation-periods", "2", "--threshold", "5", "--comparison", ">=", "--json")
    assert result.exit_code == 0, result.output
    alarm = json.loads(result.stdout)
    assert [(m["Id"], m["ReturnData"]) for m in alarm["Metrics"]] == [("m1", False), ("m2", False), ("e1", True)]
    assert alarm["Metrics"][2]["Expression"] == "m1/m2*100"
    assert alarm["Metrics"][0]["MetricStat"] == {
        "Metric": {"Namespace": "AWS/SageMaker", "MetricName": "Invocation5XXErrors",
                   "Dimensions": [{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": "blue"}]},
        "Period": 30, "Stat": "Sum"}
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert "m1/m2*100 /30s" in run("alarm", "describe", name).output
    assert run("alarm", "delete", name).exit_code == 0


def test_put_from_a_yaml_file(run: Run, tmp_path: Path) -> None:
    name = unique("alarm")
    path = tmp_path / "alarm.yaml"
    path.write_text(f"AlarmName: {name}\nNamespace: AWS/SageMaker\nMetricName: ModelLatency\n"
                    "Dimensions: [{Name: EndpointName, Value: ep}, {Name: VariantName, Value: blue}]\n"
                    "ExtendedStatistic: p99\nPeriod: 60\nEvaluationPeriods: 1\nThreshold: 250000\n"
                    "ComparisonOperator: GreaterThanThreshold\nTreatMissingData: notBreaching\n")
    result = run("alarm", "put", "--from-file", str(path))
    assert result.exit_code == 0, result.output
    assert "ModelLatency{EndpointName=ep,VariantName=blue} p99/60s" in run("alarm", "describe", name).output
    mixed = run("alarm", "put", "--from-file", str(path), "--threshold", "1")
    assert mixed.exit_code == 2 and "--from-file holds the whole definition; drop --threshold" in mixed.output
    other = run("alarm", "put", "other-name", "--from-file", str(path))
    assert other.exit_code == 2 and "differs from the AlarmName" in other.output
    assert run("alarm", "delete", name).exit_code == 0


@pytest.mark.parametrize(("args", "message"), [
    (("--metric", "Errors", "--statistic", "Sum", "--evaluation-periods", "1", "--comparison", ">"),
     "missing --threshold"),
    (("--metric", "Errors", "--statistic", "Sum", "--evaluation-periods", "1", "--threshold", "1",
      "--comparison", "=>"), "'=>' is not one of >, >=, <, <="),
    (("--metric", "Errors", "--statistic", "Sum", "--extended-statistic", "p99", "--evaluation-periods", "1",
      "--threshold", "1", "--comparison", "<"), "--metric needs one of --statistic"),
    (("--evaluation-periods", "1", "--threshold", "1", "--comparison", "<"), "give --metric, --expression"),
    (("--expression", "m1*2", "--evaluation-periods", "1", "--threshold", "1", "--comparison", "<"),
     "--expression needs the metrics it uses"),
    (("--expression", "m1*2", "--metric-query", "m1=Errors", "--evaluation-periods", "1", "--threshold", "1",
      "--comparison", "<"), "expected ID=NAMESPACE:METRIC:STAT"),
    (("--metric", "Errors", "--statistic", "Sum", "--dimension", "EndpointName", "--evaluation-periods", "1",
      "--threshold", "1", "--comparison", "<"), "expected KEY=VALUE"),
    (("--metric", "Errors", "--statistic", "Sum", "--period", "0", "--evaluation-periods", "1",
      "--threshold", "1", "--comparison", "<"), "--period"),
])
def test_option_errors_are_usage_errors(run: Run, args: tuple[str, ...], message: str) -> None:
    result = run("alarm", "put", unique("alarm"), *args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_server_side_errors_are_one_line(run: Run) -> None:
    result = run("alarm", "put", unique("alarm"), "--metric", "Errors", "--extended-statistic", "p200",
                 "--evaluation-periods", "1", "--threshold", "1", "--comparison", "<")
    assert result.exit_code == 1
    assert result.output.startswith("Error: ValidationException") and "p200" in result.output
    missing = run("alarm", "set-state", unique("absent"), "--state", "OK", "--reason", "x")
    assert missing.exit_code == 1 and "does not exist" in missing.output
    delete = run("alarm", "delete", unique("absent"))
    assert delete.exit_code == 1 and "nothing deleted" in delete.output
    unreachable = run("alarm", "describe", "--url", "http://127.0.0.1:9")
    assert unreachable.exit_code == 1 and "cannot reach greenfleet" in unreachable.output


def test_parse_metric_query_keeps_colons_in_the_namespace() -> None:
    query = parse_metric_query("q1=My:App:Requests:p99", 10)
    assert query["MetricStat"] == {"Metric": {"Namespace": "My:App", "MetricName": "Requests", "Dimensions": []},
                                   "Period": 10, "Stat": "p99"}


def test_events_table_and_follow(run: Run, server_url: str) -> None:
    source = unique("test.cli")
    first = httpx.post(f"{server_url}/api/events", json={"Source": source, "DetailType": "Cli Test",
                                                         "Detail": {"step": 1}})
    assert first.status_code == 201, first.text
    shown = run("events", "--source", source, "--since", "5m")
    assert shown.exit_code == 0, shown.output
    assert "Cli Test" in shown.output and '{"step":1}' in shown.output
    answer = json.loads(run("events", "--source", source, "--json").stdout)
    assert [e["detail"] for e in answer["Events"]] == [{"step": 1}]

    httpx.post(f"{server_url}/api/events", json={"Source": source, "DetailType": "Cli Test", "Detail": {"step": 2}})
    seen: list[dict[str, object]] = []
    with Client(server_url) as client:
        poll_events(client, {"Source": source}, answer["LastSeq"], 0.01, seen.extend, polls=1)
    assert [e["detail"] for e in seen] == [{"step": 2}]
    assert run("events", "--since", "later").exit_code == 2
