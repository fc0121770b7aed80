"""``greenfleet init NAME``: scaffold a model repository (training pipeline, tests, CI files) wired into
greenfleet servers; see greenfleet/scaffold."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("init")
@click.argument("name")
@click.option("--scenario", type=click.Choice(["baseline", "advanced"]), default="baseline", show_default=True,
              help="baseline: one production endpoint; advanced: champion and challenger groups, a shadow test "
                   "before promotion (seed 002).")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="Where to create the project (default: ./NAME); must be missing or empty.")
def init(name: str, scenario: str, directory: Path | None) -> None:
    """Create model repository NAME: a training pipeline (prepare, train, evaluate, condition, register)
    recording lineage, its tests, a config naming the dev/test/prod servers, and GitHub Actions and GitLab
    CI files that train on push and register on those servers."""
    from greenfleet.scaffold import Project, ScaffoldError, scaffold

    try:
        target = scaffold(name, scenario, directory)
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from exc
    groups = ", ".join(Project.of(name, scenario).groups().values())
    click.echo(f"Created {scenario} project {name} in {target}\n"
               f"  model package groups: {groups}\n"
               f"  next: cd {target} && pip install -e '.[test]' && pytest && "
               f"python -m {name.replace('-', '_')}.pipeline --help")


def register(cli: click.Group) -> None:
    cli.add_command(init)
