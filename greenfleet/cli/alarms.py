"""``greenfleet alarm put|describe|history|set-state|delete``: CloudWatch's metric alarms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from greenfleet.cli.metrics import (
    BASIC_STATISTICS,
    DEFAULT_NAMESPACE,
    dimension_list,
    dimension_text,
    local_time,
)
from greenfleet.cli.output import Doc, client_options, connect, done, emit, number, table

if TYPE_CHECKING:
    from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])
STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")
TREATMENTS = ("breaching", "notBreaching", "ignore", "missing")
HISTORY_TYPES = ("ConfigurationUpdate", "StateUpdate", "Action")
COMPARISONS = {">": "GreaterThanThreshold", ">=": "GreaterThanOrEqualToThreshold", "<": "LessThanThreshold",
               "<=": "LessThanOrEqualToThreshold"}
SYMBOLS = {name: symbol for symbol, name in COMPARISONS.items()}
QUERY_FORMAT = "ID=NAMESPACE:METRIC:STAT[:NAME=VALUE,...]"


def parse_comparison(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """``>``, ``>=``, ``<``, ``<=`` or CloudWatch's name (any case) as CloudWatch's ComparisonOperator."""
    if value is None:
        return None
    if value.strip() in COMPARISONS:
        return COMPARISONS[value.strip()]
    for name in SYMBOLS:
        if value.lower() == name.lower():
            return name
    raise click.BadParameter(f"{value!r} is not one of >, >=, <, <= or {', '.join(SYMBOLS)}")


def parse_metric_query(spec: str, period: int) -> Doc:
    """``m1=AWS/SageMaker:Invocations:Sum:EndpointName=ep,VariantName=v`` as a MetricDataQuery that the
    expression uses (ReturnData false)."""
    qid, sep, rest = spec.partition("=")
    parts = rest.split(":")
    dimensions: list[Doc] = []
    if len(parts) >= 4 and "=" in parts[-1]:
        dimensions = dimension_list(parts.pop().split(","), "--metric-query")
    if not sep or not qid or len(parts) < 3 or not all(parts):
        raise click.BadParameter(f"expected {QUERY_FORMAT}, got {spec!r}", param_hint="--metric-query")
    metric = {"Namespace": ":".join(parts[:-2]), "MetricName": parts[-2], "Dimensions": dimensions}
    return {"Id": qid, "MetricStat": {"Metric": metric, "Period": period, "Stat": parts[-1]}, "ReturnData": False}


def load_alarm_file(path: Path) -> Doc:
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="--from-file") from exc
    if not isinstance(doc, dict) or not doc:
        raise click.BadParameter(f"{path} must hold one PutMetricAlarm request (an object)",
                                 param_hint="--from-file")
    return doc


@dataclass(frozen=True)
class AlarmDefinition:
    """The options of ``alarm put``, turned into PutMetricAlarm's request by ``body``."""

    metric: str | None = None
    namespace: str | None = None
    dimensions: tuple[str, ...] = ()
    statistic: str | None = None
    extended_statistic: str | None = None
    unit: str | None = None
    period: int | None = None
    evaluation_periods: int | None = None
    datapoints_to_alarm: int | None = None
    threshold: float | None = None
    comparison: str | None = None
    treat_missing_data: str | None = None
    expression: str | None = None
    metric_queries: tuple[str, ...] = ()
    description: str | None = None
    alarm_actions: tuple[str, ...] = ()
    ok_actions: tuple[str, ...] = ()
    insufficient_data_actions: tuple[str, ...] = ()
    from_file: Path | None = None

    def given(self) -> list[str]:
        """The definition options given, as their flags (every option but --from-file)."""
        flags = {name: "--" + name.replace("_", "-") for name in self.__dataclass_fields__ if name != "from_file"}
        flags.update(metric_queries="--metric-query", dimensions="--dimension", alarm_actions="--alarm-action",
                     ok_actions="--ok-action", insufficient_data_actions="--insufficient-data-action")
        return [flag for name, flag in flags.items() if getattr(self, name) not in (None, ())]

    def body(self, name: str | None) -> Doc:
        """PutMetricAlarm's request; raise click.UsageError on a combination that makes no sense."""
        if self.from_file is not None:
            return self._from_file(self.from_file, name)
        if name is None:
            raise click.UsageError("give the alarm's NAME (or --from-file)")
        missing = [flag for flag, value in (("--evaluation-periods", self.evaluation_periods),
                                            ("--threshold", self.threshold), ("--comparison", self.comparison))
                   if value is None]
        if missing:
            raise click.UsageError(f"missing {', '.join(missing)} (needed unless --from-file is given)")
        body: Doc = {"AlarmName": name, **self._metric(), "EvaluationPeriods": self.evaluation_periods,
                     "Threshold": self.threshold, "ComparisonOperator": self.comparison}
        optional = {"DatapointsToAlarm": self.datapoints_to_alarm, "TreatMissingData": self.treat_missing_data,
                    "AlarmDescription": self.description, "AlarmActions": list(self.alarm_actions) or None,
                    "OKActions": list(self.ok_actions) or None,
                    "InsufficientDataActions": list(self.insufficient_data_actions) or None}
        return body | {k: v for k, v in optional.items() if v is not None}

    def _from_file(self, path: Path, name: str | None) -> Doc:
        given = self.given()
        if given:
            raise click.UsageError(f"--from-file holds the whole definition; drop {', '.join(given)}")
        body = load_alarm_file(path)
        in_file = body.setdefault("AlarmName", name)
        if in_file is None:
            raise click.UsageError(f"give the alarm's NAME: {path} has no AlarmName")
        if name is not None and in_file != name:
            raise click.UsageError(f"NAME {name!r} differs from the AlarmName {in_file!r} in {path}")
        return body

    def _metric(self) -> Doc:
        if self.metric is not None and self.expression is not None:
            raise click.UsageError("give --metric (one metric) or --expression (metric math), not both")
        if self.expression is not None:
            return self._math()
        if self.metric_queries:
            raise click.UsageError("--metric-query goes with --expression")
        if self.metric is None:
            raise click.UsageError("give --metric, --expression with --metric-query, or --from-file")
        if (self.statistic is None) == (self.extended_statistic is None):
            raise click.UsageError("--metric needs one of --statistic (e.g. Average) or --extended-statistic "
                                   "(e.g. p99)")
        body: Doc = {"MetricName": self.metric, "Namespace": self.namespace or DEFAULT_NAMESPACE,
                     "Dimensions": dimension_list(self.dimensions), "Period": self.period or 60}
        if self.statistic is not None:
            body["Statistic"] = self.statistic
        else:
            body["ExtendedStatistic"] = self.extended_statistic
        return body | ({"Unit": self.unit} if self.unit else {})

    def _math(self) -> Doc:
        wrong = [flag for flag, value in (("--namespace", self.namespace), ("--dimension", self.dimensions),
                                          ("--statistic", self.statistic),
                                          ("--extended-statistic", self.extended_statistic), ("--unit", self.unit))
                 if value not in (None, ())]
        if wrong:
            raise click.UsageError(f"{', '.join(wrong)} go with --metric; with --expression, each --metric-query "
                                   f"names its metric and statistic ({QUERY_FORMAT})")
        if not self.metric_queries:
            raise click.UsageError(f"--expression needs the metrics it uses: --metric-query {QUERY_FORMAT}")
        queries = [parse_metric_query(spec, self.period or 60) for spec in self.metric_queries]
        taken = {q["Id"] for q in queries}
        expr_id = next(f"e{i}" for i in range(1, len(taken) + 2) if f"e{i}" not in taken)
        return {"Metrics": [*queries, {"Id": expr_id, "Expression": self.expression, "Label": self.expression,
                                       "ReturnData": True}]}


