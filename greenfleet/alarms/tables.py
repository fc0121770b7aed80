"""Tables of alarms (created by migration 0002), declared on the store's shared metadata. ``spec`` is the
alarm's configuration in PutMetricAlarm's shape, already validated; ``data`` of a history item is the JSON
text CloudWatch returns as HistoryData."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Float, Index, Integer, String, Table, Text

from greenfleet.store.schema import metadata

alarms = Table(
    "alarms",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("spec", JSON, nullable=False),
    Column("actions_enabled", Boolean, nullable=False),
    Column("state", String(32), nullable=False),
    Column("state_reason", Text, nullable=False),
    Column("state_reason_data", Text, nullable=True),
    Column("state_updated_at", Float, nullable=False),
    Column("state_transitioned_at", Float, nullable=False),
    Column("configuration_updated_at", Float, nullable=False),
    Column("created_at", Float, nullable=False),
)

alarm_history = Table(
    "alarm_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alarm_name", String(255), nullable=False),
    Column("timestamp", Float, nullable=False),
    Column("item_type", String(32), nullable=False),
    Column("summary", Text, nullable=False),
    Column("data", Text, nullable=False),
    Column("old_state", String(32), nullable=True),
    Column("new_state", String(32), nullable=True),
    Index("ix_alarm_history_alarm_name_timestamp", "alarm_name", "timestamp"),
    Index("ix_alarm_history_timestamp", "timestamp"),
)
