"""``greenfleet server``: the control plane, the data plane and the instance supervisor in one process."""

from __future__ import annotations

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
    from greenfleet.ownership import AlreadyRunning
    from greenfleet.server import ConfigurationError, Server
    from greenfleet.settings import Settings

    overrides: dict[str, Any] = {k: v for k, v in {"host": host, "port": port, "home": home,
                                   "database_url": database_url}.items() if v is not None}
    try:
        instance = Server(Settings(**overrides))
    except (AlreadyRunning, ConfigurationError) as exc:
        raise click.ClickException(str(exc)) from None
    instance.serve_forever()


def register(cli: click.Group) -> None:
    cli.add_command(server)
