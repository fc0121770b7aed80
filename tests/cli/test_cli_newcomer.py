"""The newcomer's path (issue 20): a relative --model-data-url, the server's start line and a busy port."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import Run
from tests.client.live import unique
from tests.conftest import free_port


def test_model_create_resolves_a_relative_path_here_and_says_so(run: Run, model_urls: list[str], tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(model_urls[0], tmp_path / "model.tar.gz")
    monkeypatch.chdir(tmp_path)
    name = unique("rel")
    created = run("model", "create", name, "--image", "greenfleet/sklearn", "--model-data-url", "./model.tar.gz")
    assert created.exit_code == 0, created.output
    assert f"./model.tar.gz is {tmp_path / 'model.tar.gz'}" in created.stderr
    described = json.loads(run("model", "describe", name, "--json").stdout)
    assert described["PrimaryContainer"]["ModelDataUrl"] == str(tmp_path / "model.tar.gz")

    missing = run("model", "create", unique("rel"), "--image", "greenfleet/sklearn", "--model-data-url",
                  "models/nope.tar.gz")
    assert missing.exit_code == 2
    assert "models/nope.tar.gz does not exist" in missing.stderr and str(tmp_path) in missing.stderr
    absolute = run("model", "create", unique("abs"), "--image", "greenfleet/sklearn", "--model-data-url",
                   "s3://bucket/model.tar.gz")
    assert absolute.exit_code == 0 and "Model data:" not in absolute.stderr  # URLs are the server's to read


def _server(home: Path, port: int) -> subprocess.Popen[str]:
    env = {**os.environ, "GREENFLEET_HOME": str(home), "GREENFLEET_PORT": str(port)}
    return subprocess.Popen([sys.executable, "-m", "greenfleet", "server"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def test_a_busy_port_fails_clearly_and_never_says_listening(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = _server(tmp_path / "home", port)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 1
    assert f"Error: cannot listen on 127.0.0.1:{port}: the port is in use" in output
    assert "listening" not in output and "Traceback" not in output


def test_the_start_line_is_info_and_shown_once_the_port_listens(tmp_path: Path) -> None:
    port = free_port()
    process = _server(tmp_path / "home", port)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "INFO greenfleet.server: greenfleet" in line and f"listening on http://127.0.0.1:{port}" in line
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # it listens by the time it says so
    finally:
        process.terminate()
        process.wait(30)


def test_key_value_lines_are_not_padded_and_no_made_up_variant_status(run: Run, tmp_path: Path) -> None:
    suffix = unique("kv")
    run("model", "create", f"m-{suffix}", "--image", "greenfleet/sklearn", "--model-data-url", "/no/model.tar.gz")
    run("config", "create", f"c-{suffix}", "--variant", f"name=blue,model=m-{suffix},count=1,weight=1")
    assert run("endpoint", "create", f"e-{suffix}", "--config", f"c-{suffix}").exit_code == 0
    described = run("endpoint", "describe", f"e-{suffix}").stdout
    key_values = described.split("Production variants")[0].splitlines()
    assert key_values[0].startswith("Endpoint  ") and key_values[0].endswith(f" e-{suffix}")
    assert all(line == line.rstrip() for line in key_values)
    [row] = [line for line in described.splitlines() if line.startswith("blue")]
    status = row.split("│")[-1].strip()
    assert status != "-"  # no made-up placeholder: only a VariantStatus the endpoint reports (here Creating)
    assert status in ("", "Creating"), status
    run("endpoint", "delete", f"e-{suffix}")
