"""The durable queue of InvokeEndpointAsync requests (created by migration 0007), on the store's metadata.

A request is ``queued`` when accepted, ``running`` while the dispatcher streams it through an instance,
then ``succeeded`` (its output written) or ``failed`` (its failure written, with the reason)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, Index, Integer, LargeBinary, String, Table, Text, UniqueConstraint

from greenfleet.store.schema import metadata

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"

async_requests = Table(
    "async_requests",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("endpoint_name", String(63), nullable=False),
    Column("inference_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("input_location", String(1024), nullable=False),
    Column("body", LargeBinary, nullable=True),  # an inline Body (at most 128,000 bytes), else input_location
    Column("content_type", String(1024), nullable=True),
    Column("accept", String(1024), nullable=True),
    Column("custom_attributes", String(1024), nullable=True),
    Column("output_location", String(2048), nullable=False),
    Column("failure_location", String(2048), nullable=False),
    Column("notification", JSON, nullable=True),  # the config's NotificationConfig when the request came
    Column("invocation_timeout_s", Float, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("started_at", Float, nullable=True),
    Column("finished_at", Float, nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("failure_reason", Text, nullable=True),
    UniqueConstraint("endpoint_name", "inference_id", name="uq_async_requests_endpoint_inference"),
    Index("ix_async_requests_status_endpoint_seq", "status", "endpoint_name", "seq"),
    Index("ix_async_requests_status_expires", "status", "expires_at"),  # migration 0011
    Index("ix_async_requests_finished_at", "finished_at"),  # migration 0017
)
