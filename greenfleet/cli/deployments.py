"""``greenfleet deployment list|describe``, and the options of ``greenfleet endpoint update``.

``endpoint update`` turns its options into UpdateEndpoint's members (SageMaker's DeploymentConfig shape)
with ``UpdateOptions``; combinations that cannot make sense are refused here, before any request
(``--canary-size`` without ``--strategy canary``, a strategy option next to ``--deployment-config-file``,
...). Ranges (a canary of at most 50 %, ...) are the server's to check: it knows the fleets.

Sizes are ``10%`` (CAPACITY_PERCENT) or a bare ``2`` (INSTANCE_COUNT).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from greenfleet.cli.output import Doc, client_options, connect, emit, fields, print_json, table, when

if TYPE_CHECKING:
    from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])

STRATEGIES = ("all-at-once", "canary", "linear", "rolling")
ROUTING_TYPES = {"all-at-once": "ALL_AT_ONCE", "canary": "CANARY", "linear": "LINEAR"}
RETAINABLE = ("DesiredInstanceCount", "DesiredWeight", "DataCaptureConfig")
ROLLED_BACK_EXIT = 3
"""Exit status of ``endpoint update --wait`` when the deployment rolled back (or its rollback failed)."""


def parse_size(text: str) -> Doc:
    """``10%`` -> CAPACITY_PERCENT 10, ``2`` -> INSTANCE_COUNT 2 (SageMaker's CapacitySize)."""
    text = text.strip()
    percent = text.endswith("%")
    digits = text[:-1].strip() if percent else text
    if not digits.isdigit() or int(digits) < 1 or (percent and int(digits) > 100):
        raise ValueError(f"expected a percentage such as 10% (1-100%) or an instance count such as 2, got {text!r}")
    return {"Type": "CAPACITY_PERCENT" if percent else "INSTANCE_COUNT", "Value": int(digits)}


def _size(_ctx: click.Context, param: click.Parameter, value: str | None) -> Doc | None:
    if value is None:
        return None
    try:
        return parse_size(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param=param) from None


def _size_option(flag: str, description: str) -> Callable[[F], F]:
    return click.option(flag, metavar="SIZE", callback=_size, help=description)


def update_options(func: F) -> F:
    """The DeploymentConfig options of ``endpoint update`` (their names are UpdateOptions' fields)."""
    options = [
        click.option("--strategy", type=click.Choice(STRATEGIES, case_sensitive=False),
                     help="Blue/green traffic shifting (all-at-once, canary, linear) or a rolling update. "
                          "Without it (and without a config file): all at once, no bake (SageMaker's default)."),
        _size_option("--canary-size", "Canary share: 10% of capacity or 2 instances (canary CanarySize)."),
        _size_option("--linear-step", "Share per step: 25% of capacity or 1 instance (linear LinearStepSize)."),
        _size_option("--batch-size", "Instances per batch: 50% or 1 (rolling MaximumBatchSize)."),
        _size_option("--rollback-batch-size", "Instances per rollback batch (rolling RollbackMaximumBatchSize)."),
        click.option("--wait-interval", type=click.IntRange(0, 3600), metavar="SECONDS",
                     help="Bake after each traffic step or batch (WaitIntervalInSeconds); required with canary, "
                          "linear and rolling, 0 by default with all-at-once."),
        click.option("--termination-wait", type=click.IntRange(0, 3600), metavar="SECONDS",
                     help="Keep the old fleet this long after all traffic moved (TerminationWaitInSeconds)."),
        click.option("--timeout", "max_timeout", type=click.IntRange(1, 28800), metavar="SECONDS",
                     help="Roll back if the deployment takes longer (MaximumExecutionTimeoutInSeconds)."),
        click.option("--alarm", "alarms", multiple=True, metavar="NAME",
                     help="Roll back when this alarm is in ALARM (repeatable; AutoRollbackConfiguration)."),
        click.option("--allow-missing-alarms", is_flag=True,
                     help="Deploy even if an --alarm does not exist yet (the deployment is then not guarded by it)."),
        click.option("--retain-variant-properties", is_flag=True,
                     help="Keep the current weights and instance counts (RetainAllVariantProperties)."),
        click.option("--exclude-retained", multiple=True, type=click.Choice(RETAINABLE),
                     help="A property not to retain (repeatable; ExcludeRetainedVariantProperties)."),
        click.option("--retain-deployment-config", is_flag=True,
                     help="Reuse the endpoint's last DeploymentConfig (RetainDeploymentConfig)."),
        click.option("--deployment-config-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="A DeploymentConfig as JSON or YAML, instead of the strategy options."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@dataclass(frozen=True)
class UpdateOptions:
    strategy: str | None = None
    canary_size: Doc | None = None
    linear_step: Doc | None = None
    batch_size: Doc | None = None
    rollback_batch_size: Doc | None = None
    wait_interval: int | None = None
    termination_wait: int | None = None
    max_timeout: int | None = None
    alarms: tuple[str, ...] = ()
    retain_variant_properties: bool = False
    exclude_retained: tuple[str, ...] = ()
    retain_deployment_config: bool = False
    deployment_config_file: Path | None = None
    allow_missing_alarms: bool = False

    def params(self, name: str, config_name: str) -> Doc:
        """UpdateEndpoint's members; raise click.UsageError on a combination that makes no sense."""
        params: Doc = {"EndpointName": name, "EndpointConfigName": config_name}
        config = self.deployment_config()
        if config is not None:
            params["DeploymentConfig"] = config
        if self.retain_deployment_config:
            params["RetainDeploymentConfig"] = True
        if self.exclude_retained and not self.retain_variant_properties:
            raise click.UsageError("--exclude-retained needs --retain-variant-properties")
        if self.retain_variant_properties:
            params["RetainAllVariantProperties"] = True
        if self.exclude_retained:
            params["ExcludeRetainedVariantProperties"] = [
                {"VariantPropertyType": p} for p in dict.fromkeys(self.exclude_retained)]
        if self.allow_missing_alarms:
            params["AllowMissingAlarms"] = True
        return params

    def _given(self) -> list[str]:
        """The DeploymentConfig options given, as their flags."""
        values = {"--strategy": self.strategy, "--canary-size": self.canary_size, "--linear-step": self.linear_step,
                  "--batch-size": self.batch_size, "--rollback-batch-size": self.rollback_batch_size,
                  "--wait-interval": self.wait_interval, "--termination-wait": self.termination_wait,
                  "--timeout": self.max_timeout, "--alarm": self.alarms or None}
        return [flag for flag, value in values.items() if value is not None]

    def deployment_config(self) -> Doc | None:
        given = self._given()
        for source, flag in ((self.deployment_config_file, "--deployment-config-file"),
                             (self.retain_deployment_config, "--retain-deployment-config")):
            if source and given:
                raise click.UsageError(f"{flag} replaces the strategy options; drop {', '.join(given)}")
        if self.deployment_config_file is not None and self.retain_deployment_config:
            raise click.UsageError("give --deployment-config-file or --retain-deployment-config, not both")
        if self.deployment_config_file is not None:
            return load_deployment_config(self.deployment_config_file)
        config: Doc = {}
        if self.strategy is not None:
            config.update(self._policy(self.strategy.lower()))
        else:
            needing = [flag for flag in given if flag != "--alarm"]
            if needing:
                verb = "needs" if len(needing) == 1 else "need"
                raise click.UsageError(f"{', '.join(needing)} {verb} --strategy (one of {', '.join(STRATEGIES)})")
        if self.alarms:
            config["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": a} for a in dict.fromkeys(self.alarms)]}
        return config or None

    def _policy(self, strategy: str) -> Doc:
        self._check(strategy)
        wait = self.wait_interval if self.wait_interval is not None else 0
        if strategy == "rolling":
            rolling: Doc = {"MaximumBatchSize": self.batch_size, "WaitIntervalInSeconds": wait,
                            "MaximumExecutionTimeoutInSeconds": self.max_timeout,
                            "RollbackMaximumBatchSize": self.rollback_batch_size}
            return {"RollingUpdatePolicy": _compact(rolling)}
        routing: Doc = {"Type": ROUTING_TYPES[strategy], "WaitIntervalInSeconds": wait,
                        "CanarySize": self.canary_size, "LinearStepSize": self.linear_step}
        policy: Doc = {"TrafficRoutingConfiguration": _compact(routing),
                       "TerminationWaitInSeconds": self.termination_wait,
                       "MaximumExecutionTimeoutInSeconds": self.max_timeout}
        return {"BlueGreenUpdatePolicy": _compact(policy)}

    def _check(self, strategy: str) -> None:
        owners = {"--canary-size": ("canary", self.canary_size), "--linear-step": ("linear", self.linear_step),
                  "--batch-size": ("rolling", self.batch_size),
                  "--rollback-batch-size": ("rolling", self.rollback_batch_size)}
        for flag, (owner, value) in owners.items():
            if value is not None and strategy != owner:
                raise click.UsageError(f"{flag} goes only with --strategy {owner} (not {strategy})")
        required = {"canary": "--canary-size", "linear": "--linear-step", "rolling": "--batch-size"}
        if strategy in required and owners[required[strategy]][1] is None:
            raise click.UsageError(f"--strategy {strategy} needs {required[strategy]}")
        if strategy != "all-at-once" and self.wait_interval is None:
            raise click.UsageError(f"--strategy {strategy} needs --wait-interval SECONDS (how long each step bakes)")
        if strategy == "rolling" and self.termination_wait is not None:
            raise click.UsageError("--termination-wait goes only with blue/green strategies (not rolling)")


def _compact(doc: Doc) -> Doc:
    return {k: v for k, v in doc.items() if v is not None}


def load_deployment_config(path: Path) -> Doc:
    """A DeploymentConfig from a JSON or YAML file (bare, or under a top-level DeploymentConfig key)."""
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="--deployment-config-file") from exc
    if isinstance(doc, dict) and isinstance(doc.get("DeploymentConfig"), dict):
        doc = doc["DeploymentConfig"]
    if not isinstance(doc, dict) or not doc:
        raise click.BadParameter(f"{path} must hold a DeploymentConfig object", param_hint="--deployment-config-file")
    return doc


