"""Shared fixtures: free ports, a PostgreSQL database per test session, live greenfleet servers."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get("GREENFLEET_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_reachable() -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'greenfleet[postgres]')"
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.OperationalError as exc:
        return f"no PostgreSQL server at {PG_ADMIN_URL}: {exc}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    problem = _pg_reachable()
    if problem:
        pytest.skip(f"PostgreSQL store tests skipped: {problem}")
    import psycopg

    name = f"gf_test_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each store test runs on both backends; PostgreSQL tables are emptied between tests."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    from sqlalchemy import MetaData, text

    from greenfleet.store.database import create_store_engine

    engine = create_store_engine(url)
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.begin() as connection:
        for table in metadata.sorted_tables:
            if table.name != "alembic_version":
                connection.execute(text(f'DELETE FROM "{table.name}"'))
    engine.dispose()


# The metric, alarm and event fixtures (tests/observability_support.py), shared by their test packages.
from tests.observability_support import (  # noqa: E402
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
