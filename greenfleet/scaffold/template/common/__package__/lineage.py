"""Where a model came from: the code's commit, branch and repository (from git, or from the CI's own
variables on GitHub Actions and GitLab CI), and the run that produced it."""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
from pathlib import Path


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None  # no git on this machine
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def commit(root: Path) -> str | None:
    """HEAD's commit, or None outside a git repository (or in one without commits)."""
    return os.environ.get("GITHUB_SHA") or os.environ.get("CI_COMMIT_SHA") or _git(root, "rev-parse", "HEAD")


def dirty(root: Path) -> bool:
    """Whether the working tree holds uncommitted changes (the commit then does not name the code)."""
    return bool(_git(root, "status", "--porcelain", "--untracked-files=no"))


def branch(root: Path) -> str | None:
    name = os.environ.get("GITHUB_REF_NAME") or os.environ.get("CI_COMMIT_REF_NAME") or \
        _git(root, "rev-parse", "--abbrev-ref", "HEAD")
    return None if name == "HEAD" else name


def repository(root: Path) -> str | None:
    if os.environ.get("GITHUB_REPOSITORY"):
        return f"{os.environ.get('GITHUB_SERVER_URL', 'https://github.com')}/{os.environ['GITHUB_REPOSITORY']}"
    return os.environ.get("CI_PROJECT_URL") or _git(root, "remote", "get-url", "origin")


def generated_by() -> str:
    """The CI run's address, or who ran the pipeline where."""
    if os.environ.get("GITHUB_RUN_ID") and os.environ.get("GITHUB_REPOSITORY"):
        return (f"{os.environ.get('GITHUB_SERVER_URL', 'https://github.com')}/{os.environ['GITHUB_REPOSITORY']}"
                f"/actions/runs/{os.environ['GITHUB_RUN_ID']}")
    if os.environ.get("CI_PIPELINE_URL"):
        return os.environ["CI_PIPELINE_URL"]
    return f"local:{getpass.getuser()}@{socket.gethostname()}"
