"""A real greenfleet server in this process, for client and CLI tests (real HTTP, real store)."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from greenfleet.instances.local import free_port
from greenfleet.server import Server
from greenfleet.settings import Settings


@contextmanager
def running_server(home: Path) -> Iterator[Server]:
    server = Server(Settings(home=home, host="127.0.0.1", port=free_port(), database_url=None,
                             reconcile_interval_s=0.1, instance_restart_backoff_s=0.2, drain_timeout_s=2.0,
                             model_data_roots=tempfile.gettempdir()))
    server.start_in_thread()
    try:
        yield server
    finally:
        server.stop_thread()


def unique(prefix: str) -> str:
    """A resource name no other test uses."""
    return f"{prefix}-{secrets.token_hex(4)}"


def sklearn_models(directory: Path) -> dict[str, Path]:
    """The demo's two model.tar.gz archives (LogisticRegression C=1.0 and C=0.1), by model name."""
    from greenfleet.demo import train

    tarballs, _rows = train(directory)
    return tarballs


FEATURES = ",".join(["0.5"] * 20)
"""One text/csv row for the 20-feature models."""
