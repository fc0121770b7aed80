"""Asynchronous requests: an index on finished_at, so that the dispatcher's once-a-minute deletion of finished
requests past their retention reads only those, not every record kept.

Revision ID: 0017
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_async_requests_finished_at", "async_requests", ["finished_at"])


def downgrade() -> None:
    op.drop_index("ix_async_requests_finished_at", table_name="async_requests")
