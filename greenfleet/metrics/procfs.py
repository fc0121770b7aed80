"""CPU and memory of a local process from /proc (psutil is not a dependency), for the control plane to
sample and pass to ``Recorder.record_instance_usage``.

CPUUtilization follows SageMaker: the sum over cores (200 % is two busy cores), computed from the growth of
utime + stime between two samples. MemoryUtilization is the resident set (VmRSS) over MemTotal, in percent.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple


class Usage(NamedTuple):
    cpu_percent: float
    memory_percent: float


def _cpu_seconds(pid: int, proc: Path) -> float:
    text = (proc / str(pid) / "stat").read_text()
    fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) "; fields[0] is the state
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return ticks / os.sysconf("SC_CLK_TCK")


def _kib(path: Path, field: str) -> int:
    for line in path.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class ProcessSampler:
    """Keeps the previous CPU reading of each pid; ``sample`` returns None until it has two."""

    def __init__(self, proc: Path = Path("/proc")) -> None:
        self.proc = proc
        self._last: dict[int, tuple[float, float]] = {}

    def sample(self, pid: int, now: float) -> Usage | None:
        """Usage of ``pid`` since the previous call; None on the first call or if the process is gone."""
        try:
            cpu = _cpu_seconds(pid, self.proc)
            rss = _kib(self.proc / str(pid) / "status", "VmRSS")
            total = _kib(self.proc / "meminfo", "MemTotal")
        except (OSError, ValueError, IndexError):
            self._last.pop(pid, None)
            return None
        previous = self._last.get(pid)
        self._last[pid] = (now, cpu)
        if previous is None or now <= previous[0]:
            return None
        cpu_percent = max(0.0, (cpu - previous[1]) / (now - previous[0]) * 100.0)
        return Usage(cpu_percent, 100.0 * rss / total if total else 0.0)

    def forget(self, pid: int) -> None:
        self._last.pop(pid, None)
