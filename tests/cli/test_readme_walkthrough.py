"""README's "Using it" walkthrough, run as written: each line of its first code block is a command, run in a
copy of examples/ with a server of its own (``greenfleet server &`` started in the background)."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.parallel, pytest.mark.timeout(600)]


def walkthrough() -> list[list[str]]:
    """The commands of the first indented block after "## Using it" (comments dropped)."""
    text = ROOT.joinpath("README.md").read_text()
    section = text.split("\n## Using it\n", 1)[1]
    lines: list[str] = []
    started = False
    for line in section.splitlines():
        if line.startswith("    "):
            started = True
            lines.append(line.strip())
        elif started and line.strip():
            break
    return [shlex.split(line, comments=True) for line in lines if line]


@pytest.fixture
def place(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    port = free_port()
    env = {**os.environ, "GREENFLEET_HOME": str(tmp_path / "home"), "GREENFLEET_PORT": str(port),
           "GREENFLEET_URL": f"http://127.0.0.1:{port}", "GREENFLEET_STRICT_DEPLOYMENT_MINIMUMS": "false"}
    yield tmp_path, env


def test_the_readme_walkthrough_runs_as_written(place: tuple[Path, dict[str, str]]) -> None:
    cwd, env = place
    commands = walkthrough()
    assert commands[0] == ["greenfleet", "server", "&"]
    assert [c[:3] for c in commands[2:]] == [["greenfleet", "model", "create"], ["greenfleet", "config", "create"],
                                             ["greenfleet", "endpoint", "create"], ["greenfleet", "invoke", "churn"],
                                             ["greenfleet", "endpoint", "set-weights"],
                                             ["greenfleet", "apply", "-f"]]
    server = subprocess.Popen([sys.executable, "-m", "greenfleet", "server"], cwd=cwd, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    outputs: dict[str, str] = {}
    try:
        assert server.stdout is not None
        assert "listening on" in server.stdout.readline()
        for command in commands[1:]:
            program = [sys.executable] if command[0] == "python" else [sys.executable, "-m", "greenfleet"]
            done = subprocess.run(program + command[1:], cwd=cwd, env=env, capture_output=True, text=True,
                                  timeout=180)
            assert done.returncode == 0, f"{shlex.join(command)}:\n{done.stdout}\n{done.stderr}"
            outputs[" ".join(command[1:3])] = done.stdout + done.stderr
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    assert "is " + str(cwd / "examples/models/greenfleet-demo-c1/model.tar.gz") in outputs["model create"]
    assert "InService" in outputs["endpoint create"]
    assert outputs["invoke churn"].strip()  # the model's answer
    plan = outputs["apply -f"]
    assert "example-endpoint" in plan and "churn" not in plan.replace("churn-", "")
