"""One server per home and per database: two servers sharing either would adopt, and then stop, each
other's instances.

:class:`HomeLock` holds an exclusive ``flock`` on ``GREENFLEET_HOME/server.lock`` (the kernel drops it
when the process dies, however it dies), and :class:`DatabaseLease` a PostgreSQL session advisory lock
(dropped with the session), for servers with different homes sharing one database. A second server
refuses to start with :class:`AlreadyRunning`, whose message names what holds the home or database.

Workers of the ``greenfleet/command`` image read the same lock to learn whether a server still runs
(:func:`server_running`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:  # workers import this module for server_running: no SQLAlchemy for them
    from sqlalchemy.engine import Connection, Engine

__all__ = ["LOCK_FILE", "AlreadyRunning", "DatabaseLease", "HomeLock", "server_running"]

LOCK_FILE = "server.lock"
_ACQUIRE_WAIT_S = 2.0  # a worker's watchdog may hold a shared lock for a moment while it looks
_LEASE_KEY = int.from_bytes(hashlib.sha256(b"greenfleet server lease").digest()[:8], "big", signed=True)


class AlreadyRunning(RuntimeError):
    """Another greenfleet server owns this home or database."""


class HomeLock:
    def __init__(self, home: Path) -> None:
        self.path = home / LOCK_FILE
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 -- held open for the server's lifetime
        deadline = time.monotonic() + _ACQUIRE_WAIT_S
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    owner = handle.read().strip() or "unknown"
                    handle.close()
                    raise AlreadyRunning(
                        f"Another greenfleet server (pid {owner}) is using GREENFLEET_HOME {self.path.parent}; "
                        "stop it first or give this one another home.") from None
                time.sleep(0.05)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def server_running(lock_path: Path) -> bool:
    """True while a server holds ``lock_path`` (a missing file: no server)."""
    try:
        handle = open(lock_path)  # noqa: SIM115
    except OSError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


class DatabaseLease:
    """A PostgreSQL advisory lock held by one connection for the server's lifetime (SQLite: nothing to
    do, its file lives in the home the :class:`HomeLock` guards)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Connection | None = None

    def acquire(self) -> None:
        if self.engine.dialect.name != "postgresql":
            return
        from sqlalchemy import text

        connection = self.engine.connect()
        held = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": _LEASE_KEY}).scalar()
        connection.commit()
        if not held:
            connection.close()
            url = self.engine.url.render_as_string(hide_password=True)
            raise AlreadyRunning(f"Another greenfleet server holds the lease on the database {url}; "
                                 "one server per database until several servers can share one safely.")
        self._connection = connection

    def release(self) -> None:
        if self._connection is not None:
            from sqlalchemy import text

            with contextlib.suppress(Exception):
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _LEASE_KEY})
                self._connection.commit()
            self._connection.close()
            self._connection = None
