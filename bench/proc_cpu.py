"""CPU time of processes, read from /proc (Linux only)."""

from __future__ import annotations

import os
from pathlib import Path


def stat_fields(pid: int | str) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (``fields[1]`` the parent's pid, ``fields[16]``
    the niceness), or None for a process that is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None


def cpu_s(fields: list[str]) -> float:
    """CPU seconds (user and system) so far of the process whose ``stat_fields`` these are."""
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
