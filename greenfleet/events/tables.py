"""Tables of the event log, webhook targets and the delivery outbox (created by migration 0002), declared
on the store's shared metadata. ``seq`` orders events; ``id`` (a UUID) is what receivers de-duplicate on."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Float, Index, Integer, String, Table, Text

from greenfleet.store.schema import metadata

events = Table(
    "events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("time", Float, nullable=False),
    Column("source", String(255), nullable=False),
    Column("detail_type", String(255), nullable=False),
    Column("resource", String(1024), nullable=True),
    Column("detail", JSON, nullable=False),
    Index("ix_events_time", "time"),
    Index("ix_events_source_seq", "source", "seq"),
    Index("ix_events_resource_seq", "resource", "seq"),
)

event_targets = Table(
    "event_targets",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("url", String(2048), nullable=False),
    Column("pattern", JSON, nullable=False),
    Column("description", Text, nullable=True),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("secret", String(256), nullable=True),  # migration 0005: HMAC key of signed deliveries
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("target_id", String(36), nullable=True),
    Column("url", String(2048), nullable=False),
    Column("dedup_id", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("context", JSON, nullable=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("attempt_log", JSON, nullable=False),
    Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    Index("ix_deliveries_dedup_id", "dedup_id"),
)
