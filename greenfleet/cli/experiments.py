"""``greenfleet experiment …``: shadow tests (SageMaker's inference experiments) and their paired report."""

from __future__ import annotations

from typing import Any

import click

from greenfleet.cli.output import Doc, client_options, connect, done, emit, fields, table, when

DEFAULT_ROLE = "arn:aws:iam::000000000000:role/greenfleet"


@click.group("experiment", short_help="Shadow tests: a shadow variant beside production, compared live.")
def experiment() -> None:
    """Inference experiments (SageMaker's shadow tests): a shadow variant gets a copy of a sample of the
    production variant's requests; its answers are kept for comparison, never returned."""


@experiment.command("create")
@click.argument("name")
@click.option("--endpoint", required=True, help="The endpoint (InService) to test on.")
@click.option("--shadow-model", required=True, help="The model the shadow variant serves.")
@click.option("--shadow-variant", default="shadow", show_default=True, help="The shadow variant's name.")
@click.option("--source", help="The production variant copied from (default: the endpoint's first).")
@click.option("--instance-type", default="ml.m5.large", show_default=True)
@click.option("--instance-count", default=1, show_default=True, type=int)
@click.option("--sampling", default=100, show_default=True, type=int, help="SamplingPercentage (0-100).")
@click.option("--start", help="Schedule.StartTime (ISO 8601; default now).")
@click.option("--end", help="Schedule.EndTime (ISO 8601; default start + 7 days, at most 30 days).")
@click.option("--description")
@click.option("--role-arn", default=DEFAULT_ROLE, show_default=True, help="RoleArn (recorded, not used).")
@client_options
def create(name: str, endpoint: str, shadow_model: str, shadow_variant: str, source: str | None,
           instance_type: str, instance_count: int, sampling: int, start: str | None, end: str | None,
           description: str | None, role_arn: str, url: str, as_json: bool) -> None:
    """Create shadow test NAME on ENDPOINT."""
    with connect(url) as client:
        described = client.describe_endpoint(EndpointName=endpoint)
        production = next((v for v in described["ProductionVariants"]
                           if source is None or v["VariantName"] == source), None)
        if production is None:
            raise click.UsageError(f"endpoint {endpoint} has no production variant {source}")
        config = client.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
        spec = next(v for v in config["ProductionVariants"] if v["VariantName"] == production["VariantName"])

        def infra(kind: str, count: int) -> Doc:
            return {"InfrastructureType": "RealTimeInference",
                    "RealTimeInferenceConfig": {"InstanceType": kind, "InstanceCount": count}}

        params: Doc = {
            "Name": name, "Type": "ShadowMode", "RoleArn": role_arn, "EndpointName": endpoint,
            "ModelVariants": [
                {"ModelName": spec["ModelName"], "VariantName": spec["VariantName"],
                 "InfrastructureConfig": infra(spec.get("InstanceType") or instance_type,
                                               production["CurrentInstanceCount"])},
                {"ModelName": shadow_model, "VariantName": shadow_variant,
                 "InfrastructureConfig": infra(instance_type, instance_count)}],
            "ShadowModeConfig": {"SourceModelVariantName": spec["VariantName"], "ShadowModelVariants": [
                {"ShadowModelVariantName": shadow_variant, "SamplingPercentage": sampling}]}}
        schedule = {k: v for k, v in (("StartTime", start), ("EndTime", end)) if v}
        if schedule:
            params["Schedule"] = schedule
        if description:
            params["Description"] = description
        answer = client.create_inference_experiment(**params)
    done(f"Created inference experiment {name}: {answer['InferenceExperimentArn']}", answer, as_json)


@experiment.command("list")
@client_options
def list_experiments(url: str, as_json: bool) -> None:
    """List inference experiments, newest first."""
    with connect(url) as client:
        items = list(client.paginate(client.list_inference_experiments, "InferenceExperiments", MaxResults=100))
    rows = [(i["Name"], i["Status"], when(i["Schedule"].get("StartTime")), when(i["Schedule"].get("EndTime")),
             i.get("StatusReason") or "-") for i in items]
    emit({"InferenceExperiments": items}, as_json,
         lambda out: out.print(table(["Name", "Status", "Start", "End", "Reason"], rows)))


@experiment.command("describe")
@click.argument("name")
@client_options
def describe(name: str, url: str, as_json: bool) -> None:
    """Show inference experiment NAME."""
    with connect(url) as client:
        doc = client.describe_inference_experiment(Name=name)

    def render(out: Any) -> None:
        shadow = doc["ShadowModeConfig"]["ShadowModelVariants"][0]
        out.print(fields([("Name", doc["Name"]), ("Status", doc["Status"]), ("Reason", doc.get("StatusReason")),
                          ("Endpoint", doc["EndpointMetadata"]["EndpointName"]),
                          ("Start", when(doc["Schedule"]["StartTime"])), ("End", when(doc["Schedule"]["EndTime"])),
                          ("Sampling", f"{shadow['SamplingPercentage']} % to {shadow['ShadowModelVariantName']}"),
                          ("Completed", when(doc.get("CompletionTime")) if doc.get("CompletionTime") else None)]))
        out.print(table(["Variant", "Model", "Instances", "Status"], [
            (v["VariantName"], v["ModelName"], v["InfrastructureConfig"]["RealTimeInferenceConfig"]["InstanceCount"],
             v["Status"]) for v in doc["ModelVariants"]]))

    emit(doc, as_json, render)


