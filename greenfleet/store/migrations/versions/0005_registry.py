"""Model registry: package groups, versioned packages, their audit trail and deployment bindings; a
per-target secret for signed webhooks.

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_package_groups",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("arn", sa.String(256), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("created_by", sa.String(256), nullable=True),
        sa.Column("next_version", sa.Integer, nullable=False),
    )
    op.create_table(
        "model_packages",
        sa.Column("arn", sa.String(256), primary_key=True),
        sa.Column("group_name", sa.String(63), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("approval_status", sa.String(32), nullable=False),
        sa.Column("registration_type", sa.String(16), nullable=True),
        sa.Column("client_token", sa.String(36), nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("modified_at", sa.Float, nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.UniqueConstraint("group_name", "version", name="uq_model_packages_group_version"),
        sa.UniqueConstraint("group_name", "client_token", name="uq_model_packages_group_client_token"),
    )
    op.create_index("ix_model_packages_group_created", "model_packages", ["group_name", "created_at", "version"])
    op.create_index("ix_model_packages_group_approval_created", "model_packages",
                    ["group_name", "approval_status", "created_at", "version"])
    op.create_table(
        "model_package_history",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("package_arn", sa.String(256), nullable=False),
        sa.Column("group_name", sa.String(63), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("from_status", sa.String(32), nullable=True),
        sa.Column("to_status", sa.String(32), nullable=True),
        sa.Column("by", sa.String(256), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("detail", sa.JSON, nullable=True),
    )
    op.create_index("ix_model_package_history_group_seq", "model_package_history", ["group_name", "seq"])
    op.create_index("ix_model_package_history_package_seq", "model_package_history", ["package_arn", "seq"])
    op.create_table(
        "registry_bindings",
        sa.Column("endpoint_name", sa.String(63), primary_key=True),
        sa.Column("group_name", sa.String(63), nullable=False, index=True),
        sa.Column("variant_name", sa.String(63), nullable=False),
        sa.Column("deployment_config", sa.JSON, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("created_by", sa.String(256), nullable=True),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
    )
    with op.batch_alter_table("event_targets") as batch:
        batch.add_column(sa.Column("secret", sa.String(256), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("event_targets") as batch:
        batch.drop_column("secret")
    op.drop_table("registry_bindings")
    op.drop_table("model_package_history")
    op.drop_table("model_packages")
    op.drop_table("model_package_groups")
