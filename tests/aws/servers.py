"""A live greenfleet server with extra settings (access keys, ...), for the AWS protocol tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from greenfleet.server import Server
from greenfleet.settings import Settings
from tests.conftest import free_port
from tests.live.conftest import FAST


@contextlib.contextmanager
def running_server(home: Path, **settings: Any) -> Iterator[Server]:
    options: dict[str, Any] = {**FAST, **settings}
    instance = Server(Settings(home=home, port=free_port(), **options))
    instance.start_in_thread()
    try:
        yield instance
    finally:
        instance.stop_thread()
