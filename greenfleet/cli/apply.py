"""``greenfleet apply -f endpoint.yaml``: create the models, configurations and endpoints a manifest declares."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from greenfleet.cli.output import client_options, connect, emit, table


@click.command(short_help="Apply a YAML manifest of models, configs and endpoints.")
@click.option("-f", "--file", "path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The manifest (YAML): models, endpointConfigs, endpoints.")
@click.option("--wait", is_flag=True, help="Wait until created or updated endpoints are InService.")
@click.option("--timeout", "timeout_s", type=float, default=600.0, show_default=True,
              help="Longest wait, in seconds.")
@client_options
def apply(path: Path, wait: bool, timeout_s: float, url: str, as_json: bool) -> None:
    """Create what the manifest declares and is missing; applying it again changes nothing."""
    from greenfleet import manifest

    try:
        declared = manifest.load(path)
        with connect(url) as client:
            changes = manifest.apply(declared, client, wait=wait, timeout_s=timeout_s)
    except manifest.ManifestError as exc:
        raise click.ClickException(f"{path}:\n  " + "\n  ".join(exc.problems)) from exc
    rows = [(c.kind, c.name, c.action, c.detail) for c in changes]
    emit({"Changes": [asdict(c) for c in changes]}, as_json,
         lambda out: out.print(table(["Kind", "Name", "Action", "Detail"], rows)))


def register(cli: click.Group) -> None:
    cli.add_command(apply)
