"""Inference experiments (shadow tests), inference id assignments, feedback outcomes and A/B tests.

Revision ID: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inference_experiments",
        sa.Column("name", sa.String(120), primary_key=True),
        sa.Column("arn", sa.String(256), nullable=False),
        sa.Column("endpoint_name", sa.String(63), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("modified_at", sa.Float, nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
    )
    op.create_table(
        "inference_assignments",
        sa.Column("endpoint_name", sa.String(63), primary_key=True),
        sa.Column("inference_id", sa.String(64), primary_key=True),
        sa.Column("variant_name", sa.String(63), nullable=False),
        sa.Column("prediction", sa.Text, nullable=True),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("ix_inference_assignments_at", "inference_assignments", ["at"])
    op.create_table(
        "feedback_outcomes",
        sa.Column("endpoint_name", sa.String(63), primary_key=True),
        sa.Column("inference_id", sa.String(64), primary_key=True),
        sa.Column("variant_name", sa.String(63), nullable=False),
        sa.Column("reward", sa.Float, nullable=True),
        sa.Column("label", sa.Text, nullable=True),
        sa.Column("correct", sa.Integer, nullable=True),
        sa.Column("recorded_at", sa.Float, nullable=False),
    )
    op.create_index("ix_feedback_outcomes_endpoint_variant", "feedback_outcomes", ["endpoint_name", "variant_name"])
    op.create_index("ix_feedback_outcomes_recorded_at", "feedback_outcomes", ["recorded_at"])
    op.create_table(
        "ab_tests",
        sa.Column("name", sa.String(120), primary_key=True),
        sa.Column("endpoint_name", sa.String(63), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ab_tests")
    op.drop_index("ix_feedback_outcomes_recorded_at", "feedback_outcomes")
    op.drop_index("ix_feedback_outcomes_endpoint_variant", "feedback_outcomes")
    op.drop_table("feedback_outcomes")
    op.drop_index("ix_inference_assignments_at", "inference_assignments")
    op.drop_table("inference_assignments")
    op.drop_table("inference_experiments")
