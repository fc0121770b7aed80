"""The CI files ``greenfleet init`` writes: valid YAML, accepted by the GitHub workflow and GitLab CI
JSON schemas (check-jsonschema's vendored copies, offline), their shell accepted by shellcheck, and the
project's Python accepted by ruff with the project's own settings."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.init.conftest import MakeProject

BIN = Path(sys.executable).parent
SCENARIOS = ["baseline", "advanced"]


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert found, f"{name} is missing: it comes with greenfleet's dev extra (pip install -e '.[dev]')"
    return found


def schema_check(schema: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("check-jsonschema"), "--builtin-schema", schema, *map(str, paths)],
                          capture_output=True, text=True, timeout=120)


def workflows(project: Path) -> list[Path]:
    return sorted((project / ".github" / "workflows").glob("*.yml"))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_ci_files_are_valid_for_their_ci(make_project: MakeProject, scenario: str) -> None:
    project = make_project("churn", scenario)
    found = workflows(project)
    assert len(found) == (2 if scenario == "advanced" else 1)
    for path in [*found, project / ".gitlab-ci.yml"]:
        assert isinstance(yaml.safe_load(path.read_text()), dict), path
    github = schema_check("vendor.github-workflows", *found)
    assert github.returncode == 0, github.stdout + github.stderr
    gitlab = schema_check("vendor.gitlab-ci", project / ".gitlab-ci.yml")
    assert gitlab.returncode == 0, gitlab.stdout + gitlab.stderr


def test_the_schemas_do_reject_broken_ci_files(make_project: MakeProject, tmp_path: Path) -> None:
    """The validation above can fail: a job without runs-on, and a GitLab job whose script is a number."""
    project = make_project("churn", "baseline")
    workflow = yaml.safe_load((project / ".github/workflows/train.yml").read_text())
    del workflow["jobs"]["train"]["runs-on"]
    broken = tmp_path / "broken.yml"
    broken.write_text(yaml.safe_dump(workflow))
    assert schema_check("vendor.github-workflows", broken).returncode == 1
    pipeline = yaml.safe_load((project / ".gitlab-ci.yml").read_text())
    pipeline["train"]["script"] = 42
    broken.write_text(yaml.safe_dump(pipeline))
    assert schema_check("vendor.gitlab-ci", broken).returncode == 1


def _scripts(project: Path) -> dict[str, str]:
    """Every shell script the CI runs: GitHub ``run:`` steps and GitLab ``script`` lists."""
    found: dict[str, str] = {}
    for path in workflows(project):
        for job_name, job in yaml.safe_load(path.read_text())["jobs"].items():
            for index, step in enumerate(job["steps"]):
                if "run" in step:
                    found[f"{path.name}:{job_name}:{index}"] = step["run"]
    doc: dict[str, Any] = yaml.safe_load((project / ".gitlab-ci.yml").read_text())
    for job_name, job in doc.items():
        if isinstance(job, dict):
            for key in ("before_script", "script"):
                if key in job:
                    found[f".gitlab-ci.yml:{job_name}:{key}"] = "\n".join(job[key])
    return found


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_ci_shell_passes_shellcheck(make_project: MakeProject, scenario: str) -> None:
    project = make_project("churn", scenario)
    scripts = sorted((project / "ci").glob("*.sh"))
    assert len(scripts) == (2 if scenario == "advanced" else 1)
    checked = subprocess.run([tool("shellcheck"), *map(str, scripts)], capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout
    inline = _scripts(project)
    assert any("pipeline --env dev" in text for text in inline.values())
    for where, text in inline.items():
        done = subprocess.run([tool("shellcheck"), "--shell=bash", "-"], input=text, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, f"{where}:\n{done.stdout}"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_project_passes_ruff(make_project: MakeProject, scenario: str) -> None:
    project = make_project("churn-model", scenario)
    done = subprocess.run([tool("ruff"), "check", "--no-cache", "."], cwd=project, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout
