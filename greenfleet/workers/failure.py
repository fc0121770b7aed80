"""The failure file: one human-readable line telling why a worker could not start (exit status 3)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

__all__ = ["FAILURE_EXIT_CODE", "MAX_REASON_CHARS", "read_failure_reason", "write_failure"]

FAILURE_EXIT_CODE = 3
"""Exit status of a worker that wrote its failure file."""

MAX_REASON_CHARS = 1024
"""SageMaker's FailureReason holds at most 1024 characters."""

_log = logging.getLogger("greenfleet.workers")


def write_failure(path: Path | None, reason: str) -> int:
    """Log ``reason``, write it (shortened to fit a FailureReason) to ``path``; return the exit status."""
    reason = " ".join(reason.split())
    if len(reason) > MAX_REASON_CHARS:
        reason = reason[: MAX_REASON_CHARS - 3] + "..."
    _log.error("worker failed: %s", reason)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(reason + "\n", encoding="utf-8")
        os.replace(partial, path)
    return FAILURE_EXIT_CODE


def read_failure_reason(path: Path) -> str | None:
    """The reason a worker wrote to ``path``, or None if it wrote none (control-plane side)."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return text or None
