"""``greenfleet monitor baseline|schedule|list|executions|report|stop|start|delete``: Model Monitor."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console

from greenfleet.cli.output import Doc, client_options, connect, done, emit, table, when

BARS = " ▁▂▃▄▅▆▇█"
ROLE = "arn:aws:iam::000000000000:role/greenfleet-monitor"


def spark(shares: list[float] | None, peak: float) -> str:
    """A terminal histogram: one block character per bucket, scaled to ``peak``."""
    if not shares or peak <= 0:
        return "-"
    return "".join(BARS[min(len(BARS) - 1, round(s / peak * (len(BARS) - 1)))] for s in shares)


def _figure(summary: Doc | None) -> str:
    if summary is None:
        return "(absent)"
    if "Mean" in summary:
        return f"{summary['InferredType']} mean {summary['Mean']:.4g}"
    return f"{summary['InferredType']} {summary.get('DistinctCount', 0)} values"


def _render_report(doc: Doc, console: Console) -> None:
    execution = doc["Execution"]
    console.print(f"{doc['MonitoringScheduleName']} on {doc['EndpointName']}: "
                  f"{execution['MonitoringExecutionStatus']} (scheduled {when(execution['ScheduledTime'])}), "
                  f"{len(doc['Violations'])} violation(s)")
    rows = []
    for feature in doc["Features"]:
        histogram = feature.get("Histogram") or {}
        peak = max([*(histogram.get("Baseline") or []), *(histogram.get("Current") or []), 0.0])
        distance = feature.get("Distance")
        rows.append((feature["Name"], _figure(feature["Baseline"]), _figure(feature["Current"]),
                     "-" if distance is None else f"{distance:.3f}",
                     spark(histogram.get("Baseline"), peak), spark(histogram.get("Current"), peak),
                     ", ".join(feature["Violations"]) or "ok"))
    console.print(table(("feature", "baseline", "current", "distance", "baseline hist", "current hist",
                         "violation"), rows))


def job_definition(endpoint: str, baseline: str, output: str) -> Doc:
    return {"BaselineConfig": {"ConstraintsResource": {"S3Uri": f"{baseline.rstrip('/')}/constraints.json"},
                               "StatisticsResource": {"S3Uri": f"{baseline.rstrip('/')}/statistics.json"}},
            "MonitoringInputs": [{"EndpointInput": {"EndpointName": endpoint,
                                                    "LocalPath": "/opt/ml/processing/input"}}],
            "MonitoringOutputConfig": {"MonitoringOutputs": [{"S3Output": {
                "S3Uri": output, "LocalPath": "/opt/ml/processing/output"}}]},
            "MonitoringResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                      "VolumeSizeInGB": 1}},
            "MonitoringAppSpecification": {"ImageUri": "greenfleet/model-monitor"}, "RoleArn": ROLE}


def register(cli: click.Group) -> None:
    @cli.group()
    def monitor() -> None:
        """Model Monitor: baselines, monitoring schedules, executions and reports."""

    @monitor.command("baseline")
    @click.argument("dataset")
    @click.option("--output", required=True, help="Where statistics.json and constraints.json go (path or s3://).")
    @click.option("--format", "dataset_format", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
    @click.option("--header", is_flag=True, help="The CSV's first row names the columns.")
    @client_options
    def baseline(dataset: str, output: str, dataset_format: str, header: bool, url: str, as_json: bool) -> None:
        """Baseline DATASET (a path or s3:// URI of CSV or JSON lines)."""
        with connect(url) as client:
            answer = client.suggest_baseline(DatasetUri=dataset, DatasetFormat=dataset_format, Header=header,
                                             OutputUri=output)
        emit(answer, as_json, lambda console: console.print(table(
            ("feature", "inferred type"), [(f["Name"], f["InferredType"]) for f in answer["Features"]],
            title=f"{answer['ItemCount']} rows → {answer['StatisticsResource']['S3Uri']}, "
                  f"{answer['ConstraintsResource']['S3Uri']}")))

    @monitor.command("schedule")
    @click.argument("name")
    @click.option("--endpoint", required=True)
    @click.option("--baseline", "baseline_uri", required=True,
                  help="Directory of statistics.json and constraints.json.")
    @click.option("--output", required=True, help="Where executions write their reports.")
    @click.option("--expression", default="cron(0 * ? * * *)", show_default=True,
                  help="cron(0 * ? * * *), cron(0 H ? * * *), cron(0 H/N ? * * *), NOW or rate(N minutes).")
    @click.option("--window-start", help="DataAnalysisStartTime, e.g. -PT1H.")
    @click.option("--window-end", help="DataAnalysisEndTime, e.g. -PT0H.")
    @client_options
    def schedule(name: str, endpoint: str, baseline_uri: str, output: str, expression: str, window_start: str | None,
                 window_end: str | None, url: str, as_json: bool) -> None:
        """Create data-quality monitoring schedule NAME for an endpoint that captures data."""
        config: dict[str, Any] = {"ScheduleExpression": expression}
        if window_start:
            config["DataAnalysisStartTime"] = window_start
        if window_end:
            config["DataAnalysisEndTime"] = window_end
        with connect(url) as client:
            answer = client.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig={
                "ScheduleConfig": config, "MonitoringType": "DataQuality",
                "MonitoringJobDefinition": job_definition(endpoint, baseline_uri, output)})
        done(f"Created monitoring schedule {answer['MonitoringScheduleArn']}", answer, as_json)

    @monitor.command("list")
    @client_options
    def list_(url: str, as_json: bool) -> None:
        """List monitoring schedules."""
        with connect(url) as client:
            answer = client.list_monitoring_schedules()
        emit(answer, as_json, lambda console: console.print(table(
            ("name", "endpoint", "type", "status", "created"),
            [(s["MonitoringScheduleName"], s.get("EndpointName", "-"), s["MonitoringType"],
              s["MonitoringScheduleStatus"], when(s["CreationTime"])) for s in answer["MonitoringScheduleSummaries"]])))

    @monitor.command("executions")
    @click.argument("name")
    @client_options
    def executions(name: str, url: str, as_json: bool) -> None:
        """List the executions of schedule NAME."""
        with connect(url) as client:
            answer = client.list_monitoring_executions(MonitoringScheduleName=name)
        emit(answer, as_json, lambda console: console.print(table(
            ("scheduled", "status", "failure"),
            [(when(e["ScheduledTime"]), e["MonitoringExecutionStatus"], e.get("FailureReason", ""))
             for e in answer["MonitoringExecutionSummaries"]])))

    @monitor.command("report")
    @click.argument("name")
    @client_options
    def report(name: str, url: str, as_json: bool) -> None:
        """Per-feature report of schedule NAME's latest execution (baseline vs current, distance, violation)."""
        with connect(url) as client:
            answer = client.monitoring_report(MonitoringScheduleName=name)
        emit(answer, as_json, lambda console: _render_report(answer, console))

    for verb, method in (("stop", "stop_monitoring_schedule"), ("start", "start_monitoring_schedule"),
                         ("delete", "delete_monitoring_schedule")):
        def make(verb: str = verb, method: str = method) -> None:
            @monitor.command(verb, help=f"{verb.capitalize()} monitoring schedule NAME.")
            @click.argument("name")
            @client_options
            def command(name: str, url: str, as_json: bool) -> None:
                with connect(url) as client:
                    answer = getattr(client, method)(MonitoringScheduleName=name)
                done(f"{verb.capitalize()} monitoring schedule {name}: done", answer, as_json)

        make()