def definition_options(func: F) -> F:
    options = [
        click.option("--metric", help="Metric name, e.g. Invocation5XXErrors."),
        click.option("--namespace", show_default=DEFAULT_NAMESPACE, help="Metric namespace."),
        click.option("--dimension", "dimensions", multiple=True, metavar="NAME=VALUE",
                     help="Dimension of the metric (repeatable), e.g. EndpointName=my-endpoint."),
        click.option("--statistic", type=click.Choice(("SampleCount", "Average", "Sum", "Minimum", "Maximum")),
                     help="Statistic of the metric."),
        click.option("--extended-statistic", metavar="STAT", help="Percentile or trimmed mean, e.g. p99."),
        click.option("--unit", help="Only samples put with this unit, e.g. Microseconds."),
        click.option("--period", type=click.IntRange(min=1), show_default="60", help="Seconds per datapoint."),
        click.option("--evaluation-periods", type=click.IntRange(min=1), help="N: how many periods are evaluated."),
        click.option("--datapoints-to-alarm", type=click.IntRange(min=1),
                     help="M of the N periods that must breach (default: N)."),
        click.option("--threshold", type=float, help="Value compared with each datapoint."),
        click.option("--comparison", callback=parse_comparison, metavar="OP",
                     help="'>', '>=', '<', '<=' or GreaterThanThreshold, GreaterThanOrEqualToThreshold, "
                          "LessThanThreshold, LessThanOrEqualToThreshold."),
        click.option("--treat-missing-data", type=click.Choice(TREATMENTS), help="How missing datapoints count "
                     "(default: missing)."),
        click.option("--expression", help="Metric math over --metric-query ids, e.g. 'm1/m2*100'."),
        click.option("--metric-query", "metric_queries", multiple=True, metavar=QUERY_FORMAT,
                     help="A metric the expression uses (repeatable), e.g. "
                          "m1=AWS/SageMaker:Invocation5XXErrors:Sum:EndpointName=ep,VariantName=blue."),
        click.option("--description", help="AlarmDescription."),
        click.option("--alarm-action", "alarm_actions", multiple=True, metavar="URL",
                     help="Webhook called on entering ALARM (repeatable)."),
        click.option("--ok-action", "ok_actions", multiple=True, metavar="URL",
                     help="Webhook called on entering OK (repeatable)."),
        click.option("--insufficient-data-action", "insufficient_data_actions", multiple=True, metavar="URL",
                     help="Webhook called on entering INSUFFICIENT_DATA (repeatable)."),
        click.option("--from-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="A PutMetricAlarm request as JSON or YAML, instead of the options above."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def metric_text(alarm: Doc) -> str:
    """``Invocation5XXErrors{EndpointName=ep} Average/60s``, or the watched expression for metric math."""
    if alarm.get("Metrics"):
        watched: Doc = next((m for m in alarm["Metrics"] if m.get("ReturnData", True)), {})
        period = next((m["MetricStat"].get("Period") for m in alarm["Metrics"] if m.get("MetricStat")), None)
        what = watched.get("Expression") or watched.get("Label") or watched.get("Id", "?")
        return f"{what} /{period}s" if period else str(what)
    namespace = alarm.get("Namespace")
    prefix = "" if namespace == DEFAULT_NAMESPACE else f"{namespace}:"
    dims = dimension_text(alarm.get("Dimensions") or [])
    stat = alarm.get("Statistic") or alarm.get("ExtendedStatistic")
    return f"{prefix}{alarm.get('MetricName')}{{{dims}}} {stat}/{alarm.get('Period')}s"


def threshold_text(alarm: Doc) -> str:
    operator = SYMBOLS.get(alarm.get("ComparisonOperator", ""), alarm.get("ComparisonOperator"))
    n = alarm.get("EvaluationPeriods")
    return f"{operator} {number(alarm.get('Threshold'))} ({alarm.get('DatapointsToAlarm', n)} of {n})"


def render_alarms(alarms: list[Doc], out: Console) -> None:
    rows = [(a["AlarmName"], a.get("StateValue", "-"), metric_text(a), threshold_text(a),
             local_time(a.get("StateUpdatedTimestamp")), a.get("StateReason", "")) for a in alarms]
    grid = table(["Name", "State", "Metric", "Threshold", "Updated", "Reason"], rows)
    for column in grid.columns[:5]:  # the reason wraps; the rest stays on one line as long as it fits
        column.no_wrap, column.overflow = True, "fold"
    out.print(grid)


def render_history(items: list[Doc], all_alarms: bool, out: Console) -> None:
    columns = ["Time", *(["Alarm"] if all_alarms else []), "Type", "Summary"]
    rows = [(local_time(i.get("Timestamp")), *([i.get("AlarmName", "-")] if all_alarms else []),
             i.get("HistoryItemType", "-"), i.get("HistorySummary", "")) for i in items]
    out.print(table(columns, rows))


@click.group("alarm", short_help="Create, describe, test and delete metric alarms.")
def alarm() -> None:
    """Metric alarms (CloudWatch's PutMetricAlarm semantics), evaluated by the server every second."""


@alarm.command("put")
@click.argument("name", required=False)
@definition_options
@client_options
def put(name: str | None, url: str, as_json: bool, **options: Any) -> None:
    """Create alarm NAME or replace its definition (PutMetricAlarm); its state is kept.

    One metric: --metric M --statistic Average --period 60 --evaluation-periods 3 --threshold 0.05
    --comparison '>'. Metric math: --expression 'm1/m2*100' --metric-query m1=... --metric-query m2=...
    Or the whole request from --from-file (JSON or YAML)."""
    body = AlarmDefinition(**options).body(name)
    with connect(url) as client:
        answer = client.put_metric_alarm(**body)
        unmatched = _unmatched_dimensions(client, body)
    done(f"Saved alarm {answer['AlarmName']} ({answer.get('StateValue')})", answer, as_json)
    if unmatched:
        click.echo(f"warning: {unmatched}", err=True)


def _unmatched_dimensions(client: Any, body: Doc) -> str | None:
    """A warning when no series of the alarm's metric has exactly its dimensions (an alarm reads only
    those: with one dimension more or less it would stay INSUFFICIENT_DATA), naming the ones that exist."""
    if not body.get("MetricName"):
        return None
    wanted = {(d["Name"], d["Value"]) for d in body.get("Dimensions") or []}
    series = client.list_metrics(Namespace=body.get("Namespace"), MetricName=body["MetricName"]).get("Metrics", [])
    found = [{(d["Name"], d["Value"]) for d in s.get("Dimensions") or []} for s in series]
    if wanted in found:
        return None
    def text(pairs: set[tuple[str, str]]) -> str:
        return ",".join(f"{n}={v}" for n, v in sorted(pairs)) or "(no dimensions)"

    shown = "; ".join(sorted(text(f) for f in found)[:5]) or "none yet"
    return (f"no series of {body.get('Namespace')}:{body['MetricName']} has exactly the dimensions {text(wanted)}; "
            f"the alarm reads only such a series. Series seen: {shown}")


@alarm.command("describe")
@click.argument("names", nargs=-1)
@click.option("--prefix", help="Only alarms whose name starts with this.")
@click.option("--state", type=click.Choice(STATES), help="Only alarms in this state.")
@client_options
def describe(names: tuple[str, ...], prefix: str | None, state: str | None, url: str, as_json: bool) -> None:
    """Show alarms NAMES (default: every alarm): state, metric, threshold, last update and reason."""
    with connect(url) as client:
        answer = client.describe_alarms(AlarmNames=list(names) or None, AlarmNamePrefix=prefix, StateValue=state)
    found = {a["AlarmName"] for a in answer.get("MetricAlarms", [])}
    missing = [n for n in names if n not in found and prefix is None and state is None]
    if missing:
        raise click.ClickException(f"no such alarm: {', '.join(missing)}")
    emit(answer, as_json, lambda out: render_alarms(answer.get("MetricAlarms", []), out))


@alarm.command("history")
@click.argument("name", required=False)
@click.option("--type", "item_type", type=click.Choice(HISTORY_TYPES), help="Only items of this type.")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="Most items shown.")
@client_options
def history(name: str | None, item_type: str | None, limit: int, url: str, as_json: bool) -> None:
    """History of alarm NAME (default: of every alarm), newest first: configuration changes, state
    transitions and action deliveries."""
    with connect(url) as client:
        if name is not None:
            client.describe_alarm(name)  # a clear error for an alarm that does not exist
        answer = client.describe_alarm_history(AlarmName=name, HistoryItemType=item_type, MaxRecords=limit)
    emit(answer, as_json, lambda out: render_history(answer.get("AlarmHistoryItems", []), name is None, out))


@alarm.command("set-state")
@click.argument("name")
@click.option("--state", type=click.Choice(STATES), required=True, help="The new state.")
@click.option("--reason", required=True, help="Why (StateReason).")
@click.option("--reason-data", metavar="JSON", help="StateReasonData, a JSON document.")
@client_options
def set_state(name: str, state: str, reason: str, reason_data: str | None, url: str, as_json: bool) -> None:
    """Set alarm NAME's state until its next evaluation period completes (SetAlarmState), e.g. to test
    its actions or a deployment's rollback."""
    with connect(url) as client:
        client.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason, StateReasonData=reason_data)
        answer = client.describe_alarm(name)
    done(f"Alarm {name} is now {answer.get('StateValue', state)}", answer, as_json)