# --- rendering ---------------------------------------------------------------------------------------


def state_of(doc: Doc) -> str:
    """The outcome of an ended deployment, else its phase (running)."""
    return str(doc.get("Outcome") or f"{doc.get('Phase', '-')} (running)")


def duration(doc: Doc, now: float | None = None) -> str:
    start, end = doc.get("StartTime"), doc.get("EndTime")
    if start is None:
        return "-"
    seconds = float(end if end is not None else (now if now is not None else time.time())) - float(start)
    return f"{max(seconds, 0.0):.1f} s"


def render_list(items: list[Doc], out: Console) -> None:
    rows = [(d["DeploymentId"], d.get("Strategy", "-"), f"{d.get('FromConfig')} → {d.get('ToConfig')}",
             state_of(d), when(d.get("StartTime")), duration(d)) for d in items]
    out.print(table(["Deployment", "Strategy", "From → to", "Phase / outcome", "Started", "Duration"], rows))


def render_deployment(doc: Doc, out: Console) -> None:
    config = (doc.get("View") or {}).get("LastDeploymentConfig")
    out.print(fields([
        ("Deployment", doc["DeploymentId"]), ("Endpoint", doc.get("EndpointName")), ("Strategy", doc.get("Strategy")),
        ("From → to", f"{doc.get('FromConfig')} → {doc.get('ToConfig')}"), ("Phase", doc.get("Phase")),
        ("Outcome", doc.get("Outcome") or "running"), ("Failure reason", doc.get("FailureReason")),
        ("Started", when(doc.get("StartTime"))), ("Ended", when(doc.get("EndTime"))), ("Duration", duration(doc)),
        ("Deployment config", json.dumps(config) if config else "none (all at once, no bake)"),
    ]))
    start = float(doc.get("StartTime") or 0)
    rows = [(when(e["At"]), f"+{float(e['At']) - start:.1f}s", e["Phase"], e["Message"])
            for e in doc.get("Timeline", [])]
    out.print(table(["Time", "Elapsed", "Phase", "Message"], rows, title="Timeline"))
    judge = (doc.get("Rollout") or {}).get("Judge") or {}
    report = judge.get("LastJudgement") or judge.get("Latest")
    if judge:
        warm = judge.get("WarmUp") or {}
        warm_up = " and ".join(([f"first {warm['Seconds']:g} s"] if warm.get("Seconds") else [])
                               + ([f"first {warm['Invocations']} invocations"] if warm.get("Invocations") else []))
        out.print(fields([("Judge compares", judge.get("Compared")),
                          ("Warm-up not judged", warm_up or "none"),
                          *[("Left out", line) for line in judge.get("Excluded") or []]]))
    if report:
        def figure(value: object) -> str:
            return f"{value:.4g}" if isinstance(value, int | float) else "-"

        metrics = [(m["name"], m["test"], m["verdict"], f"{m['control_n']} / {m['experiment_n']}",
                    figure(m.get("control_value")), figure(m.get("experiment_value")), figure(m.get("estimate")),
                    f"[{figure(m.get('lower'))}, {figure(m.get('upper'))}]") for m in report["metrics"]]
        ctl = "baseline" if judge.get("Baseline") else "blue"
        out.print(table(["Metric", "Test", "Verdict", f"n {ctl} / green", ctl.capitalize(), "Green", f"Green - {ctl}",
                         "Interval"],
                        metrics, title=f"Judge: {report['decision']} (score {figure(report.get('score'))}): "
                                       f"{report['reason']}"))


