"""The assignment shipper stores a router's A/B assignments within its coalescing delay of their recording,
on its own thread, into a real store (SQLite, PostgreSQL): a burst goes in one write, a store that is down
is retried (nothing lost), and stopping stores what was left. Before it, a router that is not the leader
stored them once a second with its metrics."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence

import pytest
from sqlalchemy.exc import OperationalError

from greenfleet.feedback.assignment_flush import AssignmentFlush
from greenfleet.feedback.assignment_shipper import AssignmentShipper
from greenfleet.feedback.repository import FeedbackRepository
from greenfleet.router.assignments import Assignment, AssignmentLog
from greenfleet.store.database import create_store_engine, migrate


class CountingRepository(FeedbackRepository):
    """The real repository; counts its writes and fails the next ``down`` of them as an unreachable store."""

    writes = 0
    down = 0

    def add_assignments(self, records: Sequence[Assignment]) -> None:
        if self.down:
            self.down -= 1
            raise OperationalError("INSERT", {}, ConnectionRefusedError("the store is unreachable"))
        self.writes += 1
        super().add_assignments(records)


@pytest.fixture
def repo(database_url: str) -> Iterator[CountingRepository]:
    engine = create_store_engine(database_url)
    migrate(engine)
    yield CountingRepository(engine)
    engine.dispose()


def until(condition: Callable[[], bool], timeout_s: float = 5.0) -> float:
    """Seconds until ``condition`` held (fails past the timeout)."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout_s, "timed out"
        time.sleep(0.005)
    return time.monotonic() - started


def stored(repo: FeedbackRepository, ids: list[str]) -> set[str]:
    return set(repo.assignments("shop", ids))


def test_assignments_are_stored_soon_in_one_write_per_burst(repo: CountingRepository) -> None:
    log = AssignmentLog()
    shipper = AssignmentShipper(AssignmentFlush(log, repo), coalesce_s=0.05, retry_s=0.2)
    shipper.start()
    try:
        ids = [f"id-{n}" for n in range(20)]
        for inference_id in ids:
            log.record("shop", inference_id, "a", b"0.9", 100.0)
        took = until(lambda: stored(repo, ids) == set(ids))
        assert took < 0.75  # well under the second it used to take; the delay is 0.05 s
        assert repo.writes == 1  # the burst went in one write
        time.sleep(0.2)
        assert repo.writes == 1  # and nothing is written while nothing is recorded
        log.record("shop", "later", "b", b"0.1", 101.0)
        until(lambda: stored(repo, ["later"]) == {"later"})
        assert repo.writes == 2
    finally:
        shipper.stop()


def test_a_store_that_is_down_is_retried(repo: CountingRepository) -> None:
    log = AssignmentLog()
    shipper = AssignmentShipper(AssignmentFlush(log, repo), coalesce_s=0.01, retry_s=0.1)
    shipper.start()
    try:
        repo.down = 2
        log.record("shop", "id-1", "a", b"0.9", 100.0)
        until(lambda: stored(repo, ["id-1"]) == {"id-1"})
        assert repo.down == 0 and repo.writes == 1
    finally:
        shipper.stop()


def test_stopping_stores_what_the_thread_had_not(repo: CountingRepository) -> None:
    log = AssignmentLog()
    shipper = AssignmentShipper(AssignmentFlush(log, repo), coalesce_s=30.0)
    shipper.start()
    log.record("shop", "id-1", "a", b"0.9", 100.0)
    time.sleep(0.05)
    assert stored(repo, ["id-1"]) == set()  # the thread waits out its (long) delay
    started = time.monotonic()
    shipper.stop()
    assert time.monotonic() - started < 5 and stored(repo, ["id-1"]) == {"id-1"}
