"""SQL of alarms and their history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Row, delete, or_, select, update

from greenfleet.alarms.tables import alarm_history, alarms


class AlarmRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def load_all(self) -> Sequence[Row[Any]]:
        with self.engine.connect() as conn:
            return conn.execute(select(alarms)).all()

    def upsert(self, conn: Connection, values: dict[str, Any], exists: bool) -> None:
        if exists:
            name = values["name"]
            conn.execute(update(alarms).where(alarms.c.name == name).values(
                spec=values["spec"], actions_enabled=values["actions_enabled"],
                configuration_updated_at=values["configuration_updated_at"]))
        else:
            conn.execute(alarms.insert().values(**values))

    def update_state(self, conn: Connection, name: str, state: str, reason: str, reason_data: str | None,
                     now: float, transitioned: bool) -> None:
        values: dict[str, Any] = {"state": state, "state_reason": reason, "state_reason_data": reason_data,
                                  "state_updated_at": now}
        if transitioned:
            values["state_transitioned_at"] = now
        conn.execute(update(alarms).where(alarms.c.name == name).values(**values))

    def set_actions_enabled(self, conn: Connection, names: Sequence[str], enabled: bool) -> None:
        conn.execute(update(alarms).where(alarms.c.name.in_(names)).values(actions_enabled=enabled))

    def delete(self, conn: Connection, name: str) -> None:
        conn.execute(delete(alarms).where(alarms.c.name == name))

    def add_history(self, conn: Connection, name: str, ts: float, item_type: str, summary: str, data: str,
                    old_state: str | None = None, new_state: str | None = None) -> None:
        conn.execute(alarm_history.insert().values(alarm_name=name, timestamp=ts, item_type=item_type,
                                                   summary=summary, data=data, old_state=old_state,
                                                   new_state=new_state))

    def history(self, *, name: str | None, item_type: str | None, start: float | None, end: float | None,
                limit: int, descending: bool) -> Sequence[Row[Any]]:
        c = alarm_history.c
        query = select(alarm_history)
        if name is not None:
            query = query.where(c.alarm_name == name)
        if item_type is not None:
            query = query.where(c.item_type == item_type)
        if start is not None:
            query = query.where(c.timestamp >= start)
        if end is not None:
            query = query.where(c.timestamp <= end)
        order = (c.timestamp.desc(), c.id.desc()) if descending else (c.timestamp, c.id)
        with self.engine.connect() as conn:
            return conn.execute(query.order_by(*order).limit(limit)).all()

    def touched_state_since(self, names: Sequence[str], state: str, since: float) -> set[str]:
        """Names with a state change into or out of ``state`` at or after ``since``."""
        c = alarm_history.c
        query = select(c.alarm_name).distinct().where(
            c.alarm_name.in_(names), c.item_type == "StateUpdate", c.timestamp >= since,
            or_(c.old_state == state, c.new_state == state))
        with self.engine.connect() as conn:
            return {row.alarm_name for row in conn.execute(query)}

    def prune_history(self, before: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(alarm_history).where(alarm_history.c.timestamp < before))
