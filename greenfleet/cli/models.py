"""``greenfleet model create|describe|list|delete``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from greenfleet.cli.output import (
    Doc,
    client_options,
    connect,
    done,
    emit,
    fields,
    parse_pairs,
    table,
    tag_list,
    when,
)

if TYPE_CHECKING:
    from rich.console import Console


@click.group("model", short_help="Create, describe, list and delete models.")
def model() -> None:
    """Models: an image plus model data (SageMaker's CreateModel)."""


@model.command("create")
@click.argument("name")
@click.option("--image", required=True, help="Runtime image, e.g. greenfleet/sklearn.")
@click.option("--model-data-url", help="model.tar.gz or model directory: path, file://, http(s):// or s3://. "
                                       "A relative path is resolved here, from the current directory.")
@click.option("--env", "env", multiple=True, metavar="K=V", help="Container environment variable (repeatable).")
@click.option("--tag", "tags", multiple=True, metavar="K=V", help="Tag (repeatable).")
@client_options
def create(name: str, image: str, model_data_url: str | None, env: tuple[str, ...], tags: tuple[str, ...],
           url: str, as_json: bool) -> None:
    """Create model NAME."""
    container: Doc = {"Image": image}
    if model_data_url:
        container["ModelDataUrl"] = local_model_data(model_data_url)
    if env:
        container["Environment"] = parse_pairs(env, "--env")
    params: Doc = {"ModelName": name, "PrimaryContainer": container}
    if tags:
        params["Tags"] = tag_list(tags)
    with connect(url) as client:
        answer = client.create_model(**params)
    done(f"Created model {name}: {answer['ModelArn']}", answer, as_json)


def local_model_data(url: str) -> str:
    """A relative local path as the absolute path the server can read (it would otherwise read it from an
    instance's directory); it must exist. Absolute paths and URLs are left as they are."""
    if "://" in url or Path(url).is_absolute():
        return url
    resolved = Path(url).resolve()
    if not resolved.exists():
        raise click.BadParameter(f"{url} does not exist (relative paths are read from the current directory, "
                                 f"here: {resolved})", param_hint="--model-data-url")
    click.echo(f"Model data: {url} is {resolved} (relative paths are resolved on this machine; the server "
               "reads the absolute path)", err=True)
    return str(resolved)


def render_model(doc: Doc, out: Console) -> None:
    out.print(fields([("Model", doc["ModelName"]), ("ARN", doc["ModelArn"]),
                      ("Created", when(doc.get("CreationTime")))]))
    containers = doc.get("Containers") or [doc.get("PrimaryContainer") or {}]
    rows = [(c.get("Image", "-"), c.get("ModelDataUrl", "-"),
             " ".join(f"{k}={v}" for k, v in (c.get("Environment") or {}).items()) or "-") for c in containers]
    out.print(table(["Image", "Model data", "Environment"], rows, title="Containers"))


@model.command("describe")
@click.argument("name")
@client_options
def describe(name: str, url: str, as_json: bool) -> None:
    """Show model NAME."""
    with connect(url) as client:
        doc = client.describe_model(ModelName=name)
    emit(doc, as_json, lambda out: render_model(doc, out))


@model.command("list")
@click.option("--name-contains", help="Only models whose name contains this text.")
@client_options
def list_(name_contains: str | None, url: str, as_json: bool) -> None:
    """List models, newest first."""
    with connect(url) as client:
        items = list(client.paginate(client.list_models, "Models", MaxResults=100, NameContains=name_contains))
    rows = [(m["ModelName"], when(m["CreationTime"])) for m in items]
    emit({"Models": items}, as_json, lambda out: out.print(table(["Name", "Created"], rows)))


@model.command("delete")
@click.argument("name")
@client_options
def delete(name: str, url: str, as_json: bool) -> None:
    """Delete model NAME."""
    with connect(url) as client:
        answer = client.delete_model(ModelName=name)
    done(f"Deleted model {name}", answer, as_json)


def register(cli: click.Group) -> None:
    cli.add_command(model)
