"""``greenfleet registry …``: model package groups, registering versions with their lineage, approvals,
the audit trail, diffs, deployment bindings and "which version served when"."""

from __future__ import annotations

import getpass
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from greenfleet.cli.output import Doc, client_options, connect, done, emit, fields, number, parse_pairs, table, when
from greenfleet.cli.promote import evidence
from greenfleet.cli.registry_views import (
    diff_rows,
    metrics_of,
    render_bindings,
    render_history,
    render_served,
    render_version,
)
from greenfleet.registry.sources import SourceError

if TYPE_CHECKING:  # rich and the registry's readers are imported when a command runs (fast CLI start)
    from rich.console import Console

    from greenfleet.client import Client

KEY_METRICS_SHOWN = 3
GROUP_FIELDS = ("ModelPackageGroupName", "ModelPackageGroupArn", "ModelPackageGroupDescription",
                "ModelPackageGroupStatus", "CreationTime")


def _by(value: str | None) -> str:
    return value or getpass.getuser()


by_option = click.option("--by", help="Who acts, for the audit trail (default: your user name).")


def _change(url: str, as_json: bool, call: Callable[[Client], Doc], message: Callable[[Doc], str]) -> None:
    """Make one change through the client and report it (one line for people, the answer with --json)."""
    with connect(url) as client:
        answer = call(client)
    done(message(answer), answer, as_json)


def _show(url: str, as_json: bool, read: Callable[[Client], Doc], render: Callable[[Doc, Console], None]) -> None:
    """Read one document through the client and show it (rendered for people, raw with --json)."""
    with connect(url) as client:
        doc = read(client)
    emit(doc, as_json, lambda out: render(doc, out))


def _removal(parent: click.Group, name: str, argument: str, summary: str,
             remove: Callable[[Client, str, str], Doc], said: str) -> None:
    """Add command ``name`` to ``parent``: remove the thing named by ARGUMENT, as who --by says."""

    @parent.command(name, help=summary)
    @click.argument(argument)
    @by_option
    @client_options
    def command(by: str | None, url: str, as_json: bool, **named: str) -> None:
        target = named[argument]
        _change(url, as_json, lambda client: remove(client, target, _by(by)), lambda _answer: said.format(target))


@click.group("registry", short_help="Model registry: versions, approvals, lineage and bindings.")
def registry() -> None:
    """SageMaker's model registry: groups of versioned model packages with lineage and approvals;
    approving a version deploys it to the endpoints bound to its group, through their guardrail."""


@registry.group("group")
def group() -> None:
    """Model package groups."""


@group.command("create")
@click.argument("name")
@click.option("--description", help="What the group holds.")
@by_option
@client_options
def group_create(name: str, description: str | None, by: str | None, url: str, as_json: bool) -> None:
    """Create model package group NAME."""
    params: Doc = {"ModelPackageGroupName": name}
    if description:
        params["ModelPackageGroupDescription"] = description
    _change(url, as_json, lambda client: client.create_model_package_group(by=_by(by), **params),
            lambda answer: f"Created model package group {name}: {answer['ModelPackageGroupArn']}")


@group.command("list")
@client_options
def group_list(url: str, as_json: bool) -> None:
    """List model package groups, newest first."""
    with connect(url) as client:
        items = list(client.paginate(client.list_model_package_groups, "ModelPackageGroupSummaryList",
                                     MaxResults=100))
    rows = [(g["ModelPackageGroupName"], g.get("ModelPackageGroupDescription", "-"), when(g["CreationTime"]))
            for g in items]
    emit({"ModelPackageGroupSummaryList": items}, as_json,
         lambda out: out.print(table(["Group", "Description", "Created"], rows)))


@group.command("describe")
@click.argument("name")
@client_options
def group_describe(name: str, url: str, as_json: bool) -> None:
    """Describe model package group NAME."""
    _show(url, as_json, lambda client: client.describe_model_package_group(ModelPackageGroupName=name),
          lambda doc, out: out.print(fields((key, doc.get(key)) for key in GROUP_FIELDS)))


