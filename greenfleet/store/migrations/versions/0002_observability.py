"""Metrics, alarms and events: metric series and points, alarms and their history, the event log, webhook
targets and the delivery outbox.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metric_series",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("digest", sa.String(40), nullable=False, unique=True),
        sa.Column("namespace", sa.String(255), nullable=False),
        sa.Column("metric_name", sa.String(255), nullable=False),
        sa.Column("dimensions", sa.JSON, nullable=False),
        sa.Column("unit", sa.String(32), nullable=True),
        sa.Column("resolution", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_seen_at", sa.Float, nullable=False),
    )
    op.create_table(
        "metric_points",
        sa.Column("series_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("resolution", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("ts", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("sample_count", sa.Float, nullable=False),
        sa.Column("total", sa.Float, nullable=False),
        sa.Column("minimum", sa.Float, nullable=False),
        sa.Column("maximum", sa.Float, nullable=False),
        sa.Column("flags", sa.SmallInteger, nullable=False),
        sa.Column("sketch", sa.LargeBinary, nullable=True),
    )
    op.create_index("ix_metric_points_resolution_ts", "metric_points", ["resolution", "ts"])
    op.create_table(
        "alarms",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("actions_enabled", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("state_reason", sa.Text, nullable=False),
        sa.Column("state_reason_data", sa.Text, nullable=True),
        sa.Column("state_updated_at", sa.Float, nullable=False),
        sa.Column("state_transitioned_at", sa.Float, nullable=False),
        sa.Column("configuration_updated_at", sa.Float, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "alarm_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("alarm_name", sa.String(255), nullable=False),
        sa.Column("timestamp", sa.Float, nullable=False),
        sa.Column("item_type", sa.String(32), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("old_state", sa.String(32), nullable=True),
        sa.Column("new_state", sa.String(32), nullable=True),
    )
    op.create_index("ix_alarm_history_alarm_name_timestamp", "alarm_history", ["alarm_name", "timestamp"])
    op.create_index("ix_alarm_history_timestamp", "alarm_history", ["timestamp"])
    op.create_table(
        "events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("time", sa.Float, nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("detail_type", sa.String(255), nullable=False),
        sa.Column("resource", sa.String(1024), nullable=True),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_events_time", "events", ["time"])
    op.create_index("ix_events_source_seq", "events", ["source", "seq"])
    op.create_index("ix_events_resource_seq", "events", ["resource", "seq"])
    op.create_table(
        "event_targets",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("pattern", sa.JSON, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("target_id", sa.String(36), nullable=True),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("dedup_id", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("context", sa.JSON, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.Float, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("last_status_code", sa.Integer, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("attempt_log", sa.JSON, nullable=False),
    )
    op.create_index("ix_deliveries_status_next_attempt_at", "deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_deliveries_dedup_id", "deliveries", ["dedup_id"])


def downgrade() -> None:
    for table in ("deliveries", "event_targets", "events", "alarm_history", "alarms", "metric_points",
                  "metric_series"):
        op.drop_table(table)
