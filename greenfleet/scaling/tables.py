"""Tables of Application Auto Scaling (created by migration 0008), on the store's shared metadata.

- ``scalable_targets``: one row per registered target; ``state`` is the scaling controller's persisted
  state (cooldowns, the activity in progress), ``revision`` guards compare-and-set saves.
- ``scaling_policies``: one row per policy; ``configuration`` is the policy type's configuration as given,
  ``alarms`` the alarms a target-tracking policy created (name and ARN).
- ``scaling_activities``: append-only, updated only to finish an activity (status, end time)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, Index, Integer, PrimaryKeyConstraint, String, Table, Text, UniqueConstraint

from greenfleet.store.schema import metadata

scalable_targets = Table(
    "scalable_targets",
    metadata,
    Column("namespace", String(32), nullable=False),
    Column("resource_id", String(1600), nullable=False),
    Column("dimension", String(128), nullable=False),
    Column("arn", String(256), nullable=False),
    Column("min_capacity", Integer, nullable=False),
    Column("max_capacity", Integer, nullable=False),
    Column("role_arn", String(1600), nullable=False),
    Column("suspended", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("state", JSON, nullable=False),
    Column("revision", Integer, nullable=False),
    PrimaryKeyConstraint("namespace", "resource_id", "dimension", name="pk_scalable_targets"),
)

scaling_policies = Table(
    "scaling_policies",
    metadata,
    Column("arn", String(1600), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("namespace", String(32), nullable=False),
    Column("resource_id", String(1600), nullable=False),
    Column("dimension", String(128), nullable=False),
    Column("policy_type", String(32), nullable=False),
    Column("configuration", JSON, nullable=False),
    Column("alarms", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("namespace", "resource_id", "dimension", "name", name="uq_scaling_policies_target_name"),
)

scaling_activities = Table(
    "scaling_activities",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("activity_id", String(64), nullable=False, unique=True),
    Column("namespace", String(32), nullable=False),
    Column("resource_id", String(1600), nullable=False),
    Column("dimension", String(128), nullable=False),
    Column("description", Text, nullable=False),
    Column("cause", Text, nullable=False),
    Column("start_time", Float, nullable=False),
    Column("end_time", Float, nullable=True),
    Column("status_code", String(16), nullable=False),
    Column("status_message", Text, nullable=True),
    Column("not_scaled", JSON, nullable=True),
    Index("ix_scaling_activities_target_seq", "namespace", "resource_id", "seq"),
)
