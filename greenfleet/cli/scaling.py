"""``greenfleet scaling target|policy|activities …``: Application Auto Scaling of SageMaker variants."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from greenfleet.cli.output import Doc, client_options, connect, done, emit, table, when

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from greenfleet.client import Client

DIMENSION = "sagemaker:variant:DesiredInstanceCount"
PREDEFINED = {"invocations": "SageMakerVariantInvocationsPerInstance",
              "concurrency": "SageMakerVariantConcurrentRequestsPerModelHighResolution"}


def resource(endpoint: str, variant: str) -> str:
    return f"endpoint/{endpoint}/variant/{variant}"


def _key(endpoint: str, variant: str) -> Doc:
    return {"ServiceNamespace": "sagemaker", "ResourceId": resource(endpoint, variant), "ScalableDimension": DIMENSION}


variant_option = click.option("--variant", default="AllTraffic", show_default=True, help="The production variant.")


@click.group("scaling", short_help="Auto scaling of variants: targets, policies, activities.")
def scaling() -> None:
    """Application Auto Scaling of a variant's instance count (boto3's application-autoscaling client works
    against the same base URL)."""


@scaling.group("target")
def target() -> None:
    """Scalable targets: a variant's instance count between a minimum and a maximum."""


@target.command("register")
@click.argument("endpoint")
@variant_option
@click.option("--min", "low", type=int, help="MinCapacity (required for a new target).")
@click.option("--max", "high", type=int, help="MaxCapacity (required for a new target).")
@click.option("--suspend", type=click.Choice(["in", "out", "none"]), help="Suspend scale-in, scale-out, or neither.")
@client_options
def target_register(endpoint: str, variant: str, low: int | None, high: int | None, suspend: str | None, url: str,
                    as_json: bool) -> None:
    """Register (or update) the scalable target of ENDPOINT's variant."""
    params: Doc = _key(endpoint, variant)
    if low is not None:
        params["MinCapacity"] = low
    if high is not None:
        params["MaxCapacity"] = high
    if suspend is not None:
        params["SuspendedState"] = {"DynamicScalingInSuspended": suspend == "in",
                                    "DynamicScalingOutSuspended": suspend == "out"}
    with connect(url) as client:
        answer = client.register_scalable_target(**params)
    done(f"Registered {params['ResourceId']}: {answer['ScalableTargetARN']}", answer, as_json)


@target.command("list")
@click.argument("endpoint", required=False)
@client_options
def target_list(endpoint: str | None, url: str, as_json: bool) -> None:
    """List scalable targets (of ENDPOINT's variants if given)."""
    with connect(url) as client:
        items = list(client.paginate(client.describe_scalable_targets, "ScalableTargets"))
    if endpoint:
        items = [t for t in items if t["ResourceId"].startswith(f"endpoint/{endpoint}/variant/")]
    rows = [(t["ResourceId"], t["MinCapacity"], t["MaxCapacity"], _suspended(t), when(t["CreationTime"]))
            for t in items]
    emit({"ScalableTargets": items}, as_json,
         lambda out: out.print(table(["Resource", "Min", "Max", "Suspended", "Registered"], rows)))


def _suspended(t: Doc) -> str:
    state = t.get("SuspendedState") or {}
    gone = [k for k, name in (("in", "DynamicScalingInSuspended"), ("out", "DynamicScalingOutSuspended"))
            if state.get(name)]
    return ", ".join(gone) or "-"


@target.command("deregister")
@click.argument("endpoint")
@variant_option
@client_options
def target_deregister(endpoint: str, variant: str, url: str, as_json: bool) -> None:
    """Deregister the scalable target of ENDPOINT's variant (its policies and their alarms go with it)."""
    with connect(url) as client:
        answer = client.deregister_scalable_target(**_key(endpoint, variant))
    done(f"Deregistered {resource(endpoint, variant)}", answer, as_json)


