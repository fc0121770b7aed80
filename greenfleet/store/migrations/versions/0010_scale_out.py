"""Past one machine: each instance records the InstanceType it was started for (a remote backend's
reservation, restored on adoption), and the leader publishes its routing table in the store so that
every other server's router follows it by revision.

Revision ID: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("instance_type", sa.String(63), nullable=True))
    op.create_table(
        "routing_tables",
        sa.Column("id", sa.Integer, primary_key=True),  # one row (id 1): the table the leader published last
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("published_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("routing_tables")
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("instance_type")