@experiment.command("update")
@click.argument("name")
@click.option("--sampling", type=int, help="The shadow's SamplingPercentage (0-100); changeable while running.")
@click.option("--end", help="Schedule.EndTime (ISO 8601).")
@click.option("--description")
@client_options
def update(name: str, sampling: int | None, end: str | None, description: str | None, url: str,
           as_json: bool) -> None:
    """Change NAME's sampling, end time or description."""
    params: Doc = {}
    with connect(url) as client:
        if sampling is not None:
            config = client.describe_inference_experiment(Name=name)["ShadowModeConfig"]
            config["ShadowModelVariants"][0]["SamplingPercentage"] = sampling
            params["ShadowModeConfig"] = config
        if end:
            params["Schedule"] = {"EndTime": end}
        if description:
            params["Description"] = description
        answer = client.update_inference_experiment(Name=name, **params)
    done(f"Updated inference experiment {name}", answer, as_json)


@experiment.command("start")
@click.argument("name")
@client_options
def start(name: str, url: str, as_json: bool) -> None:
    """Start NAME now (it was Created with a later StartTime)."""
    with connect(url) as client:
        answer = client.start_inference_experiment(Name=name)
    done(f"Starting inference experiment {name}", answer, as_json)


@experiment.command("stop")
@click.argument("name")
@click.option("--shadow", "action", type=click.Choice(["Promote", "Retain", "Remove"]), default="Remove",
              show_default=True, help="What happens to the shadow variant (Promote: a guarded deployment).")
@click.option("--cancel", is_flag=True, help="End as Cancelled rather than Completed.")
@click.option("--reason")
@client_options
def stop(name: str, action: str, cancel: bool, reason: str | None, url: str, as_json: bool) -> None:
    """Stop NAME: promote, retain or remove its shadow variant."""
    with connect(url) as client:
        doc = client.describe_inference_experiment(Name=name)
        shadow = doc["ShadowModeConfig"]["ShadowModelVariants"][0]["ShadowModelVariantName"]
        params: Doc = {"ModelVariantActions": {shadow: action}, "DesiredState": "Cancelled" if cancel else "Completed"}
        if reason:
            params["Reason"] = reason
        answer = client.stop_inference_experiment(Name=name, **params)
    done(f"Stopping inference experiment {name} ({shadow}: {action})", answer, as_json)


@experiment.command("delete")
@click.argument("name")
@client_options
def delete(name: str, url: str, as_json: bool) -> None:
    """Delete NAME's record (never the endpoint or its variants)."""
    with connect(url) as client:
        answer = client.delete_inference_experiment(Name=name)
    done(f"Deleted inference experiment {name}", answer, as_json)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def render_report(doc: Doc, out: Any) -> None:
    """The paired report as tables, with bars for the latency percentiles."""
    from greenfleet.cli.metrics import bar

    latency, errors, predictions = doc["Latency"], doc["Errors"], doc["Predictions"]
    out.print(fields([("Experiment", doc["InferenceExperimentName"]), ("Endpoint", doc["EndpointName"]),
                      ("Pairs", doc["Pairs"])]))
    sides = (("Production", doc["ProductionVariant"]), ("Shadow", doc["ShadowVariant"]))
    top = max([v for side, _ in sides for v in latency[side].values() if v is not None] or [1.0])
    rows = [(f"{variant} ({side.lower()})", q, _ms(latency[side][q]),
             bar(latency[side][q] or 0.0, 0.0, top)) for side, variant in sides for q in ("p50", "p90", "p99")]
    out.print(table(["Variant", "Percentile", "ModelLatency ms", ""], rows, title="Latency"))
    shift = latency.get("Shift")
    if shift:
        out.print(f"Shadow - production (Hodges-Lehmann): {shift['Estimate']:+.3f} ms in "
                  f"[{shift['Lower']:.3f}, {shift['Upper']:.3f}] ({shift['Confidence']:.0%}): {shift['Verdict']}")
    out.print(table(["Variant", "Requests", "Errors", "Rate"], [
        (variant, errors[side]["Requests"], errors[side]["Errors"],
         "-" if errors[side]["Rate"] is None else f"{errors[side]['Rate']:.2%}") for side, variant in sides],
        title="Errors"))
    difference = errors.get("Difference")
    if difference:
        out.print(f"Error-rate difference {difference['Estimate']:+.4f} in [{difference['Lower']:.4f}, "
                  f"{difference['Upper']:.4f}], always-valid p = {difference['PValue']:.3g}"
                  + (" (significant)" if difference["Significant"] else ""))
    if predictions.get("Kind") == "classification":
        low, high = predictions["AgreementInterval"]
        out.print(f"Agreement {predictions['Agreement']:.2%} [{low:.2%}, {high:.2%}] over {predictions['Pairs']} pairs")
        classes = predictions["Classes"]
        out.print(table(["production \\ shadow", *classes],
                        [(c, *row) for c, row in zip(classes, predictions["ConfusionMatrix"], strict=True)],
                        title="Confusion matrix"))
    elif predictions.get("Kind") == "regression":
        diff = predictions["AbsoluteDifference"]
        out.print(table(["|shadow - production|", "p50", "p90", "p99", "mean"],
                        [("", *(f"{diff[k]:.4g}" for k in ("p50", "p90", "p99", "Mean")))], title="Predictions"))
    divergent = predictions.get("MostDivergent") or []
    if divergent:
        out.print(table(["Inference id", "Input", "Production", "Shadow"], [
            (d["InferenceId"], d["Input"][:40], d["Production"], d["Shadow"]) for d in divergent],
            title="Most divergent inputs"))


@experiment.command("report")
@click.argument("name")
@client_options
def report(name: str, url: str, as_json: bool) -> None:
    """The paired comparison of NAME's production and shadow answers (live while it runs)."""
    with connect(url) as client:
        doc = client.inference_experiment_report(Name=name)
    emit(doc, as_json, lambda out: render_report(doc, out))


def register(cli: click.Group) -> None:
    cli.add_command(experiment)


__all__ = ["register"]
