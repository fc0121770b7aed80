"""Application Auto Scaling: scalable targets (with the scaling controller's state), scaling policies and
scaling activities.

Revision ID: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scalable_targets",
        sa.Column("namespace", sa.String(32), nullable=False),
        sa.Column("resource_id", sa.String(1600), nullable=False),
        sa.Column("dimension", sa.String(128), nullable=False),
        sa.Column("arn", sa.String(256), nullable=False),
        sa.Column("min_capacity", sa.Integer, nullable=False),
        sa.Column("max_capacity", sa.Integer, nullable=False),
        sa.Column("role_arn", sa.String(1600), nullable=False),
        sa.Column("suspended", sa.JSON, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("namespace", "resource_id", "dimension", name="pk_scalable_targets"),
    )
    op.create_table(
        "scaling_policies",
        sa.Column("arn", sa.String(1600), primary_key=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("namespace", sa.String(32), nullable=False),
        sa.Column("resource_id", sa.String(1600), nullable=False),
        sa.Column("dimension", sa.String(128), nullable=False),
        sa.Column("policy_type", sa.String(32), nullable=False),
        sa.Column("configuration", sa.JSON, nullable=False),
        sa.Column("alarms", sa.JSON, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("namespace", "resource_id", "dimension", "name", name="uq_scaling_policies_target_name"),
    )
    op.create_table(
        "scaling_activities",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("activity_id", sa.String(64), nullable=False, unique=True),
        sa.Column("namespace", sa.String(32), nullable=False),
        sa.Column("resource_id", sa.String(1600), nullable=False),
        sa.Column("dimension", sa.String(128), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("cause", sa.Text, nullable=False),
        sa.Column("start_time", sa.Float, nullable=False),
        sa.Column("end_time", sa.Float, nullable=True),
        sa.Column("status_code", sa.String(16), nullable=False),
        sa.Column("status_message", sa.Text, nullable=True),
        sa.Column("not_scaled", sa.JSON, nullable=True),
    )
    op.create_index("ix_scaling_activities_target_seq", "scaling_activities", ["namespace", "resource_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_scaling_activities_target_seq", "scaling_activities")
    op.drop_table("scaling_activities")
    op.drop_table("scaling_policies")
    op.drop_table("scalable_targets")
