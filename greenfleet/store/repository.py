"""Reading and writing hosting resources. Every write is one transaction; endpoint rows carry a
revision so concurrent writers of desired state (API, rollout driver, the reconciler's status
transitions) never overwrite each other. An endpoint row's ``state`` is read and written as a
:class:`DesiredState`; what the control pass observes goes to ``endpoint_observations`` (one writer,
no compare-and-set)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from greenfleet.errors import ConflictError, ValidationError
from greenfleet.resources.endpoint_state import DesiredState, ObservedState
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
        observations = schema.endpoint_observations
        try:
            with self.transaction() as tx:
                tx.execute(insert(schema.endpoints).values(**_dump({**row, "revision": 1})))
                # figures a late writer may have left for an earlier endpoint of that name
                tx.execute(delete(observations).where(observations.c.name == row["name"]))
        except IntegrityError as exc:
            raise ValidationError(f"Cannot create already existing endpoint \"{row['arn']}\".") from exc

    def get_endpoint(self, name: str) -> Row | None:
        found = self._get(schema.endpoints, name)
        return _load(found) if found else None

    def list_endpoints(self) -> list[Row]:
        return [_load(r) for r in self._all(schema.endpoints)]

    def delete_endpoint(self, name: str) -> bool:
        with self.transaction() as tx:
            tx.execute(delete(schema.instances).where(schema.instances.c.endpoint_name == name))
            tx.execute(delete(schema.endpoint_observations).where(schema.endpoint_observations.c.name == name))
            result = tx.execute(delete(schema.endpoints).where(schema.endpoints.c.name == name))
        return bool(result.rowcount)

    def update_endpoint(self, name: str, expected_revision: int, changes: Mapping[str, Any]) -> Row:
        """Compare-and-set: apply ``changes`` only if the row is still at ``expected_revision``."""
        with self.transaction() as tx:
            return _compare_and_set(tx, name, expected_revision, changes)

    # --- observed state (written by the control pass only) -------------------------------------------
    def get_observation(self, name: str) -> ObservedState:
        table = schema.endpoint_observations
        with self.engine.connect() as connection:
            found = connection.execute(select(table).where(table.c.name == name)).mappings().first()
        return _observed(dict(found)) if found else ObservedState()

    def list_observations(self) -> dict[str, ObservedState]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(schema.endpoint_observations)).mappings().all()
        return {r["name"]: _observed(dict(r)) for r in rows}

    def save_observed_fleets(self, name: str, observed: ObservedState, now: float) -> None:
        """The reconciler's figures (counts, weights, VariantStatus) of every fleet."""
        self._observe(name, {"fleets": observed.model_dump(mode="json")["fleets"]}, now)

    def save_deployment_view(self, name: str, view: dict[str, Any] | None, now: float) -> None:
        """The deployment driver's view of the rollout (None once it is over)."""
        self._observe(name, {"deployment_view": view}, now)

    def _observe(self, name: str, values: Row, now: float) -> None:
        table = schema.endpoint_observations
        with self.transaction() as tx:
            if tx.execute(update(table).where(table.c.name == name).values(**values, updated_at=now)).rowcount != 1:
                tx.execute(insert(table).values(**{"fleets": {}, "deployment_view": None, **values},
                                                name=name, updated_at=now))

    # --- deployments ----------------------------------------------------------------------------------
    def save_deployment(self, name: str, expected_revision: int, changes: Mapping[str, Any],
                        deployment: Row, also: Callable[[Connection], None] | None = None) -> Row | None:
        """One transaction: the endpoint's new desired state (compare-and-set; skipped when ``changes`` is
        empty), the deployment row (its rollout state) and whatever ``also`` writes (outbox entries). Returns
        the endpoint row if it was written."""
        history = schema.deployments
        with self.transaction() as tx:
            row = _compare_and_set(tx, name, expected_revision, changes) if changes else None
            values = {k: v for k, v in deployment.items() if k != "id"}
            if tx.execute(update(history).where(history.c.id == deployment["id"]).values(**values)).rowcount != 1:
                tx.execute(insert(history).values(**deployment))
            if also is not None:
                also(tx)
        return row

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

    def set_instance_address(self, instance_id: str, host: str, port: int) -> None:
        table = schema.instances
        with self.transaction() as tx:
            tx.execute(update(table).where(table.c.id == instance_id).values(host=host, port=port))

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

    # --- the routing table the leader published (followed by the other servers' routers) -------------
    def save_routing_table(self, revision: int, body: Any, now: float) -> None:
        table = schema.routing_tables
        with self.transaction() as tx:
            if tx.execute(update(table).where(table.c.id == 1).values(
                    revision=revision, body=body, published_at=now)).rowcount == 0:
                tx.execute(insert(table).values(id=1, revision=revision, body=body, published_at=now))
            if tx.dialect.name == "postgresql":  # followers LISTEN (control/table_sync.py); sent on commit
                tx.execute(text("SELECT pg_notify('greenfleet_routing_table', :revision)"),
                           {"revision": str(revision)})

    def routing_table_revision(self) -> int:
        """The revision of the stored routing table (0: none yet); one indexed read."""
        with self.engine.connect() as connection:
            value = connection.execute(select(schema.routing_tables.c.revision)
                                       .where(schema.routing_tables.c.id == 1)).scalar()
        return int(value or 0)

    def routing_table(self) -> tuple[int, Any] | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(schema.routing_tables.c.revision, schema.routing_tables.c.body)
                                     .where(schema.routing_tables.c.id == 1)).first()
        return None if row is None else (int(row[0]), row[1])


def _compare_and_set(tx: Connection, name: str, expected_revision: int, changes: Mapping[str, Any]) -> Row:
    table = schema.endpoints
    result = tx.execute(
        update(table)
        .where(table.c.name == name, table.c.revision == expected_revision)
        .values(**_dump(dict(changes)), revision=expected_revision + 1)
    )
    if result.rowcount != 1:
        raise StaleWrite(f"Endpoint \"{name}\" was changed concurrently; retry")
    return _load(dict(tx.execute(select(table).where(table.c.name == name)).mappings().one()))


def _observed(row: Mapping[str, Any]) -> ObservedState:
    return ObservedState.model_validate({"fleets": row["fleets"], "deployment_view": row["deployment_view"]})


def _dump(row: Row) -> Row:
    if isinstance(row.get("state"), DesiredState):
        row["state"] = row["state"].model_dump(mode="json")
    return row


def _load(row: Row) -> Row:
    row["state"] = DesiredState.model_validate(row["state"])
    return row
