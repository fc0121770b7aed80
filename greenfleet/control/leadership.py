"""One leader among the servers sharing a PostgreSQL database (``GREENFLEET_HA``): the one holding a
session advisory lock on its own connection runs the controllers; the others answer the API and serve
the data plane from the routing table the leader stores. PostgreSQL drops the lock with the session, so
when the leader's process dies (or its machine: TCP keepalives, store/database.py, close the session within ~4 s)
a waiting server takes it on its next try and takes over.

A leader that loses its lock connection can no longer be sure it is the only one: it checks the session
every ``CHECK_S`` and calls ``on_lost`` (the server exits; its instances live on and are adopted by the next
leader). A server that takes the lock waits ``TAKEOVER_GRACE_S`` (several such checks) before it runs the
controllers, so that a leader whose session was cut (pg_terminate_backend, a restarted PostgreSQL) has
exited first: measured, it exits about 0.1 s after its session ends. Without fencing on every write this
narrows the window of two leaders; it cannot close it for a leader stalled longer than the grace."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from collections.abc import Callable, Iterator

from sqlalchemy import Connection, Engine, text

log = logging.getLogger("greenfleet.server.leadership")  # INFO lines shown with the server's
LEADER_KEY = int.from_bytes(hashlib.sha256(b"greenfleet control-plane leader").digest()[:8], "big", signed=True)
MIGRATION_KEY = int.from_bytes(hashlib.sha256(b"greenfleet schema migration").digest()[:8], "big", signed=True)
CHECK_S = 0.1
"""How often a leader checks that its lock session is alive (one ``SELECT 1``)."""
TAKEOVER_GRACE_S = 0.4


class LeaderElection:
    def __init__(self, engine: Engine, on_elected: Callable[[], None], on_lost: Callable[[], None],
                 interval_s: float = 0.5, check_s: float = CHECK_S, grace_s: float = TAKEOVER_GRACE_S) -> None:
        self.engine, self.on_elected, self.on_lost, self.interval_s = engine, on_elected, on_lost, interval_s
        self.check_s, self.grace_s = check_s, grace_s
        self.leader = threading.Event()
        self._stop = threading.Event()
        self._connection: Connection | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="greenfleet-election", daemon=True)
        self._thread.start()

    def try_once(self) -> bool:
        """Try to take the lock (once); True if this server leads now."""
        if self.leader.is_set():
            return True
        try:
            connection = self._connection or self.engine.connect()
            self._connection = connection
            held = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_KEY}).scalar())
            connection.commit()
        except Exception as exc:
            log.warning("cannot reach the database to try for leadership (%s)", type(exc).__name__)
            self._drop_connection()
            return False
        if held:
            self.leader.set()
        return held

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.leader.is_set():
                if self.try_once():
                    if self._stop.wait(self.grace_s):  # a leader whose session was cut exits meanwhile
                        return
                    log.info("this server leads the control plane now")
                    self.on_elected()
            elif not self._still_held():
                log.error("lost the leader's database session: another server may lead now")
                self.leader.clear()
                self.on_lost()
                return
            self._stop.wait(self.check_s if self.leader.is_set() else self.interval_s)

    def _still_held(self) -> bool:
        try:
            assert self._connection is not None
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
            return True
        except Exception:
            return False

    def _drop_connection(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        if self.leader.is_set() and self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LEADER_KEY})
                self._connection.commit()
        self.leader.clear()
        self._drop_connection()


@contextlib.contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Several servers starting at once migrate the schema one at a time (PostgreSQL)."""
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_KEY})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_KEY})
            connection.commit()
