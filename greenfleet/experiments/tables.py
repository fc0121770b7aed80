"""Tables of inference experiments (created by migration 0009), on the store's shared metadata.

- ``inference_experiments``: one row per experiment. ``spec`` is what the API recorded (SageMaker's
  members plus the stop request), ``state`` the experiment controller's persisted state; the API and the
  controller write with compare-and-set on ``revision``."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, Integer, String, Table

from greenfleet.store.schema import metadata

inference_experiments = Table(
    "inference_experiments",
    metadata,
    Column("name", String(120), primary_key=True),
    Column("arn", String(256), nullable=False),
    Column("endpoint_name", String(63), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("modified_at", Float, nullable=False),
    Column("spec", JSON, nullable=False),
    Column("state", JSON, nullable=False),
    Column("revision", Integer, nullable=False),
)
