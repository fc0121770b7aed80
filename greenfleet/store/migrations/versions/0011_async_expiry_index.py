"""Asynchronous requests: an index on (status, expires_at), so that the dispatcher's once-a-second look for
queued requests past their TTL reads only those, not the whole backlog.

Revision ID: 0011
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_async_requests_status_expires", "async_requests", ["status", "expires_at"])


def downgrade() -> None:
    op.drop_index("ix_async_requests_status_expires", table_name="async_requests")
