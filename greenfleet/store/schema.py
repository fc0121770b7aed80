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
    # The desired state (greenfleet/resources/endpoint_state.py: DesiredState).
    Column("state", JSON, nullable=False),
    Column("revision", Integer, nullable=False, default=1),
)

endpoint_observations = Table(
    "endpoint_observations",
    metadata,
    Column("name", String(63), primary_key=True),
    # What the control pass observed (endpoint_state.py: ObservedState); only the pass writes it:
    # the reconciler the fleets' figures, the deployment driver its view.
    Column("fleets", JSON, nullable=False),
    Column("deployment_view", JSON, nullable=True),
    Column("updated_at", Float, nullable=False),
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
    Column("fleet_id", Integer, nullable=False),
    Column("config_name", String(63), nullable=False),
    Column("variant_name", String(63), nullable=False),
    Column("container", JSON, nullable=False),  # the ContainerDefinition snapshot the instance runs
    Column("host", String(255), nullable=True),  # None while the backend has not placed it
    Column("port", Integer, nullable=True),
    Column("backend_ref", JSON, nullable=False),  # opaque to the control plane (local: pid and token)
    Column("started_at", Float, nullable=False),
    Column("ready_at", Float, nullable=True),
    Column("instance_type", String(63), nullable=True),  # the variant's InstanceType (a remote backend reserves it)
)

routing_tables = Table(
    "routing_tables",
    metadata,
    Column("id", Integer, primary_key=True),  # one row (id 1): the routing table the leader published last
    Column("revision", Integer, nullable=False),
    Column("body", JSON, nullable=False),
    Column("published_at", Float, nullable=False),
)

routers = Table(
    "routers",
    metadata,
    Column("id", String(64), primary_key=True),  # a router's id: "server-<uuid>" or "router-<uuid>"
    Column("kind", String(16), nullable=False),  # server (a server's own router) or process (greenfleet router)
    Column("revision", Integer, nullable=False),  # the routing table it serves
    Column("leaving", JSON, nullable=False),  # {instance id: requests in flight} for instances its table dropped
    Column("started_at", Float, nullable=False),
    Column("seen_at", Float, nullable=False),  # its last report (its clock)
    Column("peaks", JSON, nullable=True),  # {instance id: peak in flight} over its last whole second (0014)
    Column("demand", JSON, nullable=True),  # [[endpoint, serverless variant, last request or null, in flight]] (0015)
    Column("capture_failures", JSON, nullable=True),  # {capture destination: why its last write failed} (0016)
)
