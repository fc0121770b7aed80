"""Tables of the feedback API and A/B tests (created by migration 0009), on the store's shared metadata.

- ``inference_assignments``: which variant answered an inference id (and what it predicted), for
  endpoints under an A/B test; written in batches by the control pass, pruned after the retention.
- ``feedback_outcomes``: one outcome per (endpoint, inference id): a reward or a ground-truth label.
- ``ab_tests``: an A/B test's definition (``spec``) and its controller's state (``state``)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, Index, Integer, String, Table, Text

from greenfleet.store.schema import metadata

inference_assignments = Table(
    "inference_assignments",
    metadata,
    Column("endpoint_name", String(63), primary_key=True),
    Column("inference_id", String(64), primary_key=True),
    Column("variant_name", String(63), nullable=False),
    Column("prediction", Text, nullable=True),
    Column("at", Float, nullable=False),
    Index("ix_inference_assignments_at", "at"),
)

feedback_outcomes = Table(
    "feedback_outcomes",
    metadata,
    Column("endpoint_name", String(63), primary_key=True),
    Column("inference_id", String(64), primary_key=True),
    Column("variant_name", String(63), nullable=False),
    Column("reward", Float, nullable=True),
    Column("label", Text, nullable=True),
    Column("correct", Integer, nullable=True),
    Column("recorded_at", Float, nullable=False),
    Index("ix_feedback_outcomes_endpoint_variant", "endpoint_name", "variant_name"),
    Index("ix_feedback_outcomes_recorded_at", "recorded_at"),
)

ab_tests = Table(
    "ab_tests",
    metadata,
    Column("name", String(120), primary_key=True),
    Column("endpoint_name", String(63), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("spec", JSON, nullable=False),
    Column("state", JSON, nullable=False),
    Column("revision", Integer, nullable=False),
)
