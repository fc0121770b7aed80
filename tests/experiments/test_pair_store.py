"""The paired report's pairs in a real store (SQLite, PostgreSQL): read back whole, bounded per endpoint,
pruned with their endpoint, and kept in memory when the store fails."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import OperationalError

from greenfleet.control.snapshot import Snapshot
from greenfleet.experiments.pair_store import PairFlush, PairStore
from greenfleet.experiments.pairs import Pair, PairCollector
from greenfleet.router.mirror import Answer
from greenfleet.store.database import create_store_engine, migrate
from greenfleet.store.schema import endpoints


def answer(variant: str, body: bytes, outcome: str = "ok", latency_us: float | None = 900.0) -> Answer:
    return Answer(variant, f"{variant}-cfg", outcome, 200 if outcome == "ok" else 500, body, "text/csv",
                  latency_us)


def paired(collector: PairCollector, endpoint: str, inference_id: str, at: float, shadow: str = "cand") -> None:
    collector.production(endpoint, inference_id, b"1,2\xff", "text/csv", answer("main", b"0"), at)
    collector.shadow(endpoint, inference_id, answer(shadow, b"1", "model_error_5xx", None), at)


def test_pairs_are_read_back_whole_bounded_per_endpoint_and_pruned_with_it(database_url: str) -> None:
    engine = create_store_engine(database_url)
    migrate(engine)
    store, collector = PairStore(engine, max_pairs=5), PairCollector()
    flush = PairFlush(collector, store)
    for index in range(4):
        paired(collector, "shop", f"id-{index}", float(index))
    paired(collector, "shop", "other-shadow", 2.5, shadow="else")
    paired(collector, "gone", "g", 1.0)
    flush.flush()
    assert collector.drain() == []
    got = store.pairs("shop", "cand", 1.0, 2.0)
    assert [p.inference_id for p in got] == ["id-1", "id-2"]
    first = got[0]
    assert (first.endpoint, first.at, first.request, first.content_type) == ("shop", 1.0, b"1,2\xff", "text/csv")
    assert first.production == answer("main", b"0")
    assert first.shadow == answer("cand", b"1", "model_error_5xx", None)
    for index in range(4, 10):  # beyond five pairs of one endpoint the oldest go; other endpoints keep theirs
        paired(collector, "shop", f"id-{index}", float(index))
    flush.flush()
    assert [p.inference_id for p in store.pairs("shop", "cand", 0.0, 99.0)] == [f"id-{i}" for i in range(5, 10)]
    assert store.count("shop") == 5 and store.count("gone") == 1
    with engine.begin() as tx:
        tx.execute(insert(endpoints).values(name="shop", arn="arn", config_name="c", status="InService",
                                            created_at=0.0, modified_at=0.0,
                                            state={"fleets": [], "current_fleet_id": 0}, revision=1))
    flush.run(Snapshot(now=time.time(), pass_number=1, instances=()))
    assert store.count("gone") == 0 and store.count("shop") == 5
    engine.dispose()


class BrokenStore(PairStore):
    def add(self, pairs: list[Pair]) -> None:
        raise OperationalError("INSERT", {}, Exception("the store is down"))


def test_a_failing_store_keeps_the_pairs_for_the_next_flush(database_url: str) -> None:
    engine = create_store_engine(database_url)
    migrate(engine)
    collector = PairCollector()
    paired(collector, "shop", "a", 1.0)
    with pytest.raises(OperationalError):
        PairFlush(collector, BrokenStore(engine)).flush()
    working = PairFlush(collector, PairStore(engine))
    working.flush()
    assert [p.inference_id for p in working.store.pairs("shop", "cand", 0.0, 2.0)] == ["a"]
    engine.dispose()


def test_a_pair_the_store_refuses_is_dropped_and_the_others_are_kept(database_url: str) -> None:
    """A request's Content-Type longer than the column holds: PostgreSQL refuses the row (SQLite does not
    enforce the length). The batch's other pairs are stored, and so are later ones: before, the whole batch
    was put back and failed every flush after it."""
    engine = create_store_engine(database_url)
    migrate(engine)
    collector = PairCollector()
    paired(collector, "shop", "a", 1.0)
    collector.production("shop", "b", b"1,2", "text/csv; " + "x" * 300, answer("main", b"0"), 1.0)
    collector.shadow("shop", "b", answer("cand", b"1"), 1.0)
    paired(collector, "shop", "c", 1.0)
    flush = PairFlush(collector, PairStore(engine))
    flush.flush()
    paired(collector, "shop", "d", 2.0)
    flush.flush()
    stored = [p.inference_id for p in flush.store.pairs("shop", "cand", 0.0, 3.0)]
    if engine.dialect.name == "postgresql":
        assert stored == ["a", "c", "d"] and collector.unstored == 1
    else:
        assert stored == ["a", "b", "c", "d"] and collector.unstored == 0
    assert collector.drain() == []
    engine.dispose()
