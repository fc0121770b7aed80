"""Asynchronous inference: the durable queue of InvokeEndpointAsync requests.

Revision ID: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "async_requests",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("endpoint_name", sa.String(63), nullable=False),
        sa.Column("inference_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("input_location", sa.String(1024), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=True),
        sa.Column("content_type", sa.String(1024), nullable=True),
        sa.Column("accept", sa.String(1024), nullable=True),
        sa.Column("custom_attributes", sa.String(1024), nullable=True),
        sa.Column("output_location", sa.String(2048), nullable=False),
        sa.Column("failure_location", sa.String(2048), nullable=False),
        sa.Column("notification", sa.JSON, nullable=True),
        sa.Column("invocation_timeout_s", sa.Float, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("started_at", sa.Float, nullable=True),
        sa.Column("finished_at", sa.Float, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("failure_reason", sa.Text, nullable=True),
        sa.UniqueConstraint("endpoint_name", "inference_id", name="uq_async_requests_endpoint_inference"),
    )
    op.create_index("ix_async_requests_status_endpoint_seq", "async_requests", ["status", "endpoint_name", "seq"])


def downgrade() -> None:
    op.drop_index("ix_async_requests_status_endpoint_seq", "async_requests")
    op.drop_table("async_requests")
