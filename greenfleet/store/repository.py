"""Reading and writing hosting resources. Every write is one transaction; endpoint rows carry a
revision so concurrent writers (API, reconciler, rollout driver) never overwrite each other."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from greenfleet.errors import ConflictError, ValidationError
from greenfleet.store import schema

Row = dict[str, Any]


class StaleWrite(ConflictError):
    """A compare-and-set write lost: the row changed since it was read."""


class Repository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            yield connection

    # --- generic named documents (models, endpoint configs) -------------------------------------
    def _insert(self, table: Table, row: Row, kind: str) -> None:
        try:
            with self.transaction() as tx:
                tx.execute(insert(table).values(**row))
        except IntegrityError as exc:
            raise ValidationError(f"Cannot create already existing {kind} \"{row['arn']}\".") from exc

    def _get(self, table: Table, name: str) -> Row | None:
        with self.engine.connect() as connection:
            found = connection.execute(select(table).where(table.c.name == name)).mappings().first()
        return dict(found) if found else None

    def _all(self, table: Table) -> list[Row]:
        with self.engine.connect() as connection:
            return [dict(r) for r in connection.execute(select(table).order_by(table.c.name)).mappings()]

    def _delete(self, table: Table, name: str) -> bool:
        with self.transaction() as tx:
            result = tx.execute(delete(table).where(table.c.name == name))
        return bool(result.rowcount)

    def insert_model(self, row: Row) -> None:
        self._insert(schema.models, row, "model")

    def get_model(self, name: str) -> Row | None:
        return self._get(schema.models, name)

    def list_models(self) -> list[Row]:
        return self._all(schema.models)

    def delete_model(self, name: str) -> bool:
        return self._delete(schema.models, name)

    def insert_endpoint_config(self, row: Row) -> None:
        self._insert(schema.endpoint_configs, row, "endpoint configuration")

    def get_endpoint_config(self, name: str) -> Row | None:
        return self._get(schema.endpoint_configs, name)

    def list_endpoint_configs(self) -> list[Row]:
        return self._all(schema.endpoint_configs)

    def delete_endpoint_config(self, name: str) -> bool:
        return self._delete(schema.endpoint_configs, name)

    # --- endpoints --------------------------------------------------------------------------------
    def insert_endpoint(self, row: Row) -> None:
        self._insert(schema.endpoints, {**row, "revision": 1}, "endpoint")

    def get_endpoint(self, name: str) -> Row | None:
        return self._get(schema.endpoints, name)

    def list_endpoints(self) -> list[Row]:
        return self._all(schema.endpoints)

    def delete_endpoint(self, name: str) -> bool:
        with self.transaction() as tx:
            tx.execute(delete(schema.instances).where(schema.instances.c.endpoint_name == name))
            result = tx.execute(delete(schema.endpoints).where(schema.endpoints.c.name == name))
        return bool(result.rowcount)

    def update_endpoint(self, name: str, expected_revision: int, changes: Mapping[str, Any]) -> Row:
        """Compare-and-set: apply ``changes`` only if the row is still at ``expected_revision``."""
        table = schema.endpoints
        with self.transaction() as tx:
            result = tx.execute(
                update(table)
                .where(table.c.name == name, table.c.revision == expected_revision)
                .values(**changes, revision=expected_revision + 1)
            )
            if result.rowcount != 1:
                raise StaleWrite(f"Endpoint \"{name}\" was changed concurrently; retry")
            found = tx.execute(select(table).where(table.c.name == name)).mappings().one()
        return dict(found)

    # --- deployments ----------------------------------------------------------------------------------
    def save_deployment(self, name: str, expected_revision: int, changes: Mapping[str, Any],
                        deployment: Row) -> Row:
        """One transaction: the endpoint's new desired state (compare-and-set) and the deployment row."""
        table, history = schema.endpoints, schema.deployments
        with self.transaction() as tx:
            result = tx.execute(
                update(table)
                .where(table.c.name == name, table.c.revision == expected_revision)
                .values(**changes, revision=expected_revision + 1)
            )
            if result.rowcount != 1:
                raise StaleWrite(f"Endpoint \"{name}\" was changed concurrently; retry")
            values = {k: v for k, v in deployment.items() if k != "id"}
            if tx.execute(update(history).where(history.c.id == deployment["id"]).values(**values)).rowcount != 1:
                tx.execute(insert(history).values(**deployment))
            found = tx.execute(select(table).where(table.c.name == name)).mappings().one()
        return dict(found)

    def set_emitted_seq(self, deployment_id: str, seq: int) -> None:
        history = schema.deployments
        with self.transaction() as tx:
            tx.execute(update(history).where(history.c.id == deployment_id).values(emitted_seq=seq))

    def get_deployment(self, deployment_id: str) -> Row | None:
        history = schema.deployments
        with self.engine.connect() as connection:
            found = connection.execute(select(history).where(history.c.id == deployment_id)).mappings().first()
        return dict(found) if found else None

    def list_deployments(self, endpoint_name: str) -> list[Row]:
        history = schema.deployments
        with self.engine.connect() as connection:
            rows = connection.execute(select(history).where(history.c.endpoint_name == endpoint_name)
                                      .order_by(history.c.started_at.desc())).mappings()
            return [dict(r) for r in rows]

    # --- tags -------------------------------------------------------------------------------------
    def put_tags(self, arn: str, tags: Mapping[str, str]) -> None:
        table = schema.tags
        with self.transaction() as tx:
            for key, value in tags.items():
                tx.execute(delete(table).where(table.c.arn == arn, table.c.key == key))
                tx.execute(insert(table).values(arn=arn, key=key, value=value))

    def resource_exists(self, arn: str) -> bool:
        """Whether a model, endpoint config or endpoint has this ARN."""
        with self.engine.connect() as connection:
            return any(connection.execute(select(table.c.name).where(table.c.arn == arn)).first() is not None
                       for table in (schema.models, schema.endpoint_configs, schema.endpoints))

    def get_tags(self, arn: str) -> dict[str, str]:
        table = schema.tags
        with self.engine.connect() as connection:
            rows = connection.execute(select(table).where(table.c.arn == arn).order_by(table.c.key))
            return {r.key: r.value for r in rows}

    def delete_tags(self, arn: str, keys: list[str] | None = None) -> None:
        table = schema.tags
        condition = table.c.arn == arn
        if keys is not None:
            condition = condition & table.c.key.in_(keys)
        with self.transaction() as tx:
            tx.execute(delete(table).where(condition))

    # --- instances (so a restarted server can adopt running workers) ------------------------------
    def save_instance(self, row: Row) -> None:
        table = schema.instances
        with self.transaction() as tx:
            tx.execute(delete(table).where(table.c.id == row["id"]))
            tx.execute(insert(table).values(**row))

    def mark_instance_ready(self, instance_id: str, ready_at: float) -> None:
        table = schema.instances
        with self.transaction() as tx:
            tx.execute(update(table).where(table.c.id == instance_id).values(ready_at=ready_at))

    def delete_instance(self, instance_id: str) -> None:
        with self.transaction() as tx:
            tx.execute(delete(schema.instances).where(schema.instances.c.id == instance_id))

    def list_instances(self) -> list[Row]:
        with self.engine.connect() as connection:
            return [dict(r) for r in connection.execute(select(schema.instances)).mappings()]
