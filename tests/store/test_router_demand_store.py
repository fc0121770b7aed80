"""The ``routers`` row's serverless demand (0015) round-trips through the real store on SQLite and
PostgreSQL, a row written before the column reads as no demand, and the migration goes up and down."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from greenfleet.control.router_presence import RouterRegistry, RouterReport
from greenfleet.scaling.serverless import Demand
from greenfleet.store.database import HEAD_REVISION, create_store_engine, current_revision, migrate
from tests.store.alembic_steps import alembic_step


def test_a_routers_demand_round_trips(database_url: str) -> None:
    engine = create_store_engine(database_url)
    migrate(engine)
    registry = RouterRegistry(engine)
    demand = {("e", "v"): Demand(1_700_000_000.25, 2), ("e", "w"): Demand(None, 1), ("f", "v"): Demand(12.5, 0)}
    registry.save(RouterReport("router-x", "process", 4, {}, 10.0, {"i-1": 1}, demand), 1.0)
    registry.save(RouterReport("server-y", "server", 4, {}, 10.0), 1.0)  # no serverless variant seen
    reports = {r.id: r for r in registry.reports()}
    assert reports["router-x"].demand == demand and reports["router-x"].peaks == {"i-1": 1}
    assert reports["server-y"].demand == {}
    registry.save(RouterReport("router-x", "process", 5, {}, 11.0, {}, {("e", "v"): Demand(10.5, 0)}), 1.0)
    assert {r.id: r.demand for r in registry.reports()}["router-x"] == {("e", "v"): Demand(10.5, 0)}
    engine.dispose()


def test_0015_adds_the_demand_column_and_takes_it_away(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path}/old.db")
    with alembic_step(engine, "upgrade", "0014") as connection:
        connection.execute(text("INSERT INTO routers (id, kind, revision, leaving, started_at, seen_at, peaks) "
                                "VALUES ('router-old', 'process', 3, '{}', 1.0, 2.0, '{}')"))
    assert "demand" not in {c["name"] for c in inspect(engine).get_columns("routers")}
    migrate(engine)
    assert current_revision(engine) == HEAD_REVISION
    (old,) = RouterRegistry(engine).reports()
    assert (old.id, old.revision, old.demand) == ("router-old", 3, {})  # written before 0015: no demand
    RouterRegistry(engine).save(RouterReport("router-old", "process", 4, {}, 3.0, {}, {("e", "v"): Demand(2.5, 1)}),
                                1.0)
    with alembic_step(engine, "downgrade", "0014") as connection:
        kept = connection.execute(text("SELECT id, revision FROM routers")).one()
    assert tuple(kept) == ("router-old", 4)
    assert "demand" not in {c["name"] for c in inspect(engine).get_columns("routers")}
    engine.dispose()