@alarm.command("delete")
@click.argument("names", nargs=-1, required=True)
@client_options
def delete(names: tuple[str, ...], url: str, as_json: bool) -> None:
    """Delete alarms NAMES; if one does not exist, none is deleted."""
    with connect(url) as client:
        found = {a["AlarmName"] for a in client.describe_alarms(AlarmNames=list(names))["MetricAlarms"]}
        missing = [n for n in names if n not in found]
        if missing:
            raise click.ClickException(f"no such alarm: {', '.join(missing)} (nothing deleted)")
        answer = client.delete_alarms(list(dict.fromkeys(names)))
    done(f"Deleted alarm{'s' if len(names) > 1 else ''} {', '.join(names)}", answer, as_json)


@alarm.command("for-metric")
@click.option("--metric", "metric_name", required=True, help="Metric name, e.g. Invocation5XXErrors.")
@click.option("--namespace", default=DEFAULT_NAMESPACE, show_default=True, help="Metric namespace.")
@click.option("--dimension", "dimensions", multiple=True, metavar="NAME=VALUE",
              help="Dimension of the series (repeatable); the alarm's dimensions must be exactly these.")
@click.option("--statistic", help="Only alarms on this statistic (Average, Sum, ..., or p99 and the like).")
@click.option("--period", type=click.IntRange(min=1), help="Only alarms with this period, in seconds.")
@click.option("--unit", help="Only alarms with this unit.")
@client_options
def for_metric(metric_name: str, namespace: str, dimensions: tuple[str, ...], statistic: str | None,
               period: int | None, unit: str | None, url: str, as_json: bool) -> None:
    """The alarms that watch a metric (DescribeAlarmsForMetric)."""
    params: Doc = {"Dimensions": dimension_list(dimensions), "Period": period, "Unit": unit}
    if statistic is not None:
        params["Statistic" if statistic in BASIC_STATISTICS else "ExtendedStatistic"] = statistic
    with connect(url) as client:
        answer = client.describe_alarms_for_metric(MetricName=metric_name, Namespace=namespace,
                                                   **{k: v for k, v in params.items() if v is not None})
    emit(answer, as_json, lambda out: render_alarms(answer.get("MetricAlarms", []), out))


def _actions_command(enabled: bool) -> click.Command:
    verb = "enable" if enabled else "disable"

    @click.argument("names", nargs=-1, required=True)
    @client_options
    def command(names: tuple[str, ...], url: str, as_json: bool) -> None:
        with connect(url) as client:
            answer = (client.enable_alarm_actions if enabled else client.disable_alarm_actions)(list(names))
        done(f"Actions {verb}d on {', '.join(names)}", answer, as_json)

    command.__doc__ = (f"{verb.capitalize()} the actions of alarms NAMES ({verb.capitalize()}AlarmActions); "
                       "their state is still evaluated.")
    return alarm.command(f"{verb}-actions")(command)


_actions_command(True)
_actions_command(False)


def register(cli: click.Group) -> None:
    cli.add_command(alarm)
