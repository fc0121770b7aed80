"""Routing tables across servers: the leader saves each table it publishes in the store (a step of its
control pass, after the routing step); every other server's :class:`TableFollower` reads the stored
revision a few times a second and publishes a newer table to its own router. A router thus never asks
the store per request, and keeps serving its last table when the store is unreachable."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from greenfleet.control.snapshot import Snapshot
from greenfleet.router.proxy import Router
from greenfleet.router.table import EndpointRoute, InstanceAddress, RoutingTable, Target
from greenfleet.store.repository import Repository

log = logging.getLogger("greenfleet.table_sync")


def dump_table(table: RoutingTable) -> dict[str, Any]:
    return {"revision": table.revision, "endpoints": [
        {"name": route.name, "targets": [
            {"variant": t.variant_name, "config": t.config_name, "weight": t.weight, "strategy": t.strategy,
             "instances": [[i.instance_id, i.host, i.port] for i in t.instances]}
            for t in route.targets]}
        for route in table.endpoints.values()]}


def load_table(body: dict[str, Any]) -> RoutingTable:
    endpoints = {}
    for route in body["endpoints"]:
        targets = tuple(Target(t["variant"], t["config"], float(t["weight"]), t["strategy"],
                               tuple(InstanceAddress(str(i), str(h), int(p)) for i, h, p in t["instances"]))
                        for t in route["targets"])
        endpoints[route["name"]] = EndpointRoute(route["name"], targets)
    return RoutingTable(int(body["revision"]), endpoints)


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


class TableFollower:
    """A follower's thread: publish the stored table to this server's router when its revision is newer."""

    def __init__(self, repo: Repository, router: Router, interval_s: float = 0.1) -> None:
        self.repo, self.router, self.interval_s = repo, router, interval_s
        self.every_second: list[Callable[[], None]] = []
        """The data plane's own writes a follower makes (no control pass runs on it): each at most once a
        second, on this thread (the paired report's pairs)."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def follow_once(self) -> bool:
        """True if a newer table was published."""
        if self.repo.routing_table_revision() <= self.router.table.revision:
            return False
        stored = self.repo.routing_table()
        if stored is None or stored[0] <= self.router.table.revision:
            return False
        self.router.publish(load_table(stored[1]))
        return True

    def _run(self) -> None:
        second = 0
        while not self._stop.wait(self.interval_s):
            try:
                self.follow_once()
            except Exception as exc:  # the store is unreachable: keep serving the last table
                log.warning("cannot read the routing table from the store (%s); serving revision %d",
                            type(exc).__name__, self.router.table.revision)
            if int(time.monotonic()) != second:
                second = int(time.monotonic())
                for task in self.every_second:
                    try:
                        task()
                    except Exception:  # the store is unreachable: what the task holds waits for the next second
                        log.warning("a follower's write to the store failed; retrying", exc_info=True)

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="greenfleet-table-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
