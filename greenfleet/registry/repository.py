"""SQL of the registry. Every write is one transaction; an event that announces a write is appended in
the same transaction (``on_commit`` callbacks run inside it), so a version and its state-change event
exist together or not at all."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from greenfleet.errors import ConflictError, ValidationError
from greenfleet.registry.tables import model_package_groups, model_package_history, model_packages, registry_bindings

Row = dict[str, Any]
InTransaction = Callable[[Connection], None]


class RegistryRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            yield connection

    # --- groups ----------------------------------------------------------------------------------
    def insert_group(self, row: Row) -> None:
        try:
            with self.transaction() as tx:
                tx.execute(insert(model_package_groups).values(**row))
        except IntegrityError as exc:
            raise ValidationError(f"Model Package Group already exists: {row['arn']}") from exc

    def last_version_ever(self, group: str) -> int:
        """The highest version number the group ever had (its audit trail outlives a deleted group)."""
        c = model_package_history.c
        with self.engine.connect() as conn:
            found = conn.execute(select(func.max(c.version)).where(c.group_name == group)).scalar()
        return int(found or 0)

    def get_group(self, name: str) -> Row | None:
        c = model_package_groups.c
        with self.engine.connect() as conn:
            found = conn.execute(select(model_package_groups).where(
                or_(c.name == name, func.lower(c.name) == name.lower()))).mappings().all()
        exact = [r for r in found if r["name"] == name] or found
        return dict(exact[0]) if exact else None

    def list_groups(self) -> list[Row]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(model_package_groups)).mappings()]

    def delete_group(self, name: str) -> None:
        with self.transaction() as tx:
            count = tx.execute(select(func.count()).select_from(model_packages).where(
                model_packages.c.group_name == name)).scalar_one()
            if count:
                raise ConflictError(f"Model Package Group {name} still holds {count} model package version(s); "
                                    "delete them first")
            bound = tx.execute(select(registry_bindings.c.endpoint_name).where(
                registry_bindings.c.group_name == name)).scalars().all()
            if bound:
                raise ConflictError(f"Model Package Group {name} is bound to endpoint(s) {', '.join(bound)}; "
                                    "unbind first")
            tx.execute(delete(model_package_groups).where(model_package_groups.c.name == name))

    # --- versions --------------------------------------------------------------------------------
    def next_version(self, tx: Connection, group: str) -> int:
        """Reserve the group's next version number (the UPDATE locks the group row until commit)."""
        c = model_package_groups.c
        tx.execute(update(model_package_groups).where(c.name == group).values(next_version=c.next_version + 1))
        return int(tx.execute(select(c.next_version).where(c.name == group)).scalar_one()) - 1

    def insert_package(self, tx: Connection, row: Row) -> None:
        tx.execute(insert(model_packages).values(**row))

    def get_package(self, arn: str) -> Row | None:
        with self.engine.connect() as conn:
            found = conn.execute(select(model_packages).where(model_packages.c.arn == arn)).mappings().first()
        return dict(found) if found else None

    def get_version(self, group: str, version: int) -> Row | None:
        c = model_packages.c
        with self.engine.connect() as conn:
            found = conn.execute(select(model_packages).where(
                c.group_name == group, c.version == version)).mappings().first()
        return dict(found) if found else None

    def find_by_token(self, group: str, token: str) -> Row | None:
        c = model_packages.c
        with self.engine.connect() as conn:
            found = conn.execute(select(model_packages).where(
                c.group_name == group, c.client_token == token)).mappings().first()
        return dict(found) if found else None

    def list_packages(self, *, group: str | None, approval: str | None, contains: str | None,
                      after: float | None, before: float | None, sort_by: str, descending: bool,
                      start_after: tuple[Any, int] | None, limit: int) -> list[Row]:
        """One page of summaries, filtered, sorted and cut in SQL (``limit + 1`` rows tell if more exist).
        Pages are keyset pages: ``start_after`` is the sort key of the previous page's last row, so a deep
        page costs what the first one does."""
        c = model_packages.c
        columns = [c.arn, c.group_name, c.version, c.description, c.created_at, c.status, c.approval_status,
                   c.registration_type]
        query = select(*columns)
        conditions = []
        if group is not None:
            conditions.append(c.group_name == group)
        if approval is not None:
            conditions.append(c.approval_status == approval)
        if contains:
            conditions.append(func.lower(c.group_name).contains(contains.lower()))
        if after is not None:
            conditions.append(c.created_at > after)
        if before is not None:
            conditions.append(c.created_at < before)
        first, second = (c.group_name, c.version) if sort_by == "Name" else (c.created_at, c.version)
        if start_after is not None:
            key, version = start_after
            if descending:
                conditions.append(or_(first < key, and_(first == key, second < version)))
            else:
                conditions.append(or_(first > key, and_(first == key, second > version)))
        if conditions:
            query = query.where(and_(*conditions))
        keys = (first, second)
        query = query.order_by(*[k.desc() if descending else k for k in keys]).limit(limit + 1)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def newest_versions(self, group: str, limit: int) -> list[Row]:
        """The group's newest versions, whole rows (the dashboard shows their metrics and lineage)."""
        c = model_packages.c
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(model_packages).where(c.group_name == group).order_by(
                c.version.desc()).limit(limit)).mappings()]

    def version_counts(self) -> dict[str, dict[str, int]]:
        """Per group, how many versions have each approval status (one grouped query for all groups)."""
        c = model_packages.c
        counts: dict[str, dict[str, int]] = {}
        with self.engine.connect() as conn:
            for group, status, count in conn.execute(select(c.group_name, c.approval_status, func.count()).group_by(
                    c.group_name, c.approval_status)):
                counts.setdefault(group, {})[status] = int(count)
        return counts

    def approved_versions(self, group: str) -> list[int]:
        c = model_packages.c
        with self.engine.connect() as conn:
            return [int(v) for v in conn.execute(select(c.version).where(
                c.group_name == group, c.approval_status == "Approved")).scalars()]

    def update_package(self, tx: Connection, arn: str, changes: Mapping[str, Any]) -> None:
        tx.execute(update(model_packages).where(model_packages.c.arn == arn).values(**changes))

    def delete_package(self, tx: Connection, arn: str) -> None:
        tx.execute(delete(model_packages).where(model_packages.c.arn == arn))

    # --- history ---------------------------------------------------------------------------------
    def add_history(self, tx: Connection, entry: Row) -> int:
        result = tx.execute(insert(model_package_history).values(**entry))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def history(self, *, group: str | None = None, arn: str | None = None, after: int = 0,
                until: float | None = None, kinds: tuple[str, ...] | None = None) -> list[Row]:
        c = model_package_history.c
        query = select(model_package_history).where(c.seq > after)
        if group is not None:
            query = query.where(c.group_name == group)
        if arn is not None:
            query = query.where(c.package_arn == arn)
        if until is not None:
            query = query.where(c.at <= until)
        if kinds is not None:
            query = query.where(c.kind.in_(kinds))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query.order_by(c.seq)).mappings()]

    # --- bindings --------------------------------------------------------------------------------
    def insert_binding(self, row: Row) -> None:
        try:
            with self.transaction() as tx:
                tx.execute(insert(registry_bindings).values(**row))
        except IntegrityError as exc:
            raise ConflictError(f"Endpoint {row['endpoint_name']} is already bound to a model package group; "
                                "unbind it first") from exc

    def get_binding(self, endpoint: str) -> Row | None:
        with self.engine.connect() as conn:
            found = conn.execute(select(registry_bindings).where(
                registry_bindings.c.endpoint_name == endpoint)).mappings().first()
        return dict(found) if found else None

    def list_bindings(self, group: str | None = None) -> list[Row]:
        query = select(registry_bindings).order_by(registry_bindings.c.endpoint_name)
        if group is not None:
            query = query.where(registry_bindings.c.group_name == group)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def delete_binding(self, endpoint: str) -> bool:
        with self.transaction() as tx:
            result = tx.execute(delete(registry_bindings).where(registry_bindings.c.endpoint_name == endpoint))
        return bool(result.rowcount)

    def save_binding_state(self, endpoint: str, expected_revision: int, state: Row,
                           also: InTransaction | None = None) -> None:
        """Compare-and-set the controller state; ``also`` runs in the same transaction (history, events)."""
        c = registry_bindings.c
        with self.transaction() as tx:
            result = tx.execute(update(registry_bindings).where(
                c.endpoint_name == endpoint, c.revision == expected_revision).values(
                state=state, revision=expected_revision + 1))
            if result.rowcount != 1:
                raise ConflictError(f"binding of {endpoint} changed concurrently")
            if also is not None:
                also(tx)
