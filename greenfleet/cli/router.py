"""``greenfleet router``: the data plane as its own process, following the server's routing tables."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8081, show_default=True, help="Port for invocations.")
@click.option("--home", type=click.Path(path_type=Path), help="The server's GREENFLEET_HOME (its SQLite store).")
@click.option("--database-url", help="The server's store (GREENFLEET_DATABASE_URL); default its home's SQLite.")
def router(host: str, port: int, home: Path | None, database_url: str | None) -> None:
    """Serve POST /endpoints/NAME/invocations from the routing tables the server stores; keeps serving
    while the server is down."""
    from pydantic import ValidationError

    from greenfleet.router_process import RouterProcess, StoreNotReady
    from greenfleet.settings import Settings

    overrides: dict[str, Any] = {k: v for k, v in {"home": home, "database_url": database_url}.items()
                                 if v is not None}
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise click.ClickException(f"invalid settings: {exc.errors()[0]['msg']}") from None
    from greenfleet.auth.policy import is_loopback

    open_policy = not settings.api_token and not settings.aws_credentials
    if open_policy and not is_loopback(host) and not settings.allow_unauthenticated_remote:
        raise click.ClickException(f"greenfleet router refuses to listen on {host} with no credential configured "
                                   "(set GREENFLEET_API_TOKEN and/or GREENFLEET_AWS_CREDENTIALS, or listen on "
                                   "127.0.0.1).")
    try:
        process = RouterProcess(settings, host, port)
    except StoreNotReady as exc:
        raise click.ClickException(str(exc)) from None
    process.serve_forever()


def register(cli: click.Group) -> None:
    cli.add_command(router)
