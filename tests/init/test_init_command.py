"""``greenfleet init``: what it writes for each scenario, and what it refuses (leaving nothing behind)."""

from __future__ import annotations

import glob
import os
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from greenfleet.cli.main import cli
from greenfleet.scaffold import Project
from tests.init.conftest import MakeProject

ROOT = Path(__file__).resolve().parents[2]
COMMON = {".gitignore", "README.md", "greenfleet-project.yaml", "pyproject.toml", ".gitlab-ci.yml",
          ".github/workflows/train.yml", "ci/release.sh", "tests/conftest.py", "tests/test_pipeline.py",
          *(f"churn_model/{m}.py" for m in ("__init__", "checks", "config", "data", "lineage", "model", "pipeline",
                                            "registry"))}


def files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(("scenario", "extra"), [("baseline", set()),
                                                 ("advanced", {".github/workflows/crown.yml", "ci/crown.sh"})])
def test_each_scenario_writes_its_files(make_project: MakeProject, scenario: str, extra: set[str]) -> None:
    project = make_project("churn-model", scenario)
    assert files(project) == COMMON | extra
    for path in files(project):
        text = (project / path).read_text()
        assert "[[" not in text and "[%" not in text, path  # every template was rendered
    config = (project / "greenfleet-project.yaml").read_text()
    for group in Project.of("churn-model", scenario).groups().values():
        assert f": {group}\n" in config
    assert ("churn-model-champion" in config) is (scenario == "advanced")
    assert ("churn-model-prod" in config) is (scenario == "baseline")
    assert "import churn_model" not in (project / "tests/test_pipeline.py").read_text()
    assert "from churn_model import data" in (project / "tests/test_pipeline.py").read_text()


def test_the_command_says_what_it_made(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["init", "fraud", "--scenario", "advanced", "--dir", str(tmp_path / "f")])
    assert result.exit_code == 0, result.output
    assert "Created advanced project fraud" in result.output
    assert "fraud-feature, fraud-dev, fraud-champion, fraud-challenger" in result.output
    assert oct((tmp_path / "f").stat().st_mode & 0o777) == oct(0o777 & ~current_umask())


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_the_default_directory_is_the_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(cli, ["init", "risk"]).exit_code == 0
    assert (tmp_path / "risk" / "risk" / "pipeline.py").is_file()


@pytest.mark.parametrize("name", ["Churn", "1churn", "churn--model", "churn_model", "-churn", "churn-", "a" * 41,
                                  "churn model", "../escape"])
def test_a_bad_name_is_refused_and_nothing_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   name: str) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["init", "--", name])
    assert result.exit_code == 1
    assert f"invalid project name {name!r}" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_non_empty_directory_is_refused_and_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["init", "churn", "--dir", str(target)])
    assert result.exit_code == 1 and "is not empty" in result.output
    assert files(target) == {"notes.txt"} and (target / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy"]  # no staging directory left behind
    (tmp_path / "file").write_text("")
    refused = CliRunner().invoke(cli, ["init", "churn", "--dir", str(tmp_path / "file")])
    assert refused.exit_code == 2 and "is a file" in refused.output


def test_an_empty_directory_is_used(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert CliRunner().invoke(cli, ["init", "churn", "--dir", str(tmp_path / "empty")]).exit_code == 0
    assert (tmp_path / "empty" / "greenfleet-project.yaml").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


def test_an_unknown_scenario_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["init", "churn", "--scenario", "canary", "--dir", str(tmp_path / "c")])
    assert result.exit_code == 2 and "'canary' is not one of" in result.output
    assert not (tmp_path / "c").exists()


def test_the_package_data_patterns_ship_every_template_file() -> None:
    """setuptools globs ``package-data`` from the package directory, skipping hidden files: every file of
    the template must match one pattern, or ``pip install greenfleet`` would make broken projects."""
    package = ROOT / "greenfleet"
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["greenfleet"]
    shipped = {Path(p).as_posix() for pattern in patterns for p in glob.glob(pattern, root_dir=package)
               if (package / p).is_file()}
    template = {p.relative_to(package).as_posix() for p in (package / "scaffold" / "template").rglob("*")
                if p.is_file() and "__pycache__" not in p.parts}
    assert template and template <= shipped
    assert not [p for p in template if any(part.startswith(".") for part in Path(p).parts)]
