"""The metric store: series, their points in memory (a window of recent minutes) and in the database (the
full retention), and per-period aggregation for queries and alarms.

A series is a metric (namespace, name, dimensions) in one unit: CloudWatch keeps the unit of every data
point, a query naming a Unit reads only the points sent in that unit, one without reads them all. Data sent
without a unit is in unit None (CloudWatch's "None").

Retention: one-second points are kept ``raw_retention_s`` (default 3 h), one-minute rollups
``rollup_retention_s`` (default 15 days); a series without data for the rollup retention is dropped. Memory
holds at most ``memory_window_s`` of minutes per series (default 1 h) plus ``max_series`` series; older
ranges are read from the database. Points are written through on every ``persist`` (the control plane's
one-second flush), each row upserted, so a restart finds every closed bucket, sketches included.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from sqlalchemy import Connection, Engine

from greenfleet.errors import ResourceLimitExceeded, ValidationError
from greenfleet.metrics.aggregate import Aggregate
from greenfleet.metrics.chunk import SLOTS, MinuteChunk, StoredPoint, from_stored
from greenfleet.metrics.repository import MetricRepository
from greenfleet.metrics.series import SeriesKey
from greenfleet.metrics.sketch import DEFAULT_ACCURACY

log = logging.getLogger("greenfleet.metrics")

HOUR, DAY = 3600, 86400
READ_THROUGH_HORIZON = 2**62
"""A horizon no point reaches: every read goes to the database (``read_through``)."""


class Series:
    __slots__ = ("chunks", "count_total", "id", "key", "last_seen", "meta_dirty", "resolution", "sum_total",
                 "unit")

    def __init__(self, series_id: int, key: SeriesKey, unit: str | None, resolution: int,
                 last_seen: float) -> None:
        self.id = series_id
        self.key = key
        self.unit = unit
        self.resolution = resolution
        self.last_seen = last_seen
        self.chunks: dict[int, MinuteChunk] = {}
        self.count_total = 0.0  # since the process started, for Prometheus counters
        self.sum_total = 0.0
        self.meta_dirty = False


class MetricStore:
    def __init__(self, engine: Engine, *, raw_retention_s: int = 3 * HOUR, rollup_retention_s: int = 15 * DAY,
                 memory_window_s: int = HOUR, relative_accuracy: float = DEFAULT_ACCURACY,
                 max_series: int = 20_000) -> None:
        if raw_retention_s < 60 or rollup_retention_s < raw_retention_s:
            raise ValueError("retention: one-second ≥ 60 s and one-minute ≥ one-second retention")
        self.repo = MetricRepository(engine)
        self.raw_retention_s = raw_retention_s
        self.rollup_retention_s = rollup_retention_s
        self.memory_window_s = max(120, min(memory_window_s, raw_retention_s))
        self.relative_accuracy = relative_accuracy
        self.max_series = max_series
        self._lock = threading.RLock()
        self._by_key: dict[tuple[SeriesKey, str | None], Series] = {}
        self._units: dict[SeriesKey, list[Series]] = {}
        self._by_id: dict[int, Series] = {}
        self._dirty: dict[tuple[int, int], MinuteChunk] = {}
        self._hot: dict[tuple[int, int], MinuteChunk] = {}
        self._horizon = 0  # memory holds every point of minutes ≥ horizon
        self.persist_failures = 0

    # -- series -----------------------------------------------------------------------------------------
    def load(self, now: float) -> None:
        """Read series and the memory window's points from the database (at start-up)."""
        with self._lock:
            self._by_key.clear()
            self._units.clear()
            self._by_id.clear()
            for row in self.repo.load_series():
                key = SeriesKey(row.namespace, row.metric_name, tuple((n, v) for n, v in row.dimensions))
                self._register(Series(row.id, key, unit_of(row.unit), row.resolution, row.last_seen_at))
            self._horizon = _minute(now - self.memory_window_s)
            for sid, point in self.repo.load_points(60, self._horizon, _minute(now) + 2 * SLOTS):
                chunk = self._chunk_for_load(sid, point.ts, now)
                if chunk is not None:
                    chunk.rollup = from_stored(point)
            for sid, point in self.repo.load_points(1, self._horizon, int(now) + 2 * HOUR):
                chunk = self._chunk_for_load(sid, _minute(point.ts), now)
                if chunk is not None and chunk.has_seconds:
                    chunk.load_second(point)
            for series in self._by_key.values():
                for chunk in series.chunks.values():
                    if chunk.rollup is None and chunk.has_seconds:
                        chunk.rebuild_rollup()  # seconds without their minute row: rebuild it

    def read_through(self) -> None:
        """A store that does not write (a follower server's): forget every point held in memory and read
        each query's points from the database, after reading the series the leader created since."""
        rows = self.repo.load_series()
        with self._lock:
            self._by_key.clear()
            self._units.clear()
            self._by_id.clear()
            self._dirty.clear()
            self._hot.clear()
            for row in rows:
                key = SeriesKey(row.namespace, row.metric_name, tuple((n, v) for n, v in row.dimensions))
                self._register(Series(row.id, key, unit_of(row.unit), row.resolution, row.last_seen_at))
            self._horizon = READ_THROUGH_HORIZON

    def _chunk_for_load(self, sid: int, minute: int, now: float) -> MinuteChunk | None:
        series = self._by_id.get(sid)
        if series is None:
            return None
        chunk = series.chunks.get(minute)
        if chunk is None:
            chunk = series.chunks[minute] = MinuteChunk(minute, self._keeps_seconds(series, minute, now))
        return chunk

    def _keeps_seconds(self, series: Series, minute: int, now: float) -> bool:
        return series.resolution == 1 and minute + SLOTS > now - self.raw_retention_s

    def _register(self, series: Series) -> None:
        self._by_key[(series.key, series.unit)] = series
        self._units.setdefault(series.key, []).append(series)
        self._by_id[series.id] = series

    def find(self, key: SeriesKey, unit: str | None = None) -> list[Series]:
        """The series of ``key``: the one in ``unit`` ("None" for data sent without a unit), or all of them
        when ``unit`` is None."""
        if unit is None:
            return list(self._units.get(key, ()))
        found = self._by_key.get((key, unit_of(unit)))
        return [found] if found is not None else []

    def all_series(self) -> list[Series]:
        with self._lock:
            return list(self._by_key.values())

    def resolve(self, key: SeriesKey, unit: str | None, resolution: int, now: float) -> Series:
        """The series for ``key`` in ``unit``, created (and stored) when new."""
        unit = unit_of(unit)
        series = self._by_key.get((key, unit))
        if series is not None:
            return series
        with self._lock:
            series = self._by_key.get((key, unit))
            if series is not None:
                return series
            if len(self._by_key) >= self.max_series:
                raise ResourceLimitExceeded(
                    f"the metric store holds its maximum of {self.max_series} series; "
                    "series without data for the retention period are dropped")
            sid = self.repo.insert_series(key, unit, resolution, now)
            series = Series(sid, key, unit, resolution, now)
            self._register(series)
            return series

    # -- writes -----------------------------------------------------------------------------------------
    def add(self, items: Sequence[tuple[Series, int, Aggregate]], now: float) -> None:
        """Merge each aggregate into its series' bucket at ``ts`` (whole seconds); takes ownership."""
        with self._lock:
            for series, ts, agg in items:
                minute = ts - ts % SLOTS
                chunk = series.chunks.get(minute)
                if chunk is None:
                    chunk = self._open_chunk(series, minute, now)
                chunk.add(ts - minute, agg)
                key = (series.id, minute)
                self._dirty[key] = chunk
                self._hot[key] = chunk
                series.count_total += agg.count
                series.sum_total += agg.total
                if ts > series.last_seen:
                    series.last_seen = ts
                    series.meta_dirty = True

    def _open_chunk(self, series: Series, minute: int, now: float) -> MinuteChunk:
        chunk = MinuteChunk(minute, self._keeps_seconds(series, minute, now))
        if minute < self._horizon:  # late data for a minute only the database holds: read it first
            for _, point in self.repo.load_points(60, minute, minute + 1, [series.id]):
                chunk.rollup = from_stored(point)
            if chunk.has_seconds:
                for _, point in self.repo.load_points(1, minute, minute + SLOTS, [series.id]):
                    chunk.load_second(point)
        series.chunks[minute] = chunk
        return chunk

    def persist(self, then: Callable[[Connection], None] | None = None) -> int:
        """Write every bucket changed since the last call; returns the number of rows written. ``then`` runs
        in the writing transaction; a failed write counts in ``persist_failures`` (and is retried)."""
        with self._lock:
            dirty, self._dirty = self._dirty, {}
            rows: list[tuple[int, int, StoredPoint]] = []
            for (sid, _), chunk in dirty.items():
                seconds, rollup = chunk.take_dirty()
                rows.extend((sid, 1, point) for point in seconds)
                if rollup is not None:
                    rows.append((sid, 60, rollup))
        try:
            self.repo.upsert_points(rows, then)
        except Exception:
            self.persist_failures += 1
            log.exception("could not persist %d metric points; will retry", len(rows))
            with self._lock:
                for (sid, minute), chunk in dirty.items():
                    chunk.dirty = (1 << SLOTS) - 1 if chunk.has_seconds else 0
                    chunk.rollup_dirty = True
                    self._dirty.setdefault((sid, minute), chunk)
            return 0
        return len(rows)

    def maintain(self, now: float) -> None:
        """Compact closed minutes, evict minutes past the memory window, apply retention."""
        raw_before = int(now) - self.raw_retention_s
        rollup_before = int(now) - self.rollup_retention_s
        with self._lock:
            for key, chunk in list(self._hot.items()):
                if chunk.start + SLOTS + 5 <= now:
                    chunk.compact()
                    del self._hot[key]
            horizon = _minute(now - self.memory_window_s)
            for series in self._by_key.values():
                for minute in [m for m in series.chunks if m < horizon and (series.id, m) not in self._dirty]:
                    self._hot.pop((series.id, minute), None)
                    del series.chunks[minute]
            self._horizon = max(self._horizon, horizon)
            expired = [s for s in self._by_key.values() if s.last_seen < rollup_before and not s.chunks]
            for series in expired:
                del self._by_key[(series.key, series.unit)]
                del self._by_id[series.id]
                siblings = [s for s in self._units[series.key] if s is not series]
                if siblings:
                    self._units[series.key] = siblings
                else:
                    del self._units[series.key]
            changed = [(s.id, s.unit, s.resolution, s.last_seen) for s in self._by_key.values() if s.meta_dirty]
            for series in self._by_key.values():
                series.meta_dirty = False
        self.repo.update_series(changed)
        self.repo.delete_series([s.id for s in expired])
        self.repo.prune(raw_before, rollup_before)

    # -- reads ------------------------------------------------------------------------------------------
    def points(self, series: Series, resolution: int, start: int, end: int) -> list[tuple[int, Aggregate]]:
        """(bucket start, aggregate) of ``resolution`` (1 or 60) in [start, end), in time order. The
        aggregates are views: absorb them, never mutate them."""
        from_db: list[tuple[int, StoredPoint]] = []
        if start < self._horizon:
            from_db = self.repo.load_points(resolution, start, min(end, self._horizon), [series.id])
        out: list[tuple[int, Aggregate]] = []
        with self._lock:
            chunks = series.chunks
            out.extend((p.ts, from_stored(p)) for _, p in from_db if _minute(p.ts) not in chunks)
            for minute in range(_minute(start), end, SLOTS):
                chunk = chunks.get(minute)
                if chunk is None:
                    continue
                if resolution == 60:
                    if chunk.rollup is not None and minute >= start:
                        out.append((minute, chunk.rollup))
                    continue
                for offset in range(max(start - minute, 0), min(end - minute, SLOTS)):
                    agg = chunk.point(offset)
                    if agg is not None:
                        out.append((minute + offset, agg))
        return out

    def aggregate(self, series: Series, start: int, end: int, period: int,
                  distribution: bool = True) -> list[Aggregate | None]:
        """One aggregate per period in [start, end) (start aligned to the period), None where no data.
        Without ``distribution`` only SampleCount, Sum, Minimum and Maximum are merged (much faster); the
        aggregates are then marked opaque (no percentiles)."""
        count = max(0, (end - start) // period)
        resolution = 60 if period % 60 == 0 and start % 60 == 0 else 1
        if resolution == 1 and series.resolution == 60:
            raise ValidationError(
                f"the period must be a multiple of 60 for {series.key.namespace}/{series.key.name}: "
                "its data points are stored at standard (60-second) resolution")
        if not distribution and resolution == 1 and start >= self._horizon:
            return self._numbers(series, start, count, period)
        out: list[Aggregate | None] = [None] * count
        for ts, agg in self.points(series, resolution, start, start + count * period):
            k = (ts - start) // period
            slot = out[k]
            if slot is None:
                slot = out[k] = Aggregate(0.0, 0.0, 0.0, 0.0, None, not distribution)
            if distribution:
                slot.absorb(agg)
            else:
                _add_numbers(slot, agg.count, agg.total, agg.minimum, agg.maximum)
        return out

    def _numbers(self, series: Series, start: int, count: int, period: int) -> list[Aggregate | None]:
        """``aggregate`` without distributions, straight from the one-second arrays in memory."""
        out: list[Aggregate | None] = [None] * count
        end = start + count * period
        with self._lock:
            for minute in range(_minute(start), end, SLOTS):
                chunk = series.chunks.get(minute)
                data = chunk.data if chunk is not None else None
                if data is None:
                    continue
                for offset in range(max(start - minute, 0), min(end - minute, SLOTS)):
                    n = data[offset]
                    if n <= 0:
                        continue
                    k = (minute + offset - start) // period
                    slot = out[k]
                    total, low, high = data[SLOTS + offset], data[2 * SLOTS + offset], data[3 * SLOTS + offset]
                    if slot is None:
                        out[k] = Aggregate(n, total, low, high, None, True)
                    else:
                        _add_numbers(slot, n, total, low, high)
        return out

    def memory_bytes(self) -> int:
        with self._lock:
            return sum(chunk.nbytes() for s in self._by_key.values() for chunk in s.chunks.values())


def unit_of(unit: str | None) -> str | None:
    """A unit as stored: CloudWatch's "None" and no unit at all are the same."""
    return None if unit == "None" else unit


def merge_periods(parts: Sequence[Sequence[Aggregate | None]], distribution: bool) -> list[Aggregate | None]:
    """Per-period aggregates of several series (one metric in several units) merged period by period."""
    if len(parts) == 1:
        return list(parts[0])
    out: list[Aggregate | None] = [None] * (len(parts[0]) if parts else 0)
    for part in parts:
        for k, agg in enumerate(part):
            if agg is None:
                continue
            slot = out[k]
            if slot is None:
                slot = out[k] = Aggregate(0.0, 0.0, 0.0, 0.0, None, not distribution)
            if distribution:
                slot.absorb(agg)
            else:
                _add_numbers(slot, agg.count, agg.total, agg.minimum, agg.maximum)
    return out


def _add_numbers(slot: Aggregate, count: float, total: float, low: float, high: float) -> None:
    if slot.count <= 0:
        slot.count, slot.total, slot.minimum, slot.maximum = count, total, low, high
        return
    slot.count += count
    slot.total += total
    if low < slot.minimum:
        slot.minimum = low
    if high > slot.maximum:
        slot.maximum = high


def _minute(ts: float) -> int:
    t = int(ts)
    return t - t % SLOTS
