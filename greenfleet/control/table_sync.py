"""Routing tables across servers: the leader saves each table it publishes in the store (a step of its
control pass, after the routing step); every other router's :class:`TableFollower` publishes a newer stored
table to its own router. A router thus never asks the store per request, and keeps serving its last table
when the store is unreachable.

On PostgreSQL the save notifies channel ``greenfleet_routing_table`` in its transaction and followers
LISTEN on a connection of their own: a new table reaches them when the save commits, and they read the
stored revision only on a notification or every ``FALLBACK_S`` (a notification lost with a broken
connection). On SQLite (one machine) followers read the revision every ``interval_s``."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from greenfleet.control.snapshot import Snapshot
from greenfleet.router.proxy import Router
from greenfleet.router.table_codec import dump_table, load_table
from greenfleet.store.repository import Repository

log = logging.getLogger("greenfleet.table_sync")


class TablePublish:
    """The leader's step: save the router's table in the store whenever its revision moved."""

    name = "table-publish"

    def __init__(self, repo: Repository, router: Router) -> None:
        self.repo, self.router = repo, router
        self.saved = -1

    def run(self, snapshot: Snapshot) -> None:
        table = self.router.table
        if table.revision != self.saved:
            self.repo.save_routing_table(table.revision, dump_table(table), snapshot.now)
            self.saved = table.revision


CHANNEL = "greenfleet_routing_table"
FALLBACK_S = 2.0
"""With LISTEN, the stored revision is still read this often (a notification lost with a connection)."""
WAIT_S = 0.25
"""How long one wait for a notification lasts (how soon a stopping follower notices)."""


class TableFollower:
    """A follower's thread: publish the stored table to this server's router when its revision is newer."""

    def __init__(self, repo: Repository, router: Router, interval_s: float = 0.1) -> None:
        self.repo, self.router, self.interval_s = repo, router, interval_s
        self.every_second: list[Callable[[], None]] = []
        """The data plane's own writes a follower makes (no control pass runs on it): each at most once a
        second, on this thread (the paired report's pairs)."""
        self._second = 0
        self.listens = repo.engine.dialect.name == "postgresql"
        self.reads = 0
        """Times the stored revision was read (a measure of how much the follower asks the store)."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def follow_once(self) -> bool:
        """True if a newer table was published."""
        self.reads += 1
        if self.repo.routing_table_revision() <= self.router.table.revision:
            return False
        stored = self.repo.routing_table()
        if stored is None or stored[0] <= self.router.table.revision:
            return False
        self.router.publish(load_table(stored[1]))
        return True

    def _follow(self) -> None:
        try:
            self.follow_once()
        except Exception as exc:  # the store is unreachable: keep serving the last table
            log.warning("cannot read the routing table from the store (%s); serving revision %d",
                        type(exc).__name__, self.router.table.revision)

    def _run(self) -> None:
        if self.listens:
            self._run_listening()
            return
        while not self._stop.wait(self.interval_s):
            self._follow()
            self._every_second()

    def _every_second(self) -> None:
        if int(time.monotonic()) == self._second:
            return
        self._second = int(time.monotonic())
        for task in self.every_second:
            try:
                task()
            except Exception:  # the store is unreachable: what the task holds waits for the next second
                log.warning("a follower's write to the store failed; retrying", exc_info=True)

    def _run_listening(self) -> None:
        import psycopg

        url = self.repo.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self._follow()  # anything saved before LISTEN took effect
                    read_at = time.monotonic()
                    while not self._stop.is_set():
                        notified = False
                        for _ in connection.notifies(timeout=WAIT_S, stop_after=1):
                            notified = True
                        if notified or time.monotonic() - read_at >= FALLBACK_S:
                            self._follow()  # a notification, or the fallback read
                            read_at = time.monotonic()
                        self._every_second()
            except Exception as exc:
                if self._stop.is_set():
                    return
                log.warning("lost the routing-table notifications (%s); reconnecting", type(exc).__name__)
                self._follow()
                self._stop.wait(self.interval_s * 5)

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="greenfleet-table-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop following; a follower that ran runs its every-second tasks once more (what its router holds
        since the last second is written, not lost with the process)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
            self._second = -1
            self._every_second()