def report_outcome(doc: Doc, as_json: bool) -> int:
    """The end of ``endpoint update --wait``: a summary (or the deployment as JSON) and the exit status."""
    outcome = doc.get("Outcome")
    if as_json:
        print_json(doc)
    elif outcome == "SUCCEEDED":
        click.echo(f"Deployment {doc['DeploymentId']} SUCCEEDED after {duration(doc)}: endpoint "
                   f"{doc.get('EndpointName')} serves {doc.get('ToConfig')}.")
    else:
        serves = (f"endpoint {doc.get('EndpointName')} serves {doc.get('FromConfig')} again"
                  if outcome == "ROLLED_BACK" else f"endpoint {doc.get('EndpointName')} is UpdateRollbackFailed")
        click.echo(f"Deployment {doc['DeploymentId']} {outcome or doc.get('Phase')} after {duration(doc)}: "
                   f"{serves}.", err=True)
        click.echo(f"FailureReason: {doc.get('FailureReason') or 'none given'}", err=True)
    return 0 if outcome == "SUCCEEDED" else ROLLED_BACK_EXIT


# --- commands ----------------------------------------------------------------------------------------


@click.group("deployment", short_help="List and describe an endpoint's deployments (UpdateEndpoint).")
def deployment() -> None:
    """Deployments: each UpdateEndpoint, with its strategy, outcome and timeline."""


