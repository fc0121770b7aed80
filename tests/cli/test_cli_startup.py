"""The CLI starts fast because its modules import nothing heavy until a command runs: what a fresh
interpreter has imported after ``--version``, ``--help`` and ``endpoint list --help`` (timings are
bench/cli_startup.py's; this guards the mechanism)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("rich", "fastapi", "starlette", "sqlalchemy", "numpy", "boto3", "botocore", "pydantic", "pydantic_settings",
         "uvicorn", "httpx", "yaml", "greenfleet.server", "greenfleet.api", "greenfleet.settings")

PROBE = """
import json, sys
from greenfleet.cli.main import cli
try:
    cli({args!r})
except SystemExit as exc:
    code = exc.code
print(json.dumps({{"code": code, "modules": sorted(sys.modules)}}))
"""


def imported_by(*args: str) -> tuple[int, set[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE.format(args=list(args))], capture_output=True, text=True,
                          timeout=60, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report["code"], set(report["modules"])


@pytest.mark.parametrize("args", [("--version",), ("--help",), ("endpoint", "list", "--help")])
def test_starting_the_cli_imports_nothing_heavy(args: tuple[str, ...]) -> None:
    code, modules = imported_by(*args)
    assert code == 0
    loaded = sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert loaded == []
    assert "greenfleet.cli.endpoints" in modules  # the probe does see imported modules


def test_a_command_imports_the_http_client_when_it_runs() -> None:
    code, modules = imported_by("endpoint", "list", "--url", "http://127.0.0.1:9")  # nothing listens there
    assert code == 1
    assert "httpx" in modules and "greenfleet.server" not in modules
