"""One minute of one series in memory: up to sixty one-second points in a flat ``array('d')`` (count, sum,
minimum, maximum rows; a zero count marks an empty second) and the minute's rollup, kept current as points
arrive. Standard-resolution series (StorageResolution 60) and minutes older than the one-second retention
keep only the rollup."""

from __future__ import annotations

from array import array
from typing import NamedTuple

from greenfleet.metrics.aggregate import Aggregate
from greenfleet.metrics.sketch import Sketch

SLOTS = 60
FLAG_TWO_VALUED, FLAG_SKETCH, FLAG_OPAQUE = 0, 1, 2


class StoredPoint(NamedTuple):
    ts: int
    sample_count: float
    total: float
    minimum: float
    maximum: float
    flags: int
    sketch: bytes | None


def flags_of(agg: Aggregate) -> int:
    return FLAG_OPAQUE if agg.opaque else FLAG_TWO_VALUED if agg.sketch is None else FLAG_SKETCH


def from_stored(point: StoredPoint) -> Aggregate:
    return Aggregate(point.sample_count, point.total, point.minimum, point.maximum,
                     point.sketch if point.flags == FLAG_SKETCH else None, point.flags == FLAG_OPAQUE)


class MinuteChunk:
    __slots__ = ("data", "dirty", "opaque", "rollup", "rollup_dirty", "sketches", "start")

    def __init__(self, start: int, seconds: bool) -> None:
        self.start = start
        self.data: array[float] | None = array("d", bytes(8 * 4 * SLOTS)) if seconds else None
        self.sketches: list[Sketch | bytes | None] | None = None
        self.opaque = 0  # bit i: second i holds StatisticValues
        self.rollup: Aggregate | None = None
        self.dirty = 0  # bit i: second i changed since the last persist
        self.rollup_dirty = False

    @property
    def has_seconds(self) -> bool:
        return self.data is not None

    def point(self, offset: int) -> Aggregate | None:
        """The second at ``offset`` (its sketch is shared: absorb it, never mutate it)."""
        data = self.data
        if data is None or data[offset] <= 0:
            return None
        sketch = self.sketches[offset] if self.sketches is not None else None
        return Aggregate(data[offset], data[SLOTS + offset], data[2 * SLOTS + offset],
                         data[3 * SLOTS + offset], sketch, bool(self.opaque >> offset & 1))

    def _write(self, offset: int, agg: Aggregate) -> None:
        data = self.data
        assert data is not None
        data[offset] = agg.count
        data[SLOTS + offset] = agg.total
        data[2 * SLOTS + offset] = agg.minimum
        data[3 * SLOTS + offset] = agg.maximum
        if agg.sketch is not None or self.sketches is not None:
            if self.sketches is None:
                self.sketches = [None] * SLOTS
            self.sketches[offset] = agg.sketch
        if agg.opaque:
            self.opaque |= 1 << offset
        else:
            self.opaque &= ~(1 << offset)

    def add(self, offset: int, agg: Aggregate) -> None:
        """Merge ``agg`` into second ``offset`` and the rollup; takes ownership of ``agg``'s sketch."""
        if agg.count <= 0:
            return
        if self.data is not None:
            existing = self.point(offset)
            if existing is None:
                self._write(offset, agg)
            else:
                existing.absorb(agg)
                self._write(offset, existing)
            self.dirty |= 1 << offset
        if self.rollup is None:
            self.rollup = agg.copy() if self.data is not None else agg
        else:
            self.rollup.absorb(agg)
        self.rollup_dirty = True

    def load_second(self, point: StoredPoint) -> None:
        self._write(point.ts - self.start, from_stored(point))

    def rebuild_rollup(self) -> None:
        rollup = Aggregate(0.0, 0.0, 0.0, 0.0)
        for offset in range(SLOTS):
            point = self.point(offset)
            if point is not None:
                rollup.absorb(point)
        self.rollup = rollup if rollup.count > 0 else None

    def compact(self) -> None:
        """Encode live sketches; done once the minute is closed."""
        if self.sketches is not None:
            self.sketches = [s.to_bytes() if isinstance(s, Sketch) else s for s in self.sketches]
        if self.rollup is not None:
            self.rollup.compact()

    def take_dirty(self) -> tuple[list[StoredPoint], StoredPoint | None]:
        """Points written since the last call (seconds, then the rollup), clearing the marks."""
        seconds = []
        dirty, offset = self.dirty, 0
        while dirty:
            if dirty & 1:
                point = self.point(offset)
                if point is not None:
                    seconds.append(to_stored(self.start + offset, point))
            dirty >>= 1
            offset += 1
        self.dirty = 0
        rollup = None
        if self.rollup_dirty and self.rollup is not None:
            rollup = to_stored(self.start, self.rollup)
        self.rollup_dirty = False
        return seconds, rollup

    def nbytes(self) -> int:
        """Approximate memory held (object, array, sketches), for the benchmark."""
        size = 120 + (64 + 8 * 4 * SLOTS if self.data is not None else 0)
        if self.sketches is not None:
            size += 56 + 8 * SLOTS + sum(_sketch_size(s) for s in self.sketches if s is not None)
        if self.rollup is not None:
            size += 100 + (_sketch_size(self.rollup.sketch) if self.rollup.sketch is not None else 0)
        return size


def _sketch_size(sketch: Sketch | bytes) -> int:
    if isinstance(sketch, bytes):
        return 33 + len(sketch)
    return 400 + 100 * (len(sketch.positive) + len(sketch.negative))


def to_stored(ts: int, agg: Aggregate) -> StoredPoint:
    return StoredPoint(ts, agg.count, agg.total, agg.minimum, agg.maximum, flags_of(agg), agg.encoded_sketch())
