"""The paired report's pairs in the store (issue 12): a restart keeps the pairs a report has counted.

Revision ID: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "experiment_pairs",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("endpoint_name", sa.String(63), nullable=False),
        sa.Column("inference_id", sa.String(64), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("request", sa.LargeBinary, nullable=False),
        sa.Column("content_type", sa.String(256), nullable=True),
        sa.Column("production", sa.JSON, nullable=False),
        sa.Column("production_body", sa.LargeBinary, nullable=False),
        sa.Column("shadow_variant", sa.String(63), nullable=False),
        sa.Column("shadow", sa.JSON, nullable=False),
        sa.Column("shadow_body", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_experiment_pairs_endpoint_seq", "experiment_pairs", ["endpoint_name", "seq"])


def downgrade() -> None:
    op.drop_index("ix_experiment_pairs_endpoint_seq", "experiment_pairs")
    op.drop_table("experiment_pairs")
