"""Tables of the metric store (created by migration 0002), declared on the store's shared metadata.

``metric_points`` holds one row per series, resolution (1 or 60 seconds) and bucket start; a row is
rewritten (upserted) when late samples change its bucket. ``flags``: 0 two-valued, 1 sketch, 2 opaque (see
greenfleet.metrics.aggregate)."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Float, Index, Integer, LargeBinary, SmallInteger, String, Table

from greenfleet.store.schema import metadata

metric_series = Table(
    "metric_series",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("digest", String(40), nullable=False, unique=True),
    Column("namespace", String(255), nullable=False),
    Column("metric_name", String(255), nullable=False),
    Column("dimensions", JSON, nullable=False),
    Column("unit", String(32), nullable=True),
    Column("resolution", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_seen_at", Float, nullable=False),
)

metric_points = Table(
    "metric_points",
    metadata,
    Column("series_id", Integer, primary_key=True, autoincrement=False),
    Column("resolution", SmallInteger, primary_key=True, autoincrement=False),
    Column("ts", BigInteger, primary_key=True, autoincrement=False),
    Column("sample_count", Float, nullable=False),
    Column("total", Float, nullable=False),
    Column("minimum", Float, nullable=False),
    Column("maximum", Float, nullable=False),
    Column("flags", SmallInteger, nullable=False),
    Column("sketch", LargeBinary, nullable=True),
    Index("ix_metric_points_resolution_ts", "resolution", "ts"),
)

metric_inbox = Table(
    "metric_inbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("router_id", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("body", JSON, nullable=False),  # {"points": [[namespace, name, dims, unit, ts, count, total, ...]]}
)
