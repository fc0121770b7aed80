"""Tables of monitoring schedules, executions and job definitions (created by migration 0006). ``config`` is the
schedule's MonitoringScheduleConfig as validated; ``next_run_at`` is the scheduler's progress."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, Index, String, Table, Text

from greenfleet.store.schema import metadata

monitoring_schedules = Table(
    "monitoring_schedules",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("arn", String(256), nullable=False),
    Column("status", String(16), nullable=False),
    Column("monitoring_type", String(32), nullable=False),
    Column("endpoint_name", String(63), nullable=True),
    Column("config", JSON, nullable=False),
    Column("next_run_at", Float, nullable=True),
    Column("failure_reason", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("modified_at", Float, nullable=False),
)

monitoring_executions = Table(
    "monitoring_executions",
    metadata,
    Column("id", String(96), primary_key=True),
    Column("schedule_name", String(63), nullable=False),
    Column("endpoint_name", String(63), nullable=True),
    Column("monitoring_type", String(32), nullable=False),
    Column("scheduled_time", Float, nullable=False),
    Column("window_start", Float, nullable=False),
    Column("window_end", Float, nullable=False),
    Column("status", String(32), nullable=False),
    Column("failure_reason", Text, nullable=True),
    Column("output_uri", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("modified_at", Float, nullable=False),
    Index("ix_monitoring_executions_schedule", "schedule_name", "scheduled_time"),
)

monitoring_job_definitions = Table(
    "monitoring_job_definitions",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("monitoring_type", String(32), nullable=False),
    Column("arn", String(256), nullable=False),
    Column("endpoint_name", String(63), nullable=True),
    Column("params", JSON, nullable=False),
    Column("job", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
)
