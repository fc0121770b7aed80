"""Each router's capture failures in its ``routers`` row: for each capture destination its capture writer's
last write to failed, why ({destination: reason}), so DescribeEndpoint's FailureReason shows a failure of another
router's capture (a ``greenfleet router`` process's, an HA follower's), not only the answering server's.

Revision ID: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("routers") as batch:
        batch.add_column(sa.Column("capture_failures", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("routers") as batch:
        batch.drop_column("capture_failures")
