"""Engine creation and schema migrations (Alembic, run programmatically at start-up).

Alembic is imported only when the schema is behind: a store already at :data:`HEAD_REVISION` (every
start but the first after an upgrade) is recognised with one query, so the long-running server never
holds Alembic's modules (about 10 MB) in memory for nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD_REVISION = "0017"  # the newest file in migrations/versions (a test checks it against Alembic's head)


def create_store_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, connect_args=DEAD_PEER_CHECKS)


DEAD_PEER_CHECKS: dict[str, Any] = {
    "keepalives": 1, "keepalives_idle": 2, "keepalives_interval": 1, "keepalives_count": 2,
    "tcp_user_timeout": 4000,
    "options": "-c tcp_keepalives_idle=2 -c tcp_keepalives_interval=1 -c tcp_keepalives_count=2 "
               "-c tcp_user_timeout=4000",
}
"""Both ends of a PostgreSQL session notice a vanished peer within ~4 s (TCP keepalives and a user
timeout, on the client and, through ``options``, on the server): a dead leader machine's session, and
with it the leader lock, ends within that, and a leader cut off from the database finds out as fast."""


def current_revision(engine: Engine) -> str | None:
    """The revision Alembic last recorded in this store; None for an empty store."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision."""
    if current_revision(engine) == HEAD_REVISION:
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
