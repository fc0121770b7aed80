"""Fixtures for the metric, alarm and event tests (shared module: tests/observability_support.py)."""

from tests.observability_support import (
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
