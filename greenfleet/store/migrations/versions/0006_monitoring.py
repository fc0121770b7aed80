"""Model Monitor: monitoring schedules, their executions, and job definitions.

Revision ID: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitoring_schedules",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("arn", sa.String(256), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("monitoring_type", sa.String(32), nullable=False),
        sa.Column("endpoint_name", sa.String(63), nullable=True),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("next_run_at", sa.Float, nullable=True),
        sa.Column("failure_reason", sa.Text, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("modified_at", sa.Float, nullable=False),
    )
    op.create_table(
        "monitoring_executions",
        sa.Column("id", sa.String(96), primary_key=True),
        sa.Column("schedule_name", sa.String(63), nullable=False),
        sa.Column("endpoint_name", sa.String(63), nullable=True),
        sa.Column("monitoring_type", sa.String(32), nullable=False),
        sa.Column("scheduled_time", sa.Float, nullable=False),
        sa.Column("window_start", sa.Float, nullable=False),
        sa.Column("window_end", sa.Float, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("failure_reason", sa.Text, nullable=True),
        sa.Column("output_uri", sa.Text, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("modified_at", sa.Float, nullable=False),
    )
    op.create_table(
        "monitoring_job_definitions",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("monitoring_type", sa.String(32), nullable=False),
        sa.Column("arn", sa.String(256), nullable=False),
        sa.Column("endpoint_name", sa.String(63), nullable=True),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("job", sa.JSON, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_monitoring_executions_schedule", "monitoring_executions", ["schedule_name", "scheduled_time"])


def downgrade() -> None:
    op.drop_index("ix_monitoring_executions_schedule", table_name="monitoring_executions")
    op.drop_table("monitoring_job_definitions")
    op.drop_table("monitoring_executions")
    op.drop_table("monitoring_schedules")
