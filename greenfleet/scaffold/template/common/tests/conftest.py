"""A real greenfleet server for the register step's test: ``python -m greenfleet server`` on a free
loopback port, its state in a temporary directory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def greenfleet_url(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "GREENFLEET_MODEL_DATA_ROOTS": str(tmp_path), "GREENFLEET_API_TOKEN": ""}
    process = subprocess.Popen([sys.executable, "-m", "greenfleet", "server", "--port", str(port),
                                "--home", str(tmp_path / "greenfleet-home")], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                error = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"greenfleet server exited: {error}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("greenfleet server did not start within 60 s")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
