"""Each router's peaks of requests in flight per instance over its last whole second, in its ``routers`` row,
so the leader's ConcurrentRequestsPerModel (and ServerlessUtilization) count every router's requests.

Revision ID: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("routers") as batch:
        batch.add_column(sa.Column("peaks", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("routers") as batch:
        batch.drop_column("peaks")
