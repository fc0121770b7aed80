"""Each router's serverless demand in its ``routers`` row: per serverless variant it has seen, when it was last
asked and its requests in flight or held for a cold start ([endpoint, variant, time or null, count]), so the
leader's serverless controller keeps warm, and starts, the variants other routers serve.

Revision ID: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("routers") as batch:
        batch.add_column(sa.Column("demand", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("routers") as batch:
        batch.drop_column("demand")
