"""Typed endpoint state: desired fleets in the endpoint row, observed figures in their own table;
instances keyed by structured columns (fleet, config, variant, container) with a host and an opaque
backend reference instead of ``group_key``, pid and token.

Converted from 0003's one ``state`` document: the current fleet (``fleet_id``, ``variants``) and a
deployment's ``pending`` fleet become ``fleets``; the rollout state stays in the deployments table only;
``CurrentInstanceCount``/``CurrentWeight`` and ``deployment_view`` move to ``endpoint_observations``.
Shadow variants and data capture, which 0003 stored but never ran, are not carried over.

Revision ID: 0004
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Doc = dict[str, Any]


def _variant(old: Doc) -> Doc:
    return {"name": old["VariantName"], "model_name": old["ModelName"],
            "container": old.get("Container") or {"Image": ""},
            "desired_count": int(old["DesiredInstanceCount"]), "desired_weight": float(old["DesiredWeight"]),
            "routing_strategy": old.get("RoutingStrategy") or "LEAST_OUTSTANDING_REQUESTS",
            "startup_timeout_s": old.get("StartupTimeoutS"), "instance_type": old.get("InstanceType")}


def _observed(old: Doc) -> Doc:
    return {"current_count": int(old.get("CurrentInstanceCount") or 0),
            "current_weight": float(old.get("CurrentWeight") or 0.0), "status": []}


def convert(config_name: str, state: Doc) -> tuple[Doc, Doc]:
    """0003's endpoint ``state`` → (DesiredState, ObservedState) documents."""
    current_id = int(state.get("fleet_id", 1))
    pending = state.get("pending")
    share = float(pending["traffic"]) if pending else 0.0
    fleets = [{"id": current_id, "config_name": config_name, "role": "production", "traffic": 100.0 - share,
               "variants": [_variant(v) for v in state["variants"]], "target_counts": {}}]
    observed = {str(current_id): {v["VariantName"]: _observed(v) for v in state["variants"]}}
    if pending:
        fleets.append({"id": int(pending["fleet_id"]), "config_name": pending["config_name"], "role": "production",
                       "traffic": share, "variants": [_variant(v) for v in pending["variants"]],
                       "target_counts": {k: int(n) for k, n in (pending.get("target_counts") or {}).items()}})
        observed[str(pending["fleet_id"])] = {v["VariantName"]: _observed(v) for v in pending["variants"]}
    deployment = state.get("deployment")
    desired = {"fleets": fleets, "current_fleet_id": current_id,
               "deployment": {"id": deployment["id"], "commands": deployment.get("commands") or []}
               if deployment else None,
               "last_deployment_config": state.get("last_deployment_config")}
    return desired, {"fleets": observed, "deployment_view": state.get("deployment_view")}


