"""One pass of the control plane as an explicit, ordered list of named steps.

    instances    health checks, start / drain / stop to the desired groups   (reconciler; publishes the
                                                                             snapshot the others read)
    routing      routing table, endpoint status and observed figures        (reconciler)
    serverless   warm or cool serverless variants (every pass: a held cold-start request waits on it)
    metrics      flush the router's per-second figures, sample CPU/memory   (once a second)
    alarms       evaluate metric alarms                                      (once a second)
    deployments  advance rollouts (reads the alarms evaluated just before)
    registry bindings  approved model package versions → guarded UpdateEndpoint
    capture      data capture's counters to the metric store                (once a second)
    monitoring   Model Monitor's scheduler: record due executions, hand    (once a second)
                 them to one background thread
    scaling      Application Auto Scaling (once a second, after the alarms it reads)
    ... shadow experiments: new steps go in this list

A step reads the pass's :class:`Snapshot` (and the store), never another step's internals. A step that
raises is logged and runs again on the next pass; the steps after it still run."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from greenfleet.control.snapshot import Snapshot

log = logging.getLogger("greenfleet.pass")


class Step(Protocol):
    name: str

    def run(self, snapshot: Snapshot) -> None: ...


@dataclass
class FunctionStep:
    """A step made of a function (for steps that are one call)."""

    name: str
    function: Callable[[Snapshot], None]

    def run(self, snapshot: Snapshot) -> None:
        self.function(snapshot)


@dataclass
class StepRecord:
    runs: int = 0
    failures: int = 0
    last_started: float | None = None
    last_error: str | None = None


class EverySecond:
    """Runs ``step`` at most once per second of the snapshot clock (a flush or an evaluation per second)."""

    def __init__(self, step: Step) -> None:
        self.step, self.name = step, step.name
        self._second: int | None = None
        self.ran_at: deque[float] = deque(maxlen=120)
        """When the step last ran (snapshot time), newest last."""

    def run(self, snapshot: Snapshot) -> None:
        second = int(snapshot.now)
        if second == self._second:
            return
        self._second = second
        self.ran_at.append(snapshot.now)
        self.step.run(snapshot)


class ControlPass:
    def __init__(self, steps: list[Step] | None = None) -> None:
        self.steps: list[Step] = list(steps or [])
        self.records: dict[str, StepRecord] = {}

    @property
    def order(self) -> list[str]:
        return [s.name for s in self.steps]

    def run(self, snapshot: Snapshot) -> None:
        for step in self.steps:
            record = self.records.setdefault(step.name, StepRecord())
            try:
                step.run(snapshot)
            except Exception as exc:  # one failing controller must not stop the others
                record.failures += 1
                record.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("step %s failed; retrying next pass", step.name)
            record.runs += 1
            record.last_started = snapshot.now
