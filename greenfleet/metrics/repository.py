"""SQL of the metric store: series rows and point rows (upserted, so late samples rewrite their bucket)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Row, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from greenfleet.metrics.chunk import StoredPoint
from greenfleet.metrics.series import SeriesKey
from greenfleet.metrics.tables import metric_points, metric_series

_POINT_COLUMNS = ("sample_count", "total", "minimum", "maximum", "flags", "sketch")


class MetricRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(metric_points)
        self._upsert = stmt.on_conflict_do_update(
            index_elements=["series_id", "resolution", "ts"],
            set_={name: stmt.excluded[name] for name in _POINT_COLUMNS})

    def load_series(self) -> Sequence[Row[Any]]:
        with self.engine.connect() as conn:
            return conn.execute(select(metric_series)).all()

    def insert_series(self, key: SeriesKey, unit: str | None, resolution: int, now: float) -> int:
        values = {"digest": key.digest(unit), "namespace": key.namespace, "metric_name": key.name,
                  "dimensions": [list(d) for d in key.dimensions], "unit": unit, "resolution": resolution,
                  "created_at": now, "last_seen_at": now}
        try:
            with self.engine.begin() as conn:
                result = conn.execute(metric_series.insert().values(**values))
                return int(result.inserted_primary_key[0])  # type: ignore[index]
        except IntegrityError:
            with self.engine.connect() as conn:
                found = conn.execute(select(metric_series.c.id).where(
                    metric_series.c.digest == values["digest"])).scalar_one()
                return int(found)

    def update_series(self, changes: Iterable[tuple[int, str | None, int, float]]) -> None:
        """(series id, unit, resolution, last seen) for each series that changed."""
        rows = [{"sid": sid, "unit": unit, "resolution": res, "seen": seen} for sid, unit, res, seen in changes]
        if not rows:
            return
        from sqlalchemy import bindparam

        stmt = update(metric_series).where(metric_series.c.id == bindparam("sid")).values(
            unit=bindparam("unit"), resolution=bindparam("resolution"), last_seen_at=bindparam("seen"))
        with self.engine.begin() as conn:
            conn.execute(stmt, rows)

    def delete_series(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        with self.engine.begin() as conn:
            conn.execute(delete(metric_points).where(metric_points.c.series_id.in_(ids)))
            conn.execute(delete(metric_series).where(metric_series.c.id.in_(ids)))

    def upsert_points(self, rows: Sequence[tuple[int, int, StoredPoint]],
                      then: Callable[[Connection], None] | None = None) -> None:
        """Upsert ``rows``; ``then`` runs in the same transaction (the metric inbox's delete)."""
        if not rows:
            if then is not None:
                with self.engine.begin() as conn:
                    then(conn)
            return
        params = [{"series_id": sid, "resolution": res, "ts": p.ts, "sample_count": p.sample_count, "total": p.total,
                   "minimum": p.minimum, "maximum": p.maximum, "flags": p.flags, "sketch": p.sketch}
                  for sid, res, p in rows]
        with self.engine.begin() as conn:
            conn.execute(self._upsert, params)
            if then is not None:
                then(conn)

    def load_points(self, resolution: int, start: int, end: int,
                    series_ids: Sequence[int] | None = None) -> list[tuple[int, StoredPoint]]:
        c = metric_points.c
        query = select(c.series_id, c.ts, *(c[name] for name in _POINT_COLUMNS)).where(
            c.resolution == resolution, c.ts >= start, c.ts < end)
        if series_ids is not None:
            query = query.where(c.series_id.in_(series_ids))
        with self.engine.connect() as conn:
            return [(row.series_id, StoredPoint(int(row.ts), row.sample_count, row.total, row.minimum,
                                                row.maximum, row.flags,
                                                bytes(row.sketch) if row.sketch is not None else None))
                    for row in conn.execute(query.order_by(c.ts))]

    def prune(self, raw_before: int, rollup_before: int) -> None:
        c = metric_points.c
        with self.engine.begin() as conn:
            conn.execute(delete(metric_points).where(c.resolution == 1, c.ts < raw_before))
            conn.execute(delete(metric_points).where(c.resolution == 60, c.ts < rollup_before))