def _instances_table(name: str) -> sa.Table:
    return op.create_table(
        name,
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("endpoint_name", sa.String(63), nullable=False),
        sa.Column("fleet_id", sa.Integer, nullable=False),
        sa.Column("config_name", sa.String(63), nullable=False),
        sa.Column("variant_name", sa.String(63), nullable=False),
        sa.Column("container", sa.JSON, nullable=False),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("port", sa.Integer, nullable=True),
        sa.Column("backend_ref", sa.JSON, nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("ready_at", sa.Float, nullable=True),
    )


def upgrade() -> None:
    bind = op.get_bind()
    meta = sa.MetaData()
    endpoints = sa.Table("endpoints", meta, autoload_with=bind)
    old_instances = sa.Table("instances", meta, autoload_with=bind)
    observations = op.create_table(
        "endpoint_observations",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("fleets", sa.JSON, nullable=False),
        sa.Column("deployment_view", sa.JSON, nullable=True),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    fleets: dict[tuple[str, int], tuple[str, dict[str, Doc]]] = {}
    for row in bind.execute(sa.select(endpoints)).mappings().all():
        desired, observed = convert(row["config_name"], row["state"])
        bind.execute(sa.update(endpoints).where(endpoints.c.name == row["name"]).values(state=desired))
        bind.execute(sa.insert(observations).values(name=row["name"], fleets=observed["fleets"],
                                                    deployment_view=observed["deployment_view"],
                                                    updated_at=row["modified_at"]))
        for fleet in desired["fleets"]:
            fleets[(row["name"], fleet["id"])] = (fleet["config_name"], {v["name"]: v for v in fleet["variants"]})
    new_instances = _instances_table("instances_v4")
    for row in bind.execute(sa.select(old_instances)).mappings().all():
        endpoint, fleet_id, variant = row["group_key"].split("/")
        config_name, variants = fleets.get((endpoint, int(fleet_id)), ("", {}))
        container = variants[variant]["container"] if variant in variants else {"Image": ""}
        bind.execute(sa.insert(new_instances).values(
            id=row["id"], endpoint_name=row["endpoint_name"], fleet_id=int(fleet_id), config_name=config_name,
            variant_name=variant, container=container, host="127.0.0.1", port=row["port"],
            backend_ref={"pid": row["pid"], "token": row["token"]}, started_at=row["started_at"],
            ready_at=row["ready_at"]))
    op.drop_table("instances")
    op.rename_table("instances_v4", "instances")
    op.create_index("ix_instances_endpoint_name", "instances", ["endpoint_name"])


def _old_variant(new: Doc, seen: Doc) -> Doc:
    return {"VariantName": new["name"], "ModelName": new["model_name"], "Container": new["container"],
            "DesiredWeight": new["desired_weight"], "CurrentWeight": seen.get("current_weight", 0.0),
            "DesiredInstanceCount": new["desired_count"], "CurrentInstanceCount": seen.get("current_count", 0),
            "RoutingStrategy": new["routing_strategy"], "StartupTimeoutS": new["startup_timeout_s"],
            "InstanceType": new["instance_type"], "Serverless": False}


def downgrade() -> None:
    bind = op.get_bind()
    meta = sa.MetaData()
    endpoints = sa.Table("endpoints", meta, autoload_with=bind)
    observations = sa.Table("endpoint_observations", meta, autoload_with=bind)
    deployments = sa.Table("deployments", meta, autoload_with=bind)
    new_instances = sa.Table("instances", meta, autoload_with=bind)
    seen = {r["name"]: {"fleets": r["fleets"], "deployment_view": r["deployment_view"]}
            for r in bind.execute(sa.select(observations)).mappings().all()}
    for row in bind.execute(sa.select(endpoints)).mappings().all():
        desired, observed = row["state"], seen.get(row["name"]) or {"fleets": {}}
        by_id = {f["id"]: f for f in desired["fleets"] if f["role"] == "production"}
        current = by_id[desired["current_fleet_id"]]

        def variants(fleet: Doc, observed: Doc = observed) -> list[Doc]:
            figures = observed["fleets"].get(str(fleet["id"]), {})
            return [_old_variant(v, figures.get(v["name"], {})) for v in fleet["variants"]]

        pending = next((f for i, f in by_id.items() if i != desired["current_fleet_id"]), None)
        deployment = desired.get("deployment")
        rollout = None
        if deployment:
            found = bind.execute(sa.select(deployments.c.state).where(deployments.c.id == deployment["id"])).first()
            rollout = found[0] if found else None
        state = {"variants": variants(current), "shadow_variants": [], "data_capture": None,
                 "fleet_id": current["id"], "last_deployment_config": desired.get("last_deployment_config"),
                 "pending": {"fleet_id": pending["id"], "config_name": pending["config_name"],
                             "variants": variants(pending), "target_counts": pending["target_counts"],
                             "traffic": pending["traffic"], "data_capture": None, "shadow_variants": []}
                 if pending else None,
                 "deployment": {"id": deployment["id"], "rollout": rollout, "commands": deployment["commands"]}
                 if deployment else None}
        if observed.get("deployment_view"):
            state["deployment_view"] = observed["deployment_view"]
        bind.execute(sa.update(endpoints).where(endpoints.c.name == row["name"]).values(state=state))
    old = op.create_table(
        "instances_v3",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("endpoint_name", sa.String(63), nullable=False),
        sa.Column("group_key", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("port", sa.Integer, nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("ready_at", sa.Float, nullable=True),
    )
    for row in bind.execute(sa.select(new_instances)).mappings().all():
        ref = row["backend_ref"]
        if "pid" not in ref or row["port"] is None:
            continue  # 0003 knows local processes only
        bind.execute(sa.insert(old).values(
            id=row["id"], endpoint_name=row["endpoint_name"],
            group_key=f"{row['endpoint_name']}/{row['fleet_id']}/{row['variant_name']}", pid=ref["pid"],
            port=row["port"], token=ref["token"], started_at=row["started_at"], ready_at=row["ready_at"]))
    op.drop_table("endpoint_observations")
    op.drop_table("instances")
    op.rename_table("instances_v3", "instances")
    op.create_index("ix_instances_endpoint_name", "instances", ["endpoint_name"])
