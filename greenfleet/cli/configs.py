"""``greenfleet config create|describe|list|delete``: endpoint configurations."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from greenfleet.cli.output import Doc, client_options, connect, done, emit, fields, number, table, tag_list, when

if TYPE_CHECKING:
    from rich.console import Console

VARIANT_KEYS = ("name", "model", "count", "weight", "instance-type", "routing")
DEFAULT_INSTANCE_TYPE = "ml.m5.large"


def parse_variant(spec: str) -> Doc:
    """``name=blue,model=M,count=1,weight=0.7,instance-type=ml.m5.large,routing=RANDOM`` as a ProductionVariant."""
    values: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        key, sep, value = part.partition("=")
        if not sep or key not in VARIANT_KEYS:
            raise click.BadParameter(f"{part!r}: expected one of {', '.join(k + '=' for k in VARIANT_KEYS)}",
                                     param_hint="--variant")
        values[key] = value
    for required in ("name", "model"):
        if not values.get(required):
            raise click.BadParameter(f"{spec!r}: {required}= is required", param_hint="--variant")
    variant: Doc = {"VariantName": values["name"], "ModelName": values["model"],
                    "InstanceType": values.get("instance-type", DEFAULT_INSTANCE_TYPE)}
    try:
        variant["InitialInstanceCount"] = int(values.get("count", "1"))
        variant["InitialVariantWeight"] = float(values.get("weight", "1"))
    except ValueError as exc:
        raise click.BadParameter(f"{spec!r}: count must be an integer and weight a number",
                                 param_hint="--variant") from exc
    if "routing" in values:
        variant["RoutingConfig"] = {"RoutingStrategy": values["routing"]}
    return variant


@click.group("config", short_help="Create, describe, list and delete endpoint configs.")
def config() -> None:
    """Endpoint configurations: 1-10 production variants (SageMaker's CreateEndpointConfig)."""


@config.command("create")
@click.argument("name")
@click.option("--variant", "variants", multiple=True, required=True,
              metavar="name=V,model=M[,count=1][,weight=1][,instance-type=T][,routing=R]",
              help="A production variant (repeatable).")
@click.option("--tag", "tags", multiple=True, metavar="K=V", help="Tag (repeatable).")
@client_options
def create(name: str, variants: tuple[str, ...], tags: tuple[str, ...], url: str, as_json: bool) -> None:
    """Create endpoint configuration NAME."""
    params: Doc = {"EndpointConfigName": name, "ProductionVariants": [parse_variant(v) for v in variants]}
    if tags:
        params["Tags"] = tag_list(tags)
    with connect(url) as client:
        answer = client.create_endpoint_config(**params)
    done(f"Created endpoint configuration {name}: {answer['EndpointConfigArn']}", answer, as_json)


def render_config(doc: Doc, out: Console) -> None:
    out.print(fields([("Endpoint config", doc["EndpointConfigName"]), ("ARN", doc["EndpointConfigArn"]),
                      ("Created", when(doc.get("CreationTime")))]))
    rows = [(v["VariantName"], v.get("ModelName", "-"), number(v.get("InitialVariantWeight")),
             number(v.get("InitialInstanceCount")), v.get("InstanceType") or "serverless",
             (v.get("RoutingConfig") or {}).get("RoutingStrategy", "-"))
            for v in doc.get("ProductionVariants", [])]
    out.print(table(["Variant", "Model", "Weight", "Instances", "Instance type", "Routing"], rows,
                    title="Production variants"))


@config.command("describe")
@click.argument("name")
@client_options
def describe(name: str, url: str, as_json: bool) -> None:
    """Show endpoint configuration NAME."""
    with connect(url) as client:
        doc = client.describe_endpoint_config(EndpointConfigName=name)
    emit(doc, as_json, lambda out: render_config(doc, out))


@config.command("list")
@click.option("--name-contains", help="Only configurations whose name contains this text.")
@client_options
def list_(name_contains: str | None, url: str, as_json: bool) -> None:
    """List endpoint configurations, newest first."""
    with connect(url) as client:
        items = list(client.paginate(client.list_endpoint_configs, "EndpointConfigs", MaxResults=100,
                                     NameContains=name_contains))
    rows = [(c["EndpointConfigName"], when(c["CreationTime"])) for c in items]
    emit({"EndpointConfigs": items}, as_json, lambda out: out.print(table(["Name", "Created"], rows)))


@config.command("delete")
@click.argument("name")
@client_options
def delete(name: str, url: str, as_json: bool) -> None:
    """Delete endpoint configuration NAME."""
    with connect(url) as client:
        answer = client.delete_endpoint_config(EndpointConfigName=name)
    done(f"Deleted endpoint configuration {name}", answer, as_json)


def register(cli: click.Group) -> None:
    cli.add_command(config)
