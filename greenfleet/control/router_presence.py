"""Every router the leader does not hold in its own process (a follower server's, a ``greenfleet router``
process's) reports to the control plane through the store: a row in ``routers`` with the routing-table
revision it serves, its requests still in flight on instances that table no longer lists and, once a second,
its peak of requests in flight per instance over that second (:func:`remote_peaks`: the leader adds them to its
own router's for ConcurrentRequestsPerModel), its serverless demand (per serverless variant it has seen, when
it was last asked and its requests in flight or held for a cold start: :func:`remote_demand`, which the
leader's serverless driver adds to its own router's, so a variant served only by other routers stays warm
and a request another router holds starts it), why its capture writer's last write to a destination failed,
if it did (:func:`remote_capture_failures`: DescribeEndpoint's FailureReason names the router), and its
invocation metrics (greenfleet.metrics.inbox).

Drains wait on these reports (:func:`remote_busy`): an instance dropped from the table at revision R is
stopped only when every live router reports serving a revision ≥ R with no request left on it. A router
whose report is older than ``STALE_AFTER_S`` is taken for dead (a dead router has nothing in flight); the
drain timeout bounds the wait either way.

The revision a router reports is the one it served one report earlier (≥ ``interval_s`` ago), so a request
that read the previous table just before the swap has acquired its instance, and is counted, by the time
the report says the router has moved on."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from greenfleet.router.proxy import Router
from greenfleet.router.table import RoutingTable
from greenfleet.scaling.serverless import Demand
from greenfleet.store.schema import routers

log = logging.getLogger("greenfleet.router_presence")
STALE_AFTER_S = 5.0
"""A router that has not reported for this long is taken for dead."""
REPORT_INTERVAL_S = 0.25
HEARTBEAT_S = 1.0
"""A report is written when it changes, and at least this often."""
PEAKS_FRESH_S = 2.0
"""A router's reported peaks count towards the leader's concurrency figures while this recent (a gauge: a
silent router's last second must not be counted on and on)."""


@dataclass(frozen=True)
class RouterReport:
    id: str
    kind: str
    revision: int
    leaving: Mapping[str, int]
    seen_at: float
    peaks: Mapping[str, int] = field(default_factory=dict)
    """Its peak of requests in flight per instance over its last whole second."""
    demand: Mapping[tuple[str, str], Demand] = field(default_factory=dict)
    """(endpoint, serverless variant) → its requests: when last asked, how many in flight or held."""
    capture_failures: Mapping[str, str] = field(default_factory=dict)
    """Capture destination → why its capture writer's last write there failed (cleared by a good write)."""


def remote_busy(reports: Sequence[RouterReport], instance_id: str, drain_revision: int, now: float) -> bool:
    """True while a live router may still send to, or wait on, ``instance_id`` (dropped at ``drain_revision``)."""
    return any(r.seen_at >= now - STALE_AFTER_S and (r.revision < drain_revision or r.leaving.get(instance_id, 0) > 0)
               for r in reports)


def remote_peaks(reports: Sequence[RouterReport], now: float) -> dict[str, int]:
    """Per instance, the sum of the fresh reports' peaks of requests in flight: what the other routers add to
    the leader's own peaks (a sum of per-router peaks: never less than the true peak, at most the routers'
    count times it)."""
    total: dict[str, int] = {}
    for report in reports:
        if report.seen_at >= now - PEAKS_FRESH_S:
            for instance_id, peak in report.peaks.items():
                total[instance_id] = total.get(instance_id, 0) + peak
    return total


def remote_demand(reports: Sequence[RouterReport], now: float) -> dict[tuple[str, str], Demand]:
    """Per (endpoint, serverless variant), what the other routers add to the leader's own router's demand:
    the latest request any of them reports, and the sum of their requests in flight or held, from the live
    reports only (a router silent for ``STALE_AFTER_S`` is taken for dead: nothing in flight; its last
    request is a time, and still counts)."""
    total: dict[tuple[str, str], Demand] = {}
    for report in reports:
        live = report.seen_at >= now - STALE_AFTER_S
        for key, demand in report.demand.items():
            seen = demand if live else Demand(demand.last_request, 0)
            total[key] = total[key].merge(seen) if key in total else seen
    return total


def remote_capture_failures(reports: Sequence[RouterReport], destination: str,
                            now: float) -> list[tuple[str, str]]:
    """(router id, reason) for each live router whose capture writer's last write to ``destination`` failed,
    by router id. A router silent for ``STALE_AFTER_S`` is taken for dead: its failure is dropped with it."""
    wanted = destination.rstrip("/")
    return sorted((r.id, r.capture_failures[wanted]) for r in reports
                  if r.seen_at >= now - STALE_AFTER_S and wanted in r.capture_failures)


def router_demand(router: Router) -> dict[tuple[str, str], Demand]:
    """A router's serverless demand, from its in-memory figures (read from another thread than the router's
    event loop: each dict is copied at once, which CPython's GIL makes atomic for these str-tuple keys; a
    free-threaded build would need a lock or a snapshot taken on the loop)."""
    last = dict(router.last_request)
    in_flight = dict(router.serverless_in_flight)
    return {key: Demand(last.get(key), max(in_flight.get(key, 0), 0)) for key in sorted({*last, *in_flight})}


def _dump_demand(demand: Mapping[tuple[str, str], Demand]) -> list[list[object]]:
    return [[endpoint, variant, d.last_request, d.in_flight] for (endpoint, variant), d in demand.items()]


def _load_demand(rows: Sequence[Sequence[Any]] | None) -> dict[tuple[str, str], Demand]:
    """The stored list (None before 0015's column was written)."""
    return {(str(e), str(v)): Demand(None if t is None else float(t), int(n)) for e, v, t, n in rows or []}


def leaving_in_flight(table: RoutingTable, counts: Mapping[str, int]) -> dict[str, int]:
    """Requests in flight on instances ``table`` does not list."""
    listed = {i.instance_id for route in table.endpoints.values() for t in route.targets for i in t.instances}
    return {iid: n for iid, n in list(counts.items()) if n > 0 and iid not in listed}


class RouterRegistry:
    """The ``routers`` table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(self, report: RouterReport, started_at: float) -> None:
        values = {"kind": report.kind, "revision": report.revision, "leaving": dict(report.leaving),
                  "seen_at": report.seen_at, "peaks": dict(report.peaks),
                  "demand": _dump_demand(report.demand), "capture_failures": dict(report.capture_failures)}
        with self.engine.begin() as conn:
            if conn.execute(update(routers).where(routers.c.id == report.id).values(**values)).rowcount == 0:
                conn.execute(insert(routers).values(id=report.id, started_at=started_at, **values))

    def delete(self, router_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(routers).where(routers.c.id == router_id))

    def reports(self) -> list[RouterReport]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(routers)).mappings().all()
        return [RouterReport(r["id"], r["kind"], int(r["revision"]), {str(k): int(v) for k, v in r["leaving"].items()},
                             float(r["seen_at"]), {str(k): int(v) for k, v in (r["peaks"] or {}).items()},
                             _load_demand(r["demand"]),
                             {str(k): str(v) for k, v in (r["capture_failures"] or {}).items()})  # None before 0016
                for r in rows]

    def prune(self, before: float) -> None:
        """Forget routers silent since ``before`` (their rows are only read while fresh)."""
        with self.engine.begin() as conn:
            conn.execute(delete(routers).where(routers.c.seen_at < before))


_ReportedState = tuple[int, dict[str, int], dict[str, int], dict[tuple[str, str], bool], dict[str, str]]
"""What a report changes with: revision, leaving, peaks, serverless variants busy or not, capture failures."""


class RouterReporter:
    """A router's thread: its presence every ``interval_s`` when it changed (at least every ``HEARTBEAT_S``),
    with its peaks of requests in flight taken once a second (it is the only reader of its router's peaks: a
    router that reports is not the leader's), its serverless demand, its capture writer's failures
    (``capture_failures``: a failure appearing, changing or clearing is a change) and ``ship(now)`` (its
    metrics) once a second. The store being unreachable is logged and retried.

    A serverless variant newly seen, or whose requests in flight start or end, is a change (a request held
    for a cold start wakes the reporter: it reaches the store at once, the leader on its next pass); a later
    request time alone is not: it goes with the next report, which comes at least once a second anyway (each
    new second's peaks are reported), so steady traffic does not write a report every ``interval_s`` for its
    times alone."""

    def __init__(self, registry: RouterRegistry, router: Router, router_id: str, kind: str,
                 ship: Callable[[float], int] | None = None, clock: Callable[[], float] = time.time,
                 interval_s: float = REPORT_INTERVAL_S,
                 capture_failures: Callable[[], Mapping[str, str]] | None = None) -> None:
        self.registry, self.router, self.id, self.kind = registry, router, router_id, kind
        self.ship, self.clock, self.interval_s = ship, clock, interval_s
        self.capture_failures: Callable[[], Mapping[str, str]] = capture_failures or (lambda: {})
        self.started_at = clock()
        self._served = -1  # the revision seen at the previous tick
        self._last: _ReportedState | None = None
        self._peaks: dict[str, int] = {}
        self._peaks_second: int | None = None
        self._last_at = 0.0
        self._shipped_second: int | None = None
        self._stop = threading.Event()
        self._woken = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        """Report now rather than at the next interval (a request is held for a serverless cold start: the
        leader starts the variant on this report). Safe from any thread."""
        self._woken.set()

    def report_once(self, now: float) -> bool:
        """Write the presence row if it changed or is due; True if written."""
        table = self.router.table
        revision, self._served = max(self._served, 0), table.revision
        if revision > table.revision:  # never claim more than served
            revision = table.revision
        leaving = leaving_in_flight(table, self.router.outstanding.counts)
        if int(now) != self._peaks_second:  # a new second: the last one's peaks (reported even if unchanged)
            self._peaks_second, self._peaks = int(now), self.router.outstanding.take_peaks()
            self._last = None
        demand = router_demand(self.router)
        failures = dict(self.capture_failures())
        state = (revision, leaving, self._peaks, {key: d.in_flight > 0 for key, d in demand.items()}, failures)
        if state == self._last and now - self._last_at < HEARTBEAT_S:
            return False
        self.registry.save(RouterReport(self.id, self.kind, revision, leaving, now, self._peaks, demand, failures),
                           self.started_at)
        self._last, self._last_at = state, now
        return True

    def _tick(self) -> None:
        now = self.clock()
        try:
            self.report_once(now)
        except Exception as exc:
            log.warning("cannot report this router to the store (%s); retrying", type(exc).__name__)
        if self.ship is not None and int(now) != self._shipped_second:
            self._shipped_second = int(now)
            try:
                self.ship(now)
            except Exception as exc:  # the outbox keeps (bounded) what it has
                log.warning("cannot ship this router's metrics (%s); retrying", type(exc).__name__)

    def _run(self) -> None:
        while True:
            self._woken.wait(self.interval_s)
            self._woken.clear()
            if self._stop.is_set():
                return
            self._tick()

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="greenfleet-router-reporter", daemon=True)
        self._thread.start()

    def stop(self, final_ship: bool = True) -> None:
        """Stop reporting, ship what is left, and remove this router's row."""
        self._stop.set()
        self._woken.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if final_ship and self.ship is not None:
            try:
                self.ship(self.clock() + 1)
            except Exception:
                log.warning("could not ship this router's last metrics", exc_info=True)
        try:
            self.registry.delete(self.id)
        except Exception:
            log.warning("could not remove this router's report", exc_info=True)
