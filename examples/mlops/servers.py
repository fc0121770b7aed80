"""Two real greenfleet servers on 127.0.0.1, "dev" and "prod": each its own OS process (``python -m greenfleet
server``), its own GREENFLEET_HOME (SQLite store, registry artifacts, worker processes) and port.

Durations are short with the real semantics, as the live tests run them: the control pass every 0.1 s, health
checks every 0.2 s, continuous monitoring allowed down to a 1 s interval (GREENFLEET_MONITORING_MIN_INTERVAL_S),
guardrail bakes shorter than SageMaker's minimums (GREENFLEET_STRICT_DEPLOYMENT_MINIMUMS=false)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

__all__ = ["ServerProcess", "free_port"]

FAST = {"RECONCILE_INTERVAL_S": "0.1", "HEALTH_CHECK_INTERVAL_S": "0.2", "INSTANCE_RESTART_BACKOFF_S": "0.2",
        "STARTUP_HEALTH_CHECK_TIMEOUT_S": "60", "DRAIN_TIMEOUT_S": "5", "STRICT_DEPLOYMENT_MINIMUMS": "false",
        "MONITORING_MIN_INTERVAL_S": "1"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """``greenfleet server`` for one environment; ``settings`` are extra GREENFLEET_* values."""

    def __init__(self, name: str, workdir: Path, settings: dict[str, str] | None = None) -> None:
        self.name = name
        self.home = workdir / name / "home"
        self.log_path = workdir / name / "server.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = {**FAST, "MODEL_DATA_ROOTS": str(workdir), **(settings or {})}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GREENFLEET_")}
        env.update({"GREENFLEET_HOME": str(self.home), "GREENFLEET_PORT": str(self.port),
                    **{f"GREENFLEET_{k}": v for k, v in self.settings.items()}})
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "greenfleet", "server"], env=env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                break
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} server did not start; its log: {self.log_path}\n"
                           + self.log_path.read_text()[-2000:])

    def stop(self) -> None:
        """SIGTERM: the server stops its worker processes and exits."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
