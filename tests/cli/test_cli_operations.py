"""The commands of the operations that had none (tags, webhooks, single events, alarm actions and
alarms-for-metric, PutMetricData and GetMetricData) against a live server."""

from __future__ import annotations

import json
import time
from pathlib import Path

from greenfleet.api import shapes
from tests.cli.conftest import Run
from tests.client.live import unique


def test_tag_add_list_delete(run: Run) -> None:
    name = unique("model")
    created = json.loads(run("model", "create", name, "--image", "greenfleet/sklearn", "--json").output)
    arn = created["ModelArn"]
    assert run("tag", "add", arn, "--tag", "team=risk", "--tag", "tier=1").exit_code == 0
    assert json.loads(run("tag", "list", arn, "--json").output)["Tags"] == [
        {"Key": "team", "Value": "risk"}, {"Key": "tier", "Value": "1"}]
    assert run("tag", "delete", arn, "--key", "tier").exit_code == 0
    listed = run("tag", "list", arn)
    assert "team" in listed.output and "tier" not in listed.output
    assert run("tag", "add", arn, "--tag", "novalue").exit_code == 2


def test_webhooks_and_events(run: Run) -> None:
    source = unique("cli.test")
    created = json.loads(run("webhook", "create", "http://127.0.0.1:9/hook", "--source", source,
                             "--description", "cli", "--json").output)
    target = created["Id"]
    assert created["EventPattern"] == {"source": [source]} and created["Enabled"] is True
    assert target in run("webhook", "list").output
    updated = json.loads(run("webhook", "update", target, "--disable", "--json").output)
    assert updated["Enabled"] is False and updated["Description"] == "cli"
    assert run("webhook", "update", target, "--enable").exit_code == 0
    put = json.loads(run("event", "put", "--source", source, "--detail-type", "Cli Test", "--detail",
                         '{"step": 1}', "--json").output)
    got = json.loads(run("event", "get", put["id"], "--json").output)
    assert got["detail"] == {"step": 1} and got["source"] == source
    shapes.Event.model_validate(got)  # the answers are what /openapi.json documents
    shapes.EventTarget.model_validate(updated)
    assert "Cli Test" in run("event", "get", put["id"]).output
    assert run("event", "put", "--source", source, "--detail-type", "x", "--detail", "{no").exit_code == 2
    deadline = time.monotonic() + 10  # the delivery to the matching webhook is recorded (nothing listens)
    while not json.loads(run("webhook", "deliveries", "--target", target, "--json").output)["Deliveries"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert "http://127.0.0.1:9/hook" in run("webhook", "deliveries", "--target", target).output
    shapes.DeliveryList.model_validate(json.loads(run("webhook", "deliveries", "--json").output))
    assert target in run("webhook", "describe", target).output
    assert run("webhook", "delete", target).exit_code == 0
    assert run("webhook", "describe", target).exit_code == 1


def test_metrics_put_and_query_and_alarms_for_a_metric(run: Run, tmp_path: Path) -> None:
    namespace = unique("Cli")
    now = time.time()
    put = run("metrics", "put", "--namespace", namespace, "--metric", "Orders", "--value", "3", "--value", "4",
              "--dimension", "Site=eu", "--unit", "Count", "--timestamp", str(now - 5))
    assert put.exit_code == 0, put.output
    queries = [{"Id": "m", "MetricStat": {"Metric": {"Namespace": namespace, "MetricName": "Orders",
                                                    "Dimensions": [{"Name": "Site", "Value": "eu"}]},
                                         "Period": 60, "Stat": "Sum"}},
               {"Id": "double", "Expression": "m * 2"}]
    (tmp_path / "queries.yaml").write_text(json.dumps({"MetricDataQueries": queries}))
    answer = json.loads(run("metrics", "query", "--file", str(tmp_path / "queries.yaml"), "--json").output)
    sums = {r["Id"]: r["Values"] for r in answer["MetricDataResults"]}
    assert sums == {"m": [7.0], "double": [14.0]}
    assert "double" in run("metrics", "query", "--file", str(tmp_path / "queries.yaml")).output

    alarm = unique("orders")
    assert run("alarm", "put", alarm, "--namespace", namespace, "--metric", "Orders", "--dimension", "Site=eu",
               "--statistic", "Sum", "--period", "60", "--evaluation-periods", "1", "--threshold", "100",
               "--comparison", ">").exit_code == 0
    found = json.loads(run("alarm", "for-metric", "--namespace", namespace, "--metric", "Orders", "--dimension",
                           "Site=eu", "--json").output)["MetricAlarms"]
    assert [a["AlarmName"] for a in found] == [alarm]
    other = run("alarm", "for-metric", "--namespace", namespace, "--metric", "Orders", "--statistic", "Average",
                "--json")
    assert json.loads(other.output)["MetricAlarms"] == []
    assert run("alarm", "disable-actions", alarm).exit_code == 0
    assert json.loads(run("alarm", "describe", alarm, "--json").output)["MetricAlarms"][0]["ActionsEnabled"] is False
    assert run("alarm", "enable-actions", alarm).exit_code == 0
    assert json.loads(run("alarm", "describe", alarm, "--json").output)["MetricAlarms"][0]["ActionsEnabled"] is True