@deployment.command("list")
@click.argument("endpoint_name", metavar="ENDPOINT")
@client_options
def list_(endpoint_name: str, url: str, as_json: bool) -> None:
    """List the deployments of ENDPOINT, newest first."""
    with connect(url) as client:
        doc = client.list_deployments(EndpointName=endpoint_name)
    emit(doc, as_json, lambda out: render_list(doc["Deployments"], out))


@deployment.command("describe")
@click.argument("endpoint_name", metavar="ENDPOINT")
@click.option("--id", "deployment_id", help="The deployment (default: the newest).")
@client_options
def describe(endpoint_name: str, deployment_id: str | None, url: str, as_json: bool) -> None:
    """Show a deployment of ENDPOINT: outcome, failure reason and timeline."""
    with connect(url) as client:
        doc = client.describe_deployment(EndpointName=endpoint_name, DeploymentId=deployment_id)
    emit(doc, as_json, lambda out: render_deployment(doc, out))


def _command(kind: str, summary: str) -> None:
    @deployment.command(kind.lower(), help=f"{summary} The command is recorded on the timeline with who and why.")
    @click.argument("endpoint_name", metavar="ENDPOINT")
    @click.option("--reason", default="", help="Why (shown on the timeline).")
    @click.option("--by", default=None, envvar="USER", help="Who (default: $USER).")
    @client_options
    def run(endpoint_name: str, reason: str, by: str | None, url: str, as_json: bool) -> None:
        with connect(url) as client:
            doc = client.command_deployment(EndpointName=endpoint_name, Command=kind, Reason=reason, By=by)
        emit(doc, as_json, lambda out: out.print(f"{kind} queued for deployment {doc['DeploymentId']} "
                                                 f"of {endpoint_name} (command {doc['CommandId']})"))


for _kind, _summary in (("ABORT", "Roll the running deployment back now."),
                        ("PAUSE", "Stop the running deployment from advancing (rollback causes still apply)."),
                        ("RESUME", "Let a paused deployment advance again."),
                        ("APPROVE", "Let a step that waits for approval go on."),
                        ("PROMOTE", "Skip the remaining bakes, approvals and the termination wait.")):
    _command(_kind, _summary)


def register(cli: click.Group) -> None:
    cli.add_command(deployment)