_removal(group, "delete", "name", "Delete model package group NAME (it must hold no versions).",
         lambda client, name, by: client.delete_model_package_group(ModelPackageGroupName=name, by=by),
         "Deleted model package group {}")


@registry.command("register")
@click.argument("group_name", metavar="GROUP")
@click.argument("source")
@click.option("--image", help="Runtime image (default for an MLflow model: greenfleet/mlflow).")
@click.option("--description", help="ModelPackageDescription.")
@click.option("--approve", is_flag=True, help="Register as Approved (deploys to bound endpoints).")
@click.option("--commit", help="MetadataProperties.CommitId.")
@click.option("--repository", help="MetadataProperties.Repository.")
@click.option("--generated-by", help="MetadataProperties.GeneratedBy (a pipeline or job).")
@click.option("--project-id", help="MetadataProperties.ProjectId.")
@click.option("--meta", multiple=True, metavar="K=V", help="CustomerMetadataProperties entry (repeatable).")
@click.option("--metrics", "metrics_url", help="Evaluation report (JSON): path, file://, s3:// or http(s)://.")
@click.option("--tracking-uri", help="MLflow tracking URI for runs:/ sources (default: MLflow's own).")
@click.option("--client-token", help="ClientToken: registering twice with it makes one version.")
@by_option
@client_options
def register_version(group_name: str, source: str, image: str | None, description: str | None, approve: bool,
                     commit: str | None, repository: str | None, generated_by: str | None, project_id: str | None,
                     meta: tuple[str, ...], metrics_url: str | None, tracking_uri: str | None,
                     client_token: str | None, by: str | None, url: str, as_json: bool) -> None:
    """Register SOURCE as a new version of GROUP: a model directory, a model.tar.gz, an MLflow model
    directory, or runs:/<run id>/model (its params, tags and metrics become the version's lineage). The
    server copies the model data into its artifact store, so SOURCE must be readable by the server."""
    with tempfile.TemporaryDirectory(prefix="greenfleet-register-") as tmp:
        try:
            from greenfleet.registry.sources import local_source, mlflow_run_source

            found = mlflow_run_source(source, tracking_uri, Path(tmp)) if source.startswith("runs:/") \
                else local_source(source)
        except SourceError as exc:
            raise click.ClickException(str(exc)) from exc
        chosen = image or found.image
        if chosen is None:
            raise click.UsageError("--image is required (e.g. greenfleet/sklearn) unless SOURCE is an MLflow model")
        metadata = {**found.metadata, **{k: v for k, v in {"CommitId": commit, "Repository": repository,
                    "GeneratedBy": generated_by, "ProjectId": project_id}.items() if v}}
        params: Doc = {"ModelPackageGroupName": group_name, "InferenceSpecification": {
            "Containers": [{"Image": chosen, "ModelDataUrl": found.model_data_url}]}}
        properties = {**found.properties, **parse_pairs(meta, "--meta")}
        for key, value in (("ModelPackageDescription", description), ("MetadataProperties", metadata),
                           ("CustomerMetadataProperties", properties), ("ClientToken", client_token)):
            if value:
                params[key] = value
        if approve:
            params["ModelApprovalStatus"] = "Approved"
        if metrics_url:
            params["ModelMetrics"] = {"ModelQuality": {"Statistics": {"ContentType": "application/json",
                                                                      "S3Uri": metrics_url}}}
        elif found.metrics:
            from greenfleet.registry.sources import metrics_report

            params["ModelMetrics"] = metrics_report(found.metrics, Path(tmp) / "metrics.json")
        _change(url, as_json, lambda client: client.create_model_package(by=_by(by), **params),
                lambda answer: f"Registered {answer['ModelPackageArn']}")


