"""Tables of the control-plane store. Timestamps are epoch seconds (float); specs are JSON documents
in SageMaker's request shapes, already validated."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, Integer, MetaData, String, Table, Text

metadata = MetaData()

models = Table(
    "models",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("arn", String(256), nullable=False),
    Column("spec", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
)

endpoint_configs = Table(
    "endpoint_configs",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("arn", String(256), nullable=False),
    Column("spec", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
)

endpoints = Table(
    "endpoints",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("arn", String(256), nullable=False),
    Column("config_name", String(63), nullable=False),
    Column("status", String(32), nullable=False),
    Column("failure_reason", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("modified_at", Float, nullable=False),
    # Desired and observed per-variant state, deployment progress: see resources/endpoints.py.
    Column("state", JSON, nullable=False),
    Column("revision", Integer, nullable=False, default=1),
)

tags = Table(
    "tags",
    metadata,
    Column("arn", String(256), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("value", String(256), nullable=False),
)

deployments = Table(
    "deployments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("endpoint_name", String(63), nullable=False, index=True),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float, nullable=True),
    Column("outcome", String(32), nullable=True),
    Column("emitted_seq", Integer, nullable=False, default=-1),
    Column("state", JSON, nullable=False),
)

instances = Table(
    "instances",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("endpoint_name", String(63), nullable=False, index=True),
    Column("group_key", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("port", Integer, nullable=False),
    Column("token", String(64), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("ready_at", Float, nullable=True),
)
