"""SQL of Application Auto Scaling: targets, policies, activities. Each write is one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, and_, delete, insert, select, update

from greenfleet.scaling.tables import scalable_targets, scaling_activities, scaling_policies

Row = dict[str, Any]
Key = tuple[str, str, str]
"""(ServiceNamespace, ResourceId, ScalableDimension)."""


class StaleTarget(Exception):
    """A target row changed (or vanished) since it was read."""


def _target_where(key: Key) -> Any:
    c = scalable_targets.c
    return and_(c.namespace == key[0], c.resource_id == key[1], c.dimension == key[2])


def _policy_where(key: Key) -> Any:
    c = scaling_policies.c
    return and_(c.namespace == key[0], c.resource_id == key[1], c.dimension == key[2])


class ScalingRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- targets -------------------------------------------------------------------------------
    def get_target(self, key: Key) -> Row | None:
        with self.engine.connect() as conn:
            found = conn.execute(select(scalable_targets).where(_target_where(key))).mappings().first()
        return dict(found) if found else None

    def list_targets(self, namespace: str | None = None) -> list[Row]:
        query = select(scalable_targets)
        if namespace is not None:
            query = query.where(scalable_targets.c.namespace == namespace)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(scalable_targets.c.created_at)).mappings().all()
        return [dict(r) for r in rows]

    def insert_target(self, row: Row) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(scalable_targets).values(**row))

    def update_target(self, key: Key, values: Row, revision: int | None = None) -> None:
        """Write ``values`` (and a new revision); with ``revision``, only if the row still has it."""
        where = _target_where(key)
        if revision is not None:
            where = and_(where, scalable_targets.c.revision == revision)
        with self.engine.begin() as conn:
            current = conn.execute(select(scalable_targets.c.revision).where(_target_where(key))).scalar()
            if current is None:
                raise StaleTarget(str(key))
            done = conn.execute(update(scalable_targets).where(where).values(**values, revision=current + 1))
            if done.rowcount != 1:
                raise StaleTarget(str(key))

    def delete_target(self, key: Key) -> list[Row]:
        """Delete a target and its policies; returns the policies deleted."""
        with self.engine.begin() as conn:
            policies = [dict(r) for r in conn.execute(select(scaling_policies).where(_policy_where(key))).mappings()]
            conn.execute(delete(scaling_policies).where(_policy_where(key)))
            conn.execute(delete(scalable_targets).where(_target_where(key)))
        return policies

    # --- policies ------------------------------------------------------------------------------
    def get_policy(self, key: Key, name: str) -> Row | None:
        with self.engine.connect() as conn:
            found = conn.execute(select(scaling_policies).where(
                and_(_policy_where(key), scaling_policies.c.name == name))).mappings().first()
        return dict(found) if found else None

    def list_policies(self, namespace: str | None = None, resource_id: str | None = None,
                      dimension: str | None = None) -> list[Row]:
        c = scaling_policies.c
        query = select(scaling_policies)
        for column, value in ((c.namespace, namespace), (c.resource_id, resource_id), (c.dimension, dimension)):
            if value is not None:
                query = query.where(column == value)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(c.created_at, c.name)).mappings().all()
        return [dict(r) for r in rows]

    def put_policy(self, row: Row) -> None:
        """Insert a policy, or replace the configuration of the one with its name on its target."""
        key = (row["namespace"], row["resource_id"], row["dimension"])
        with self.engine.begin() as conn:
            where = and_(_policy_where(key), scaling_policies.c.name == row["name"])
            if conn.execute(select(scaling_policies.c.arn).where(where)).first() is None:
                conn.execute(insert(scaling_policies).values(**row))
            else:
                conn.execute(update(scaling_policies).where(where).values(
                    policy_type=row["policy_type"], configuration=row["configuration"], alarms=row["alarms"]))

    def delete_policy(self, key: Key, name: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(scaling_policies).where(and_(_policy_where(key), scaling_policies.c.name == name)))

    # --- activities ----------------------------------------------------------------------------
    def add_activity(self, row: Row) -> None:
        if row.get("not_scaled") is None:  # SQL NULL (a JSON column would store None as 'null')
            row = {k: v for k, v in row.items() if k != "not_scaled"}
        with self.engine.begin() as conn:
            conn.execute(insert(scaling_activities).values(**row))

    def finish_activity(self, activity_id: str, status: str, message: str | None, end: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(scaling_activities).where(scaling_activities.c.activity_id == activity_id).values(
                status_code=status, status_message=message, end_time=end))

    def list_activities(self, namespace: str, resource_id: str | None, dimension: str | None,
                        include_not_scaled: bool, before_seq: int | None, limit: int) -> list[Row]:
        """Newest first."""
        c = scaling_activities.c
        query = select(scaling_activities).where(c.namespace == namespace)
        if resource_id is not None:
            query = query.where(c.resource_id == resource_id)
        if dimension is not None:
            query = query.where(c.dimension == dimension)
        if not include_not_scaled:
            query = query.where(c.not_scaled.is_(None))
        if before_seq is not None:
            query = query.where(c.seq < before_seq)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(c.seq.desc()).limit(limit)).mappings().all()
        return [dict(r) for r in rows]
