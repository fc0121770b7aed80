"""``greenfleet apply -f endpoint.yaml``: create the models, configurations and endpoints a manifest declares.

It shows its plan first (what it will create, update or leave), and asks before it updates an endpoint that
exists: an update is a deployment that replaces what the endpoint serves (``--yes`` skips the question)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

from greenfleet.cli.output import Doc, client_options, connect, console, emit, table

if TYPE_CHECKING:  # the manifest reader (PyYAML) is imported when a command runs, so that the CLI starts fast
    from greenfleet import manifest

PLAN_WORDS = {"create": "create", "switch": "update", "unchanged": "unchanged"}


def _plan_rows(planned: manifest.Plan) -> list[tuple[str, str, str, str]]:
    rows = []
    for resource, action, current in planned:
        detail = ""
        if action == "switch" and current is not None:
            detail = f"{current.get('EndpointConfigName')} -> {resource.params['EndpointConfigName']} (a deployment)"
        elif action == "unchanged" and current is not None:
            detail = str(current.get("EndpointStatus", ""))
        rows.append((resource.kind, resource.name, PLAN_WORDS[action], detail))
    return rows


def _confirm(updates: list[str]) -> None:
    question = (f"Update {len(updates)} existing endpoint{'s' if len(updates) > 1 else ''} "
                f"({', '.join(updates)})? Each update is a deployment that replaces what it serves")
    try:
        confirmed = click.confirm(question, default=False, err=True)
    except click.Abort:
        confirmed = False
    if not confirmed:
        raise click.ClickException("nothing applied (--yes applies without asking)")


def _how_to_follow(changes: list[manifest.Change]) -> list[str]:
    hints = []
    for change in changes:
        if change.kind == "endpoint" and change.action == "created":
            hints.append(f"Endpoint {change.name} is being created; follow it with: greenfleet endpoint describe "
                         f"{change.name} (or apply with --wait)")
        elif change.kind == "endpoint" and change.action == "updated":
            hints.append(f"Endpoint {change.name} is being updated; follow the deployment with: greenfleet "
                         f"deployment describe {change.name} (or apply with --wait; it reports a rollback)")
    return hints


@click.command(short_help="Apply a YAML manifest of models, configs and endpoints.")
@click.option("-f", "--file", "path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The manifest (YAML): models, endpointConfigs, endpoints.")
@click.option("--wait", is_flag=True, help="Wait until created or updated endpoints are InService.")
@click.option("--timeout", "timeout_s", type=float, default=600.0, show_default=True,
              help="Longest wait, in seconds.")
@click.option("-y", "--yes", is_flag=True, help="Update existing endpoints without asking.")
@client_options
def apply(path: Path, wait: bool, timeout_s: float, yes: bool, url: str, as_json: bool) -> None:
    """Create what the manifest declares and is missing, and switch existing endpoints to their declared
    configuration (after asking); applying it again changes nothing. The plan is shown first (on stderr
    with --json)."""
    from greenfleet import manifest

    out = console(stderr=as_json)
    try:
        declared = manifest.load(path)
        with connect(url) as client:
            planned = manifest.plan(declared, client)
            out.print(table(["Kind", "Name", "Plan", "Detail"], _plan_rows(planned), title="Plan"))
            updates = [resource.name for resource, action, _ in planned if action == "switch"]
            if updates and not yes:
                _confirm(updates)
            changes = manifest.apply(declared, client, wait=wait, timeout_s=timeout_s, planned=planned)
    except manifest.ManifestError as exc:
        raise click.ClickException(f"{path}:\n  " + "\n  ".join(exc.problems)) from exc
    rows = [(c.kind, c.name, c.action, c.detail) for c in changes]
    doc: Doc = {"Changes": [asdict(c) for c in changes]}
    emit(doc, as_json, lambda o: o.print(table(["Kind", "Name", "Action", "Detail"], rows, title="Applied")))
    if not wait:
        for hint in _how_to_follow(changes):
            click.echo(hint, err=True)


def register(cli: click.Group) -> None:
    cli.add_command(apply)
