"""``greenfleet monitor baseline|schedule|describe|update|list|executions|report|stop|start|delete`` and
``greenfleet monitor data-quality|model-quality create|describe|list|delete``: Model Monitor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from greenfleet.cli.output import Doc, client_options, connect, done, emit, print_json, table, when

if TYPE_CHECKING:  # rich is imported when a command prints (fast CLI start)
    from rich.console import Console

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


def inline_job_definition(endpoint: str, baseline: str, output: str) -> Doc:
    """A data-quality MonitoringJobDefinition of an endpoint against a baseline directory."""
    return {"BaselineConfig": {"ConstraintsResource": {"S3Uri": f"{baseline.rstrip('/')}/constraints.json"},
                               "StatisticsResource": {"S3Uri": f"{baseline.rstrip('/')}/statistics.json"}},
            "MonitoringInputs": [{"EndpointInput": {"EndpointName": endpoint,
                                                    "LocalPath": "/opt/ml/processing/input"}}],
            "MonitoringOutputConfig": {"MonitoringOutputs": [{"S3Output": {
                "S3Uri": output, "LocalPath": "/opt/ml/processing/output"}}]},
            "MonitoringResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                      "VolumeSizeInGB": 1}},
            "MonitoringAppSpecification": {"ImageUri": "greenfleet/model-monitor"}, "RoleArn": ROLE}


def _json_option(value: str, option: str) -> Doc:
    text = Path(value[1:]).read_text() if value.startswith("@") else value
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint=option) from exc
    if not isinstance(document, dict):
        raise click.BadParameter("not a JSON object", param_hint=option)
    return document


def _schedule_config(expression: str, window_start: str | None, window_end: str | None) -> Doc:
    config: Doc = {"ScheduleExpression": expression}
    if window_start:
        config["DataAnalysisStartTime"] = window_start
    if window_end:
        config["DataAnalysisEndTime"] = window_end
    return config


expression_option = click.option(
    "--expression", default="cron(0 * ? * * *)", show_default=True,
    help="cron(0 * ? * * *), cron(0 H ? * * *), cron(0 H/N ? * * *), NOW or rate(N minutes).")
window_start_option = click.option("--window-start", help="DataAnalysisStartTime, e.g. -PT1H.")
window_end_option = click.option("--window-end", help="DataAnalysisEndTime, e.g. -PT0H.")


@click.group("monitor", short_help="Model Monitor: baselines, schedules, executions, reports.")
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
@click.option("--endpoint", help="The endpoint (with an inline data-quality job definition).")
@click.option("--baseline", "baseline_uri", help="Directory of statistics.json and constraints.json.")
@click.option("--output", help="Where executions write their reports.")
@click.option("--job-definition", help="A data- or model-quality job definition's name, instead of the above.")
@click.option("--type", "monitoring_type", type=click.Choice(["DataQuality", "ModelQuality"]), default="DataQuality",
              show_default=True, help="The job definition's type (with --job-definition).")
@expression_option
@window_start_option
@window_end_option
@client_options
def schedule(name: str, endpoint: str | None, baseline_uri: str | None, output: str | None,
             job_definition: str | None, monitoring_type: str, expression: str, window_start: str | None,
             window_end: str | None, url: str, as_json: bool) -> None:
    """Create monitoring schedule NAME: data quality of an endpoint that captures data (--endpoint,
    --baseline, --output), or by a job definition's name (--job-definition, --type)."""
    config: Doc = {"ScheduleConfig": _schedule_config(expression, window_start, window_end),
                   "MonitoringType": monitoring_type}
    if job_definition:
        config["MonitoringJobDefinitionName"] = job_definition
    elif endpoint and baseline_uri and output:
        config["MonitoringJobDefinition"] = inline_job_definition(endpoint, baseline_uri, output)
    else:
        raise click.UsageError("give --job-definition, or --endpoint, --baseline and --output")
    with connect(url) as client:
        answer = client.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=config)
    done(f"Created monitoring schedule {answer['MonitoringScheduleArn']}", answer, as_json)


