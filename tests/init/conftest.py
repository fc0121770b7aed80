"""Projects made by ``greenfleet init`` (the real command, through click) in temporary directories."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from greenfleet.cli.main import cli
from tests.live.conftest import api, server, sklearn_model

__all__ = ["api", "make_project", "server", "sklearn_model"]

MakeProject = Callable[[str, str], Path]


@pytest.fixture
def make_project(tmp_path: Path) -> MakeProject:
    def make(name: str, scenario: str) -> Path:
        target = tmp_path / f"{name}-{scenario}"
        result = CliRunner().invoke(cli, ["init", name, "--scenario", scenario, "--dir", str(target)])
        assert result.exit_code == 0, result.output
        return target

    return make
