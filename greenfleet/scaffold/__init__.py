"""``greenfleet init NAME``: scaffold a model repository wired into greenfleet.

The template lives beside this module as package data: ``template/common/`` for every project, and
``template/baseline/`` or ``template/advanced/`` on top (a scenario's file replaces a common one of the same
path). Files ending in ``.j2`` are rendered with Jinja2 (delimiters ``[[ ]]`` and ``[% %]``, so that GitHub
Actions' ``${{ }}`` passes through untouched) and lose the suffix; a leading ``dot-`` in a path part becomes
``.`` (``dot-github/`` → ``.github/``), because packaging tools skip hidden files in package data.

Nothing is written unless the name is valid and the target directory is missing or empty; the project is
rendered into a temporary directory beside the target first, then moved into place."""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal

__all__ = ["NAME_PATTERN", "SCENARIOS", "Project", "ScaffoldError", "render", "scaffold"]

Scenario = Literal["baseline", "advanced"]
SCENARIOS: tuple[Scenario, ...] = ("baseline", "advanced")
NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
MAX_NAME = 40
"""Model package group names are at most 63 characters; the longest suffix added is ``-challenger``."""


class ScaffoldError(Exception):
    """The project cannot be created; the message says why (nothing was written)."""


@dataclass(frozen=True)
class Project:
    name: str
    """The project and the prefix of its model package groups: ``churn-model`` → ``churn-model-dev``."""
    scenario: Scenario
    package: str
    """The project's Python package: the name with ``_`` for ``-``."""

    @classmethod
    def of(cls, name: str, scenario: str) -> Project:
        if not NAME_PATTERN.fullmatch(name) or len(name) > MAX_NAME:
            raise ScaffoldError(
                f"invalid project name {name!r}: use 1-{MAX_NAME} lowercase letters, digits and single hyphens, "
                "starting with a letter (it names the model package groups and the Python package)")
        if scenario not in SCENARIOS:
            raise ScaffoldError(f"unknown scenario {scenario!r}: choose one of {', '.join(SCENARIOS)}")
        chosen: Scenario = "advanced" if scenario == "advanced" else "baseline"
        return cls(name, chosen, name.replace("-", "_"))

    def groups(self) -> dict[str, str]:
        """The model package groups (seed 002): feature, dev and prod; advanced: champion and challenger
        instead of prod."""
        keys = ("feature", "dev", "prod") if self.scenario == "baseline" else ("feature", "dev", "champion",
                                                                              "challenger")
        return {key: f"{self.name}-{key}" for key in keys}


def _files(root: Traversable, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Traversable]:
    found: dict[tuple[str, ...], Traversable] = {}
    for entry in root.iterdir():
        if entry.name == "__pycache__":
            continue
        if entry.is_dir():
            found.update(_files(entry, (*prefix, entry.name)))
        else:
            found[(*prefix, entry.name)] = entry
    return found


def _target_path(parts: tuple[str, ...], project: Project) -> tuple[str, ...]:
    renamed = []
    for part in parts:
        part = part.replace("__package__", project.package)
        if part.startswith("dot-"):
            part = "." + part[len("dot-"):]
        renamed.append(part)
    if renamed[-1].endswith(".j2"):
        renamed[-1] = renamed[-1][:-len(".j2")]
    return tuple(renamed)


def render(project: Project) -> dict[str, str]:
    """The project's files: relative path (``/``-separated) → text."""
    from jinja2 import Environment, StrictUndefined

    env = Environment(variable_start_string="[[", variable_end_string="]]", block_start_string="[%",
                      block_end_string="%]", comment_start_string="[#", comment_end_string="#]",
                      undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)
    template = resources.files("greenfleet.scaffold") / "template"
    sources = _files(template / "common")
    sources.update(_files(template / project.scenario))
    context = {"name": project.name, "package": project.package, "scenario": project.scenario,
               "groups": project.groups(), "advanced": project.scenario == "advanced"}
    rendered: dict[str, str] = {}
    for parts, source in sorted(sources.items()):
        text = source.read_text(encoding="utf-8")
        if parts[-1].endswith(".j2"):
            text = env.from_string(text).render(context)
        rendered["/".join(_target_path(parts, project))] = text
    return rendered


def scaffold(name: str, scenario: str = "baseline", directory: Path | None = None) -> Path:
    """Create project ``name`` in ``directory`` (default ``./name``); returns the directory."""
    project = Project.of(name, scenario)
    target = (directory if directory is not None else Path(name)).expanduser().absolute()
    if target.exists() and not target.is_dir():
        raise ScaffoldError(f"{target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()):
        raise ScaffoldError(f"{target} is not empty: choose a new or empty directory (--dir)")
    files = render(project)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        staging.chmod(0o755)  # mkdtemp's 0700 would otherwise become the project's mode
        for relative, text in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        if target.is_dir():
            target.rmdir()  # empty, checked above
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
