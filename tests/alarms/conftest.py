"""Fixtures for the metric, alarm and event tests (shared module: tests/metrics/observability_support.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "metrics"))

from observability_support import (
    clock,
    engine,
    make_services,
    postgres_session_engine,
    receiver,
    sqlite_engine,
    sqlite_session_engine,
)

__all__ = ["clock", "engine", "make_services", "postgres_session_engine", "receiver", "sqlite_engine",
           "sqlite_session_engine"]
