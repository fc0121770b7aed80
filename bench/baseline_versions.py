"""Rounds of a benchmark alternating a baseline commit's greenfleet and this tree's, each round a process of
its own, so that the two versions are compared under the same load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

Round = dict[str, dict[str, float]]
"""One round's figures: by endpoint (or kind of run), by figure."""


def alternate_versions(script: Path, commit: str, rounds: int, arguments: list[str], prefix: str,
                       report: Callable[[int, str, Round], None]) -> dict[str, list[Round]]:
    """Runs ``script arguments`` ``rounds`` times for COMMIT's greenfleet (extracted with ``git archive``
    into a temporary directory named with ``prefix``) and for this tree's, in that order and then the
    other way round, each time in a fresh process with the version's tree on PYTHONPATH; each run prints
    its rounds as a JSON list on its last line. ``report(index, version, figures)`` after each run."""
    here = script.resolve().parent.parent
    by_version: dict[str, list[Round]] = {"baseline": [], "current": []}
    with tempfile.TemporaryDirectory(prefix=prefix) as old:
        archive = subprocess.run(["git", "-C", str(here), "archive", commit, "greenfleet"], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", old], input=archive, check=True)
        trees = {"baseline": old, "current": str(here)}
        for index in range(rounds):
            for version in ("baseline", "current") if index % 2 == 0 else ("current", "baseline"):
                done = subprocess.run([sys.executable, str(script.resolve()), *arguments],
                                      env={**os.environ, "PYTHONPATH": trees[version]}, check=True,
                                      capture_output=True, text=True, cwd=tempfile.gettempdir())
                by_version[version].extend(json.loads(done.stdout.splitlines()[-1]))
                report(index, version, by_version[version][-1])
    return by_version
