"""Tables of inference experiments (created by migration 0009), on the store's shared metadata.

- ``inference_experiments``: one row per experiment. ``spec`` is what the API recorded (SageMaker's
  members plus the stop request), ``state`` the experiment controller's persisted state; the API and the
  controller write with compare-and-set on ``revision``.
- ``experiment_pairs`` (migration 0013): production's and the shadow's answers to the same mirrored request,
  for the paired report; at most ``PairStore.max_pairs`` newest per endpoint (``pair_store.py``). An
  answer's members other than its body are a JSON document: variant, config, outcome, status, content
  type, model latency."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, Index, Integer, LargeBinary, String, Table

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

experiment_pairs = Table(
    "experiment_pairs",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("endpoint_name", String(63), nullable=False),
    Column("inference_id", String(64), nullable=False),
    Column("at", Float, nullable=False),
    Column("request", LargeBinary, nullable=False),
    Column("content_type", String(256), nullable=True),
    Column("production", JSON, nullable=False),
    Column("production_body", LargeBinary, nullable=False),
    Column("shadow_variant", String(63), nullable=False),
    Column("shadow", JSON, nullable=False),
    Column("shadow_body", LargeBinary, nullable=False),
    Index("ix_experiment_pairs_endpoint_seq", "endpoint_name", "seq"),
)