@monitor.command("update")
@click.argument("name")
@expression_option
@window_start_option
@window_end_option
@client_options
def update(name: str, expression: str, window_start: str | None, window_end: str | None, url: str,
           as_json: bool) -> None:
    """Change the schedule expression (and analysis window) of monitoring schedule NAME."""
    with connect(url) as client:
        config = client.describe_monitoring_schedule(MonitoringScheduleName=name)["MonitoringScheduleConfig"]
        config["ScheduleConfig"] = _schedule_config(expression, window_start, window_end)
        answer = client.update_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=config)
    done(f"Updated monitoring schedule {answer['MonitoringScheduleArn']}", answer, as_json)


@monitor.command("describe")
@click.argument("name")
@client_options
def describe(name: str, url: str, as_json: bool) -> None:
    """Describe monitoring schedule NAME (its configuration and last execution)."""
    with connect(url) as client:
        answer = client.describe_monitoring_schedule(MonitoringScheduleName=name)
    print_json(answer)  # the configuration is a nested document: shown as JSON either way


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


def _schedule_command(verb: str, method: str) -> None:
    @monitor.command(verb, help=f"{verb.capitalize()} monitoring schedule NAME.")
    @click.argument("name")
    @client_options
    def command(name: str, url: str, as_json: bool) -> None:
        with connect(url) as client:
            answer = getattr(client, method)(MonitoringScheduleName=name)
        done(f"{verb.capitalize()} monitoring schedule {name}: done", answer, as_json)


for _verb, _method in (("stop", "stop_monitoring_schedule"), ("start", "start_monitoring_schedule"),
                       ("delete", "delete_monitoring_schedule")):
    _schedule_command(_verb, _method)


def _job_definitions(kind: str, words: str) -> None:
    """``monitor data-quality|model-quality create|describe|list|delete``."""
    snake = words.replace("-", "_")

    @monitor.group(words, help=f"{kind} job definitions (referenced by schedules' MonitoringJobDefinitionName).")
    def group() -> None:
        pass

    @group.command("create")
    @click.argument("name")
    @click.argument("definition")
    @client_options
    def create(name: str, definition: str, url: str, as_json: bool) -> None:
        """Create job definition NAME from DEFINITION: the Create*JobDefinition members as JSON (or @file.json)."""
        params = {**_json_option(definition, "DEFINITION"), "JobDefinitionName": name}
        with connect(url) as client:
            answer = getattr(client, f"create_{snake}_job_definition")(**params)
        done(f"Created {kind} job definition {answer['JobDefinitionArn']}", answer, as_json)

    @group.command("describe")
    @click.argument("name")
    @client_options
    def describe(name: str, url: str, as_json: bool) -> None:
        """Describe job definition NAME."""
        with connect(url) as client:
            answer = getattr(client, f"describe_{snake}_job_definition")(JobDefinitionName=name)
        print_json(answer)

    @group.command("list")
    @client_options
    def list_(url: str, as_json: bool) -> None:
        """List the job definitions."""
        with connect(url) as client:
            answer = getattr(client, f"list_{snake}_job_definitions")()
        emit(answer, as_json, lambda console: console.print(table(
            ("name", "endpoint", "created"),
            [(d["MonitoringJobDefinitionName"], d.get("EndpointName", "-"), when(d["CreationTime"]))
             for d in answer["JobDefinitionSummaries"]])))

    @group.command("delete")
    @click.argument("name")
    @client_options
    def delete(name: str, url: str, as_json: bool) -> None:
        """Delete job definition NAME (refused while a schedule uses it)."""
        with connect(url) as client:
            answer = getattr(client, f"delete_{snake}_job_definition")(JobDefinitionName=name)
        done(f"Deleted {kind} job definition {name}", answer, as_json)


_job_definitions("Data-quality", "data-quality")
_job_definitions("Model-quality", "model-quality")


def register(cli: click.Group) -> None:
    cli.add_command(monitor)


__all__ = ["register"]
