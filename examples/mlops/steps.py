"""The story's record: each step's outcome as the servers report it, what was expected, why, and the figures.

A step's ``outcome`` is always read back from a server's API (a version's ModelApprovalStatus, a deployment's
Outcome, an experiment's report, a monitoring execution's status); ``expected`` is what the story expects of
it. ``run.py`` writes them as ``report.json`` and ``report.md``."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Record", "Step", "wait_for"]

Doc = dict[str, Any]


def wait_for(check: Callable[[], Any], timeout_s: float, what: str, every_s: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(every_s)


@dataclass
class Step:
    number: int
    title: str
    environment: str
    outcome: str
    expected: str
    why: str
    at: float
    details: Doc = field(default_factory=dict)

    @property
    def as_expected(self) -> bool:
        return self.outcome == self.expected


@dataclass
class Record:
    started_at: float = field(default_factory=time.time)
    steps: list[Step] = field(default_factory=list)
    setup: Doc = field(default_factory=dict)
    error: str | None = None

    def step(self, title: str, environment: str, outcome: str, expected: str, why: str, **details: Any) -> Step:
        made = Step(len(self.steps) + 1, title, environment, outcome, expected, why, time.time(), details)
        self.steps.append(made)
        mark = "ok" if made.as_expected else f"UNEXPECTED (expected {expected})"
        print(f"[{made.at - self.started_at:6.1f} s] {made.number:2d}. {title}: {outcome} — {mark}", flush=True)
        return made

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps({
            "StartedAt": self.started_at, "FinishedAt": time.time(), "Setup": self.setup, "Error": self.error,
            "AllAsExpected": self.error is None and all(s.as_expected for s in self.steps),
            "Steps": [{**asdict(s), "as_expected": s.as_expected} for s in self.steps]}, indent=2, default=str))
