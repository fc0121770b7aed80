"""Invocation metrics from every router into the one metric store, additively.

Only the leading server writes ``metric_points`` (its buckets are whole rows, upserted). Every other router
(a follower server's, a ``greenfleet router`` process's) records into a :class:`MetricOutbox` instead of a
store: once a second its closed seconds go to the ``metric_inbox`` table as one row tagged with the router's
id. The leader's one-second flush takes the rows it has not merged yet, merges each point into its store
(``MetricStore.add`` absorbs an aggregate into the bucket: counts and sums add, sketches merge), and deletes
the rows in the transaction that persists the merged buckets. A leader that dies between a merge and that
commit leaves the rows for the next leader, which reloads the buckets as last committed: each row is counted
exactly once.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select

from greenfleet.metrics.aggregate import Aggregate
from greenfleet.metrics.chunk import StoredPoint, from_stored, to_stored
from greenfleet.metrics.series import SeriesKey
from greenfleet.metrics.store import MetricStore, Series
from greenfleet.metrics.tables import metric_inbox

log = logging.getLogger("greenfleet.metrics")
MAX_WAITING_POINTS = 200_000
"""Points an outbox keeps while the store is unreachable; beyond, the oldest are dropped (``dropped``)."""
TAKE_ROWS = 1000
"""Inbox rows the leader merges per flush (a backlog after a leaderless spell drains over a few seconds)."""


def encode_point(series: Series, ts: int, agg: Aggregate) -> list[Any]:
    stored = to_stored(ts, agg)
    sketch = base64.b64encode(stored.sketch).decode() if stored.sketch is not None else None
    return [series.key.namespace, series.key.name, [list(d) for d in series.key.dimensions], series.unit,
            series.resolution, ts, stored.sample_count, stored.total, stored.minimum, stored.maximum,
            stored.flags, sketch]


def decode_point(point: Sequence[Any]) -> tuple[SeriesKey, str | None, int, int, Aggregate]:
    """(key, unit, resolution, ts, aggregate) of one encoded point."""
    namespace, name, dims, unit, resolution, ts, count, total, low, high, flags, sketch = point
    key = SeriesKey(str(namespace), str(name), tuple((str(n), str(v)) for n, v in dims))
    stored = StoredPoint(int(ts), float(count), float(total), float(low), float(high), int(flags),
                         base64.b64decode(sketch) if sketch is not None else None)
    return key, unit, int(resolution), int(ts), from_stored(stored)


class MetricOutbox:
    """A non-leading router's point sink (what a :class:`~greenfleet.metrics.recorder.Recorder` writes to in
    place of a store): points wait in memory until :meth:`ship` writes them to the inbox as one row."""

    def __init__(self, engine: Engine, router_id: str, relative_accuracy: float,
                 max_waiting: int = MAX_WAITING_POINTS) -> None:
        self.engine, self.router_id, self.relative_accuracy = engine, router_id, relative_accuracy
        self.max_waiting = max_waiting
        self._series: dict[tuple[SeriesKey, str | None], Series] = {}
        self._waiting: list[list[Any]] = []
        self._lock = threading.Lock()
        self.dropped = 0
        self.shipped_points = 0

    def resolve(self, key: SeriesKey, unit: str | None, resolution: int, now: float) -> Series:
        unit = None if unit == "None" else unit
        series = self._series.get((key, unit))
        if series is None:
            series = self._series[(key, unit)] = Series(-1, key, unit, resolution, now)
        return series

    def add(self, items: Sequence[tuple[Series, int, Aggregate]], now: float) -> None:
        encoded = [encode_point(series, ts, agg) for series, ts, agg in items]
        with self._lock:
            self._waiting.extend(encoded)
            excess = len(self._waiting) - self.max_waiting
            if excess > 0:
                del self._waiting[:excess]
                self.dropped += excess

    def ship(self, now: float) -> int:
        """Write the waiting points as one inbox row; returns how many (they wait on if the store is down)."""
        with self._lock:
            points, self._waiting = self._waiting, []
        if not points:
            return 0
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(metric_inbox).values(router_id=self.router_id, created_at=now,
                                                         body={"points": points}))
        except Exception:
            with self._lock:
                self._waiting[:0] = points
            raise
        self.shipped_points += len(points)
        return len(points)


class MetricInbox:
    """The leader's side: rows merged into memory are remembered until the persist that deletes them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.merged: set[int] = set()
        """Rows merged into the store whose delete has not committed yet (never merged twice)."""

    def absorb(self, store: MetricStore, now: float) -> int:
        """Merge the rows not merged yet into ``store``; returns the number of points merged."""
        query = select(metric_inbox.c.id, metric_inbox.c.body).order_by(metric_inbox.c.id).limit(TAKE_ROWS)
        if self.merged:
            query = query.where(metric_inbox.c.id.not_in(sorted(self.merged)))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        merged = 0
        for row_id, body in rows:
            items: list[tuple[Series, int, Aggregate]] = []
            for point in body.get("points", []):
                try:
                    key, unit, resolution, ts, agg = decode_point(point)
                    items.append((store.resolve(key, unit, resolution, now), ts, agg))
                except Exception:  # one bad point (or a full store) must not block the rest
                    log.warning("dropped a router's metric point %r", point[:3], exc_info=True)
            store.add(items, now)
            merged += len(items)
            self.merged.add(int(row_id))
        return merged

    def delete_merged(self, ids: Sequence[int]) -> Callable[[Connection], None]:
        """A step of the persisting transaction: delete these merged rows."""
        def run(conn: Connection) -> None:
            if ids:
                conn.execute(delete(metric_inbox).where(metric_inbox.c.id.in_(ids)))
        return run

    def committed(self, ids: Sequence[int]) -> None:
        self.merged.difference_update(ids)