def _version_name(name: str) -> str:
    if "/" not in name:
        raise click.BadParameter(f"expected GROUP/VERSION or an ARN, got {name!r}")
    return name




@registry.command("list")
@click.argument("group_name", metavar="GROUP")
@click.option("--status", type=click.Choice(["Approved", "Rejected", "PendingManualApproval"]))
@click.option("--max", "limit", default=20, show_default=True, help="Newest versions shown.")
@client_options
def list_versions(group_name: str, status: str | None, limit: int, url: str, as_json: bool) -> None:
    """List GROUP's versions, newest first, with key metrics and commit."""
    with connect(url) as client:
        page = client.list_model_packages(ModelPackageGroupName=group_name, ModelApprovalStatus=status,
                                          MaxResults=min(limit, 100))
        described = [client.describe_model_package(ModelPackageName=s["ModelPackageArn"])
                     for s in page["ModelPackageSummaryList"]]
    rows = []
    for doc in described:
        metrics = metrics_of(doc)
        shown = ", ".join(f"{k}={number(v)}" for k, v in list(metrics.items())[:KEY_METRICS_SHOWN]) or "-"
        rows.append((doc["ModelPackageVersion"], doc["ModelApprovalStatus"], when(doc["CreationTime"]), shown,
                     (doc.get("MetadataProperties") or {}).get("CommitId", "-")[:12],
                     (doc.get("GreenfleetArtifact") or {}).get("Sha256", "-")[:12]))
    emit({"ModelPackages": described}, as_json, lambda out: out.print(
        table(["Version", "Status", "Created", "Key metrics", "Commit", "Digest"], rows, title=group_name)))




@registry.command("describe")
@click.argument("name", metavar="GROUP/VERSION")
@client_options
def describe(name: str, url: str, as_json: bool) -> None:
    """Show one version: status, digest, lineage, metrics, deployment outcomes."""
    _show(url, as_json, lambda client: client.describe_model_package(ModelPackageName=_version_name(name)),
          render_version)


def _decide(name: str, status: str, reason: str | None, by: str | None, url: str, as_json: bool) -> None:
    params: Doc = {"ModelApprovalStatus": status}
    if reason:
        params["ApprovalDescription"] = reason
    _change(url, as_json, lambda client: client.update_model_package(ModelPackageArn=_version_name(name),
                                                                     by=_by(by), **params),
            lambda _answer: f"{name}: {status}")


@registry.command("approve")
@click.argument("name", metavar="GROUP/VERSION")
@click.option("--reason", help="ApprovalDescription, kept in the audit trail.")
@by_option
@client_options
def approve(name: str, reason: str | None, by: str | None, url: str, as_json: bool) -> None:
    """Approve a version (bound endpoints deploy it through their guardrail)."""
    _decide(name, "Approved", reason, by, url, as_json)


@registry.command("reject")
@click.argument("name", metavar="GROUP/VERSION")
@click.option("--reason", help="ApprovalDescription, kept in the audit trail.")
@by_option
@client_options
def reject(name: str, reason: str | None, by: str | None, url: str, as_json: bool) -> None:
    """Reject a version (if it is live on a bound endpoint, the previous Approved version redeploys)."""
    _decide(name, "Rejected", reason, by, url, as_json)


_removal(registry, "delete", "version", "Delete VERSION (GROUP/N or its ARN).",
         lambda client, version, by: client.delete_model_package(ModelPackageName=version, by=by),
         "Deleted model package {}")


@registry.command("history")
@click.argument("group_name", metavar="GROUP")
@click.option("--version", type=int, help="Only this version.")
@client_options
def history(group_name: str, version: int | None, url: str, as_json: bool) -> None:
    """The audit trail: registrations, approvals (who, why, when), deployment outcomes, deletions."""
    _show(url, as_json, lambda client: client.model_package_history(ModelPackageGroupName=group_name,
                                                                    ModelPackageVersion=version), render_history)