@scaling.group("policy")
def policy() -> None:
    """Scaling policies: target tracking (with the alarms it owns) or step scaling (driven by your alarms)."""


@policy.command("put")
@click.argument("endpoint")
@click.argument("name")
@variant_option
@click.option("--target", "target_value", type=float, help="Target tracking: the value to keep the metric at.")
@click.option("--metric", type=click.Choice(sorted(PREDEFINED)), default="invocations", show_default=True,
              help="Target tracking's predefined metric: invocations per instance per minute, or concurrent "
                   "requests per model.")
@click.option("--scale-out-cooldown", type=int, help="Seconds (default: the server's, 300).")
@click.option("--scale-in-cooldown", type=int, help="Seconds (default: the server's, 300).")
@click.option("--disable-scale-in", is_flag=True, help="Never scale in.")
@click.option("--file", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A JSON TargetTrackingScalingPolicyConfiguration or StepScalingPolicyConfiguration (customized "
                   "metrics, metric math, steps).")
@client_options
def policy_put(endpoint: str, name: str, variant: str, target_value: float | None, metric: str,
               scale_out_cooldown: int | None, scale_in_cooldown: int | None, disable_scale_in: bool,
               config_file: Path | None, url: str, as_json: bool) -> None:
    """Create or replace scaling policy NAME of ENDPOINT's variant."""
    params: Doc = {**_key(endpoint, variant), "PolicyName": name}
    if config_file is not None:
        try:
            loaded = json.loads(config_file.read_text())
        except ValueError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="--file") from None
        if not isinstance(loaded, dict):
            raise click.BadParameter("expected a JSON object", param_hint="--file")
        if "StepAdjustments" in loaded:
            params.update(PolicyType="StepScaling", StepScalingPolicyConfiguration=loaded)
        else:
            params.update(PolicyType="TargetTrackingScaling", TargetTrackingScalingPolicyConfiguration=loaded)
    elif target_value is None:
        raise click.UsageError("give --target (target tracking on a predefined metric) or --file")
    else:
        tracking: Doc = {"TargetValue": target_value,
                         "PredefinedMetricSpecification": {"PredefinedMetricType": PREDEFINED[metric]}}
        for key, value in (("ScaleOutCooldown", scale_out_cooldown), ("ScaleInCooldown", scale_in_cooldown)):
            if value is not None:
                tracking[key] = value
        if disable_scale_in:
            tracking["DisableScaleIn"] = True
        params.update(PolicyType="TargetTrackingScaling", TargetTrackingScalingPolicyConfiguration=tracking)
    with connect(url) as client:
        answer = client.put_scaling_policy(**params)
    alarms = ", ".join(a["AlarmName"] for a in answer.get("Alarms", []))
    done(f"Put policy {name}: {answer['PolicyARN']}" + (f" (alarms: {alarms})" if alarms else ""), answer, as_json)


@policy.command("list")
@click.argument("endpoint", required=False)
@variant_option
@client_options
def policy_list(endpoint: str | None, variant: str, url: str, as_json: bool) -> None:
    """List scaling policies (of ENDPOINT's variant if given)."""
    query: Doc = {"ResourceId": resource(endpoint, variant)} if endpoint else {}
    with connect(url) as client:
        items = list(client.paginate(client.describe_scaling_policies, "ScalingPolicies", **query))
    rows = [(p["PolicyName"], p["ResourceId"], p["PolicyType"], _summary(p),
             ", ".join(a["AlarmName"] for a in p.get("Alarms", [])) or "-") for p in items]
    emit({"ScalingPolicies": items}, as_json,
         lambda out: out.print(table(["Policy", "Resource", "Type", "Configuration", "Alarms"], rows)))


def _summary(p: Doc) -> str:
    tracking = p.get("TargetTrackingScalingPolicyConfiguration")
    if tracking:
        metric = (tracking.get("PredefinedMetricSpecification") or {}).get("PredefinedMetricType", "customized")
        return f"{metric} at {tracking['TargetValue']:g}"
    step = p.get("StepScalingPolicyConfiguration") or {}
    return f"{step.get('AdjustmentType')}: {len(step.get('StepAdjustments', []))} step(s)"


