"""SQL of inference experiments: one transaction per write, compare-and-set on ``revision``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from greenfleet.errors import ConflictError, ResourceInUse
from greenfleet.experiments.tables import inference_experiments

Row = dict[str, Any]


class ExperimentRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def insert(self, row: Row) -> None:
        try:
            with self.engine.begin() as tx:
                tx.execute(insert(inference_experiments).values(**row, revision=1))
        except IntegrityError as exc:
            raise ResourceInUse(f"Inference experiment {row['name']} already exists: {row['arn']}") from exc

    def get(self, name: str) -> Row | None:
        with self.engine.connect() as conn:
            found = conn.execute(select(inference_experiments).where(
                inference_experiments.c.name == name)).mappings().first()
        return dict(found) if found else None

    def arn_exists(self, arn: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(inference_experiments.c.name).where(
                inference_experiments.c.arn == arn)).first() is not None

    def all(self) -> list[Row]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(inference_experiments)).mappings()]

    def active(self) -> list[Row]:
        c = inference_experiments.c
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(inference_experiments).where(
                c.status.not_in(("Completed", "Cancelled")))).mappings()]

    def save(self, name: str, expected_revision: int, changes: Mapping[str, Any]) -> Row:
        c = inference_experiments.c
        with self.engine.begin() as tx:
            result = tx.execute(update(inference_experiments).where(
                c.name == name, c.revision == expected_revision).values(**changes, revision=expected_revision + 1))
            if result.rowcount != 1:
                raise ConflictError(f"Inference experiment {name} changed concurrently; retry")
            found = tx.execute(select(inference_experiments).where(c.name == name)).mappings().one()
        return dict(found)

    def delete(self, name: str) -> None:
        with self.engine.begin() as tx:
            tx.execute(delete(inference_experiments).where(inference_experiments.c.name == name))