@registry.command("diff")
@click.argument("first", metavar="GROUP/A")
@click.argument("second", metavar="GROUP/B")
@client_options
def diff(first: str, second: str, url: str, as_json: bool) -> None:
    """Two versions' metrics and lineage side by side."""
    with connect(url) as client:
        a = client.describe_model_package(ModelPackageName=_version_name(first))
        b = client.describe_model_package(ModelPackageName=_version_name(second))
    rows = diff_rows(a, b)
    emit({"Rows": [dict(zip(["Field", first, second, "Change"], r, strict=True)) for r in rows]}, as_json,
         lambda out: out.print(table(["Field", first, second, "Change"], rows)))




@registry.command("bind")
@click.argument("endpoint")
@click.argument("group_name", metavar="GROUP")
@click.option("--variant", help="The variant the group's versions serve on (default: the only one).")
@click.option("--deployment-config", help="DeploymentConfig as JSON, or @file.json (any guardrail, the judge too).")
@by_option
@client_options
def bind(endpoint: str, group_name: str, variant: str | None, deployment_config: str | None, by: str | None,
         url: str, as_json: bool) -> None:
    """Bind GROUP to ENDPOINT: approving a version deploys it there through DeploymentConfig."""
    params: Doc = {"EndpointName": endpoint, "ModelPackageGroupName": group_name}
    if variant:
        params["VariantName"] = variant
    if deployment_config:
        params["DeploymentConfig"] = _json_option(deployment_config, "--deployment-config")
    _change(url, as_json, lambda client: client.create_registry_binding(by=_by(by), **params),
            lambda answer: f"Bound {group_name} to {endpoint} (variant {answer['VariantName']}); champion: "
                           f"{answer.get('Champion') or '-'}")


def _json_option(value: str, option: str) -> Any:
    text = Path(value[1:]).read_text() if value.startswith("@") else value
    try:
        return json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint=option) from exc


_removal(registry, "unbind", "endpoint", "Remove ENDPOINT's binding (what it serves does not change).",
         lambda client, endpoint, by: client.delete_registry_binding(EndpointName=endpoint, by=by),
         "Unbound {}")


@registry.command("bindings")
@click.option("--group", "group_name", help="Only this group's bindings.")
@client_options
def bindings(group_name: str | None, url: str, as_json: bool) -> None:
    """List deployment bindings with their champion (the version live on the endpoint)."""
    _show(url, as_json, lambda client: client.list_registry_bindings(ModelPackageGroupName=group_name),
          render_bindings)




@registry.command("binding")
@click.argument("endpoint")
@client_options
def binding(endpoint: str, url: str, as_json: bool) -> None:
    """Describe ENDPOINT's deployment binding."""
    _show(url, as_json, lambda client: client.describe_registry_binding(EndpointName=endpoint),
          lambda doc, out: out.print(fields((key, value) for key, value in doc.items()
                                            if not isinstance(value, dict | list))))


@registry.command("served")
@click.argument("endpoint")
@click.option("--at", "at", required=True, help="A time: ISO 8601 or epoch seconds.")
@client_options
def served(endpoint: str, at: str, url: str, as_json: bool) -> None:
    """Which version served ENDPOINT at a time, and who approved it."""
    _show(url, as_json, lambda client: client.served_at(EndpointName=endpoint, At=at), render_served)




@registry.command("champion")
@click.argument("group_name", metavar="GROUP")
@client_options
def champion(group_name: str, url: str, as_json: bool) -> None:
    """The champion alias: the version live on each endpoint bound to GROUP."""
    _show(url, as_json, lambda client: client.champion(ModelPackageGroupName=group_name),
          lambda doc, out: out.print(table(["Endpoint", "Champion"], [
              (e["EndpointName"], number(e["ModelPackageVersion"])) for e in doc["Endpoints"]])))


registry.add_command(evidence)


def register(cli: click.Group) -> None:
    cli.add_command(registry)


__all__ = ["register"]