@policy.command("delete")
@click.argument("endpoint")
@click.argument("name")
@variant_option
@client_options
def policy_delete(endpoint: str, name: str, variant: str, url: str, as_json: bool) -> None:
    """Delete scaling policy NAME of ENDPOINT's variant (and the alarms it owns)."""
    with connect(url) as client:
        answer = client.delete_scaling_policy(**_key(endpoint, variant), PolicyName=name)
    done(f"Deleted policy {name}", answer, as_json)


@scaling.command("activities")
@click.argument("endpoint", required=False)
@variant_option
@click.option("--not-scaled", is_flag=True, help="Include the activities that did not scale (and why).")
@click.option("--limit", type=click.IntRange(1, 50), default=20, show_default=True)
@client_options
def activities(endpoint: str | None, variant: str, not_scaled: bool, limit: int, url: str, as_json: bool) -> None:
    """Scaling activities, newest first: what changed, why, and how it ended."""
    query: Doc = {"MaxResults": limit, "IncludeNotScaledActivities": not_scaled}
    if endpoint:
        query["ResourceId"] = resource(endpoint, variant)
    with connect(url) as client:
        items = client.describe_scaling_activities(**query)["ScalingActivities"]
    emit({"ScalingActivities": items}, as_json, lambda out: out.print(activity_table(items)))


def activity_table(items: list[Doc]) -> Table:
    rows = [(when(a["StartTime"]), a["ResourceId"], a["StatusCode"], a["Description"], a["Cause"],
             "; ".join(r["Code"] for r in a.get("NotScaledReasons", [])) or a.get("StatusMessage", "-"))
            for a in items]
    return table(["Started", "Resource", "Status", "Description", "Cause", "Outcome"], rows)


RECENT_ACTIVITIES = 5


def endpoint_scaling(client: Client, endpoint: str) -> Doc:
    """An endpoint's scalable targets, their policies and recent activities (for ``endpoint describe``)."""
    prefix = f"endpoint/{endpoint}/variant/"
    targets = [t for t in client.paginate(client.describe_scalable_targets, "ScalableTargets")
               if t["ResourceId"].startswith(prefix)]
    policies: list[Doc] = []
    activities: list[Doc] = []
    for t in targets:
        policies += client.describe_scaling_policies(ResourceId=t["ResourceId"])["ScalingPolicies"]
        activities += client.describe_scaling_activities(ResourceId=t["ResourceId"], MaxResults=RECENT_ACTIVITIES,
                                                         IncludeNotScaledActivities=True)["ScalingActivities"]
    activities.sort(key=lambda a: a["StartTime"], reverse=True)
    return {"ScalableTargets": targets, "ScalingPolicies": policies,
            "ScalingActivities": activities[:RECENT_ACTIVITIES]}


def render_scaling(scaling: Doc, out: Console) -> None:
    if not scaling["ScalableTargets"]:
        out.print("Auto scaling: none (greenfleet scaling target register ENDPOINT --min N --max M)")
        return
    rows = []
    for t in scaling["ScalableTargets"]:
        mine = [p for p in scaling["ScalingPolicies"] if p["ResourceId"] == t["ResourceId"]]
        rows.append((t["ResourceId"].rsplit("/", 1)[1], t["MinCapacity"], t["MaxCapacity"], _suspended(t),
                     "; ".join(f"{p['PolicyName']} ({_summary(p)})" for p in mine) or "-"))
    out.print(table(["Variant", "Min", "Max", "Suspended", "Policies"], rows, title="Auto scaling"))
    if scaling["ScalingActivities"]:
        out.print(activity_table(scaling["ScalingActivities"]))


def register(cli: click.Group) -> None:
    cli.add_command(scaling)
