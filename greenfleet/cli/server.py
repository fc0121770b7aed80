"""``greenfleet server``: the control plane, the data plane and the instance supervisor in one process."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click


@click.command()
@click.option("--host", help="Address to listen on (GREENFLEET_HOST, default 127.0.0.1).")
@click.option("--port", type=int, help="Port of the base URL (GREENFLEET_PORT, default 8080).")
@click.option("--home", type=click.Path(path_type=Path), help="State directory (GREENFLEET_HOME).")
@click.option("--database-url", help="SQLAlchemy URL of the store (GREENFLEET_DATABASE_URL); default SQLite.")
def server(host: str | None, port: int | None, home: Path | None, database_url: str | None) -> None:
    """Run the greenfleet server (REST API, invocations, controllers) until interrupted."""
    from pydantic import ValidationError

    from greenfleet.ownership import AlreadyRunning
    from greenfleet.server import ConfigurationError, ListenError, Server
    from greenfleet.settings import Settings

    overrides: dict[str, Any] = {k: v for k, v in {"host": host, "port": port, "home": home,
                                   "database_url": database_url}.items() if v is not None}
    # Warnings and errors from everywhere, and the server's own INFO lines (its start, its address).
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("greenfleet.server").setLevel(logging.INFO)
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"GREENFLEET_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
                             for e in exc.errors())
        raise click.ClickException(f"invalid settings: {problems}") from None
    try:
        instance = Server(settings)
    except (AlreadyRunning, ConfigurationError) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        instance.serve_forever()
    except ListenError as exc:
        raise click.ClickException(str(exc)) from None


def register(cli: click.Group) -> None:
    cli.add_command(server)
