"""``greenfleet endpoint create|describe|list|update|delete|set-weights``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from greenfleet.cli.deployments import UpdateOptions, report_outcome, update_options
from greenfleet.cli.output import (
    Doc,
    client_options,
    connect,
    console,
    done,
    emit,
    fields,
    number,
    table,
    tag_list,
    when,
)

if TYPE_CHECKING:
    from rich.console import Console

wait_option = click.option("--wait", is_flag=True, help="Wait until the change is complete.")
timeout_option = click.option("--timeout", "timeout_s", type=float, default=600.0, show_default=True,
                              help="Longest wait, in seconds.")


def parse_weight(spec: str) -> Doc:
    """``blue=0.5`` (weight), ``blue=0.5:2`` (weight and instance count) or ``blue=:2`` (count only)."""
    name, sep, rest = spec.partition("=")
    weight, _, count = rest.partition(":")
    if not sep or not name or not (weight or count):
        raise click.BadParameter(f"expected VARIANT=WEIGHT[:COUNT], got {spec!r}", param_hint="--variant")
    wanted: Doc = {"VariantName": name}
    try:
        if weight:
            wanted["DesiredWeight"] = float(weight)
        if count:
            wanted["DesiredInstanceCount"] = int(count)
    except ValueError as exc:
        raise click.BadParameter(f"{spec!r}: the weight must be a number and the count an integer",
                                 param_hint="--variant") from exc
    return wanted


def render_endpoint(doc: Doc, out: Console) -> None:
    out.print(fields([
        ("Endpoint", doc["EndpointName"]), ("ARN", doc["EndpointArn"]), ("Config", doc.get("EndpointConfigName")),
        ("Status", doc["EndpointStatus"]), ("Failure reason", doc.get("FailureReason")),
        ("Created", when(doc.get("CreationTime"))), ("Modified", when(doc.get("LastModifiedTime"))),
    ]))
    for key, title in (("ProductionVariants", "Production variants"), ("ShadowProductionVariants", "Shadow variants")):
        rows = []
        for v in doc.get(key, []):
            statuses = ", ".join(s["Status"] for s in v.get("VariantStatus") or [])  # SageMaker shows none: blank
            rows.append((v["VariantName"], number(v.get("CurrentWeight")), number(v.get("DesiredWeight")),
                         number(v.get("CurrentInstanceCount")), number(v.get("DesiredInstanceCount")),
                         (v.get("RoutingConfig") or {}).get("RoutingStrategy", "-"), statuses))
        if rows or key == "ProductionVariants":
            out.print(table(["Variant", "Current weight", "Desired weight", "Instances", "Desired instances",
                             "Routing", "Variant status"], rows, title=title))
    for v in doc.get("ProductionVariants", []):
        config = v.get("CurrentServerlessConfig")
        if config:
            out.print(f"Serverless {v['VariantName']}: {config['MemorySizeInMB']} MB, MaxConcurrency "
                      f"{config['MaxConcurrency']}, ProvisionedConcurrency {config.get('ProvisionedConcurrency', 0)}"
                      f" ({number(v.get('CurrentInstanceCount'))} warm)")


@click.group("endpoint", short_help="Create, describe, list, reweigh and delete endpoints.")
def endpoint() -> None:
    """Endpoints: a configuration served on /endpoints/NAME/invocations."""


@endpoint.command("create")
@click.argument("name")
@click.option("--config", "config_name", required=True, help="Endpoint configuration to serve.")
@click.option("--tag", "tags", multiple=True, metavar="K=V", help="Tag (repeatable).")
@wait_option
@timeout_option
@client_options
def create(name: str, config_name: str, tags: tuple[str, ...], wait: bool, timeout_s: float, url: str,
           as_json: bool) -> None:
    """Create endpoint NAME serving configuration --config."""
    params: Doc = {"EndpointName": name, "EndpointConfigName": config_name}
    if tags:
        params["Tags"] = tag_list(tags)
    with connect(url) as client:
        answer = client.create_endpoint(**params)
        if wait:
            doc = client.wait_for_endpoint(EndpointName=name, Timeout=timeout_s)
            emit(doc, as_json, lambda out: render_endpoint(doc, out))
            return
    done(f"Creating endpoint {name}: {answer['EndpointArn']}", answer, as_json)


@endpoint.command("describe")
@click.argument("name")
@client_options
def describe(name: str, url: str, as_json: bool) -> None:
    """Show endpoint NAME: status, failure reason, weights and instance counts per variant, serverless
    settings, and its auto scaling (targets, policies, recent activities; --json prints DescribeEndpoint's
    answer only)."""
    from greenfleet.cli.scaling import endpoint_scaling, render_scaling

    with connect(url) as client:
        doc = client.describe_endpoint(EndpointName=name)
        scaling = None if as_json else endpoint_scaling(client, name)

    def render(out: Console) -> None:
        render_endpoint(doc, out)
        if scaling is not None:
            render_scaling(scaling, out)

    emit(doc, as_json, render)


@endpoint.command("list")
@click.option("--name-contains", help="Only endpoints whose name contains this text.")
@click.option("--status", help="Only endpoints with this status, e.g. InService.")
@client_options
def list_(name_contains: str | None, status: str | None, url: str, as_json: bool) -> None:
    """List endpoints, newest first."""
    with connect(url) as client:
        items = list(client.paginate(client.list_endpoints, "Endpoints", MaxResults=100,
                                     NameContains=name_contains, StatusEquals=status))
    rows = [(e["EndpointName"], e["EndpointStatus"], when(e["CreationTime"]), when(e["LastModifiedTime"]))
            for e in items]
    emit({"Endpoints": items}, as_json,
         lambda out: out.print(table(["Name", "Status", "Created", "Modified"], rows)))


@endpoint.command("update")
@click.argument("name")
@click.option("--config", "config_name", required=True, help="Endpoint configuration to deploy.")
@update_options
@click.option("--wait", is_flag=True,
              help="Show live progress until the deployment ends; exit 3 if it rolls back.")
@client_options
def update(name: str, config_name: str, wait: bool, url: str, as_json: bool, **options: Any) -> None:
    """Deploy configuration --config to endpoint NAME (UpdateEndpoint) with SageMaker's guardrails:
    blue/green (all at once, canary, linear) or rolling, with auto-rollback on alarms.

    With --wait, progress is shown until the deployment ends (on stderr with --json, which then prints
    the deployment with its timeline); the exit status is 3 if it rolled back."""
    from greenfleet.cli.progress import watch

    params = UpdateOptions(**options).params(name, config_name)
    with connect(url) as client:
        answer = client.update_endpoint(**params)
        if not wait:
            done(f"Updating endpoint {name} to {config_name}; follow it with: greenfleet deployment describe "
                 f"{name}", answer, as_json)
            return
        deployment = watch(client, name, console(stderr=as_json))
    status = report_outcome(deployment, as_json)
    if status:
        raise click.exceptions.Exit(status)


@endpoint.command("delete")
@click.argument("name")
@wait_option
@timeout_option
@client_options
def delete(name: str, wait: bool, timeout_s: float, url: str, as_json: bool) -> None:
    """Delete endpoint NAME (its instances are stopped)."""
    with connect(url) as client:
        answer = client.delete_endpoint(EndpointName=name)
        if wait:
            client.wait_for_deletion(EndpointName=name, Timeout=timeout_s)
    done(f"Deleted endpoint {name}" if wait else f"Deleting endpoint {name}", answer, as_json)


@endpoint.command("set-weights")
@click.argument("name")
@click.option("--variant", "variants", multiple=True, required=True, metavar="VARIANT=WEIGHT[:COUNT]",
              help="New weight and/or instance count of a variant (repeatable), e.g. blue=0.5 or blue=0.5:2.")
@wait_option
@timeout_option
@client_options
def set_weights(name: str, variants: tuple[str, ...], wait: bool, timeout_s: float, url: str,
                as_json: bool) -> None:
    """Change variant weights and instance counts live (UpdateEndpointWeightsAndCapacities)."""
    wanted = [parse_weight(v) for v in variants]
    with connect(url) as client:
        answer = client.update_endpoint_weights_and_capacities(EndpointName=name,
                                                               DesiredWeightsAndCapacities=wanted)
        if wait:
            doc = client.wait_for_endpoint(EndpointName=name, Timeout=timeout_s)
            emit(doc, as_json, lambda out: render_endpoint(doc, out))
            return
    done(f"Updating endpoint {name}", answer, as_json)


@endpoint.command("instances")
@click.argument("name")
@client_options
def instances(name: str, url: str, as_json: bool) -> None:
    """List the instance processes serving endpoint NAME (greenfleet's own view)."""
    with connect(url) as client:
        answer = client.list_instances(EndpointName=name)
    rows = [(i.get("InstanceId"), i.get("Group"), when(i.get("StartedAt")), when(i.get("ReadyAt")))
            for i in answer.get("Instances", [])]
    emit(answer, as_json, lambda out: out.print(table(["Instance", "Group", "Started", "Ready"], rows)))


def register(cli: click.Group) -> None:
    cli.add_command(endpoint)
