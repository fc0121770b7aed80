"""SQL of monitoring schedules and executions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.exc import IntegrityError

from greenfleet.monitoring.tables import monitoring_executions, monitoring_job_definitions, monitoring_schedules

Doc = dict[str, Any]


class MonitoringRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- schedules ------------------------------------------------------------------------------------
    def insert_schedule(self, row: Doc) -> bool:
        """False when a schedule of that name exists."""
        try:
            with self.engine.begin() as conn:
                conn.execute(monitoring_schedules.insert().values(**row))
        except IntegrityError:
            return False
        return True

    def schedule(self, name: str) -> Doc | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(monitoring_schedules).where(monitoring_schedules.c.name == name)).first()
        return dict(row._mapping) if row else None

    def schedules(self) -> list[Doc]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(monitoring_schedules))]

    def update_schedule(self, name: str, values: Doc) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(monitoring_schedules).where(monitoring_schedules.c.name == name).values(**values))

    def delete_schedule(self, name: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(monitoring_schedules).where(monitoring_schedules.c.name == name))

    # --- executions -----------------------------------------------------------------------------------
    def insert_execution(self, row: Doc) -> bool:
        """False when the execution exists already (starting one twice is harmless)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(monitoring_executions.insert().values(**row))
        except IntegrityError:
            return False
        return True

    def update_execution(self, execution_id: str, values: Doc) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(monitoring_executions).where(monitoring_executions.c.id == execution_id)
                         .values(**values))

    def executions(self, schedule_name: str | None = None, statuses: tuple[str, ...] | None = None) -> list[Doc]:
        query = select(monitoring_executions)
        if schedule_name is not None:
            query = query.where(monitoring_executions.c.schedule_name == schedule_name)
        if statuses is not None:
            query = query.where(monitoring_executions.c.status.in_(statuses))
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query.order_by(monitoring_executions.c.scheduled_time))]

    # --- job definitions ------------------------------------------------------------------------------
    def insert_job_definition(self, row: Doc) -> bool:
        try:
            with self.engine.begin() as conn:
                conn.execute(monitoring_job_definitions.insert().values(**row))
        except IntegrityError:
            return False
        return True

    def job_definition(self, name: str) -> Doc | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(monitoring_job_definitions)
                               .where(monitoring_job_definitions.c.name == name)).first()
        return dict(row._mapping) if row else None

    def job_definitions(self, monitoring_type: str) -> list[Doc]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(monitoring_job_definitions).where(
                monitoring_job_definitions.c.monitoring_type == monitoring_type))]

    def delete_job_definition(self, name: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(monitoring_job_definitions).where(monitoring_job_definitions.c.name == name))
