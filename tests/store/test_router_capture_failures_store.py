"""The ``routers`` row's capture failures (0016) round-trip through the real store on SQLite and PostgreSQL,
a row written before the column reads as no failure, and the migration goes up and down."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from greenfleet.control.router_presence import RouterRegistry, RouterReport
from greenfleet.scaling.serverless import Demand
from greenfleet.store.database import HEAD_REVISION, create_store_engine, current_revision, migrate
from tests.store.alembic_steps import alembic_step

REASON = "cannot write to /data/capture: Permission denied — «refused»"  # not ASCII: stored as given


def test_a_routers_capture_failures_round_trip(database_url: str) -> None:
    engine = create_store_engine(database_url)
    migrate(engine)
    registry = RouterRegistry(engine)
    failures = {"/data/capture": REASON, "s3://bucket/prefix": "AccessDenied: Access Denied"}
    registry.save(RouterReport("router-x", "process", 4, {}, 10.0, {"i-1": 1}, {("e", "v"): Demand(9.5, 1)},
                               failures), 1.0)
    registry.save(RouterReport("server-y", "server", 4, {}, 10.0), 1.0)  # captures fine
    reports = {r.id: r for r in registry.reports()}
    assert reports["router-x"].capture_failures == failures
    assert reports["router-x"].demand == {("e", "v"): Demand(9.5, 1)} and reports["router-x"].peaks == {"i-1": 1}
    assert reports["server-y"].capture_failures == {}
    registry.save(RouterReport("router-x", "process", 5, {}, 11.0), 1.0)  # its writes succeed again
    assert {r.id: r.capture_failures for r in registry.reports()}["router-x"] == {}
    engine.dispose()


def test_0016_adds_the_capture_failures_column_and_takes_it_away(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path}/old.db")
    with alembic_step(engine, "upgrade", "0015") as connection:
        connection.execute(text("INSERT INTO routers (id, kind, revision, leaving, started_at, seen_at, peaks, demand) "
                                "VALUES ('router-old', 'process', 3, '{}', 1.0, 2.0, '{}', '[]')"))
    assert "capture_failures" not in {c["name"] for c in inspect(engine).get_columns("routers")}
    migrate(engine)
    assert current_revision(engine) == HEAD_REVISION
    (old,) = RouterRegistry(engine).reports()
    assert (old.id, old.revision, old.capture_failures) == ("router-old", 3, {})  # written before 0016: none
    RouterRegistry(engine).save(RouterReport("router-old", "process", 4, {}, 3.0, capture_failures={"/d": "no"}), 1.0)
    assert RouterRegistry(engine).reports()[0].capture_failures == {"/d": "no"}
    with alembic_step(engine, "downgrade", "0015") as connection:
        kept = connection.execute(text("SELECT id, revision FROM routers")).one()
    assert tuple(kept) == ("router-old", 4)
    assert "capture_failures" not in {c["name"] for c in inspect(engine).get_columns("routers")}
    engine.dispose()
