"""Entry point of the ``greenfleet`` command.

Every command module is imported here by name (a renamed module fails at import, not silently), and
none of them imports anything heavy at module level (rich, the server, SQLAlchemy, pydantic-settings,
botocore): those come inside the command that needs them, so ``greenfleet --version`` and ``--help``
start fast. ``tests/cli/test_cli_startup.py`` guards this."""

from __future__ import annotations

import logging

import click

from greenfleet import __version__
from greenfleet.cli import (
    alarms,
    apply,
    configs,
    demo,
    deployments,
    endpoints,
    events,
    experiments,
    feedback,
    invoke,
    metrics,
    models,
    monitor,
    promote,
    registry,
    router,
    scaling,
    server,
    tags,
    webhooks,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="greenfleet")
@click.option("--token", envvar="GREENFLEET_API_TOKEN", help="Bearer token for a server started with one.")
def cli(token: str | None) -> None:
    """greenfleet: real-time model endpoints with SageMaker's deployment guardrails."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


for _module in (server, router, models, configs, endpoints, invoke, apply, demo, alarms, metrics, events,
                deployments, tags, webhooks, registry, promote, monitor, experiments, feedback, scaling):
    _module.register(cli)


def main() -> None:
    cli()
