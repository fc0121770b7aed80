"""Tables of the model registry (created by migration 0005), declared on the store's shared metadata.

- ``model_package_groups``: one row per group; ``next_version`` makes version numbers monotonic (a
  deleted version's number is never reused).
- ``model_packages``: one row per version. The columns a listing needs are real columns (so that
  ListModelPackages pages in SQL); the rest of SageMaker's document is ``spec``.
- ``model_package_history``: the audit trail, append-only: creation, every approval change (who, why,
  when), every deployment outcome of a version through a binding, deletion.
- ``registry_bindings``: a group bound to an endpoint variant with a DeploymentConfig; ``state`` is the
  binding controller's persisted state, ``revision`` guards compare-and-set saves."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, Index, Integer, String, Table, Text, UniqueConstraint

from greenfleet.store.schema import metadata

model_package_groups = Table(
    "model_package_groups",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("arn", String(256), nullable=False),
    Column("description", Text, nullable=True),
    Column("status", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("created_by", String(256), nullable=True),
    Column("next_version", Integer, nullable=False),
)

model_packages = Table(
    "model_packages",
    metadata,
    Column("arn", String(256), primary_key=True),
    Column("group_name", String(63), nullable=False),
    Column("version", Integer, nullable=False),
    Column("description", Text, nullable=True),
    Column("status", String(16), nullable=False),
    Column("approval_status", String(32), nullable=False),
    Column("registration_type", String(16), nullable=True),
    Column("client_token", String(36), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("modified_at", Float, nullable=False),
    Column("spec", JSON, nullable=False),
    UniqueConstraint("group_name", "version", name="uq_model_packages_group_version"),
    UniqueConstraint("group_name", "client_token", name="uq_model_packages_group_client_token"),
    Index("ix_model_packages_group_created", "group_name", "created_at", "version"),
    Index("ix_model_packages_group_approval_created", "group_name", "approval_status", "created_at", "version"),
)

model_package_history = Table(
    "model_package_history",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("package_arn", String(256), nullable=False),
    Column("group_name", String(63), nullable=False),
    Column("version", Integer, nullable=False),
    Column("at", Float, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("from_status", String(32), nullable=True),
    Column("to_status", String(32), nullable=True),
    Column("by", String(256), nullable=True),
    Column("reason", Text, nullable=True),
    Column("detail", JSON, nullable=True),
    Index("ix_model_package_history_group_seq", "group_name", "seq"),
    Index("ix_model_package_history_package_seq", "package_arn", "seq"),
)

registry_bindings = Table(
    "registry_bindings",
    metadata,
    Column("endpoint_name", String(63), primary_key=True),
    Column("group_name", String(63), nullable=False, index=True),
    Column("variant_name", String(63), nullable=False),
    Column("deployment_config", JSON, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("created_by", String(256), nullable=True),
    Column("state", JSON, nullable=False),
    Column("revision", Integer, nullable=False),
)
