"""Entry point of the ``greenfleet`` command."""

from __future__ import annotations

import importlib
import logging

import click

from greenfleet import __version__

# Modules that add commands: each exposes ``register(cli: click.Group) -> None``.
COMMAND_MODULES = ("server", "models", "configs", "endpoints", "invoke", "apply", "demo", "alarms", "metrics",
                   "events", "deployments", "monitor")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="greenfleet")
@click.option("--token", envvar="GREENFLEET_API_TOKEN", help="Bearer token for a server started with one.")
def cli(token: str | None) -> None:
    """greenfleet: real-time model endpoints with SageMaker's deployment guardrails."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _register() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"greenfleet.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"greenfleet.cli.{name}":
                raise
            continue
        module.register(cli)


_register()


def main() -> None:
    cli()
