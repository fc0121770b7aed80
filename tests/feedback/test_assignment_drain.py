"""Flushing the router's assignments into a real store (SQLite, PostgreSQL): a feedback lookup made while
another thread (the control pass) holds drained records not yet written waits for them, so an answer the
caller already received is never refused as unknown; records whose write fails for want of the store are
given back, a record the store refuses is dropped without holding the others back."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy.exc import DataError, OperationalError

from greenfleet.feedback.assignment_flush import AssignmentFlush
from greenfleet.feedback.repository import FeedbackRepository
from greenfleet.router.assignments import Assignment, AssignmentLog
from greenfleet.store.database import create_store_engine, migrate


class PausingRepository(FeedbackRepository):
    """The real repository; its first write of assignments waits until the test lets it go on."""

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        self.writing, self.go_on = threading.Event(), threading.Event()
        self.fail_next = False
        self.refuse: set[str] = set()

    def add_assignments(self, records: Sequence[Assignment]) -> None:
        if self.fail_next:
            self.fail_next = False
            raise OperationalError("INSERT", {}, ConnectionRefusedError("the store is unreachable"))
        if any(r.inference_id in self.refuse for r in records):
            raise DataError("INSERT", {}, ValueError("a value the store cannot hold"))
        if records and not self.writing.is_set():
            self.writing.set()
            assert self.go_on.wait(10)
        super().add_assignments(records)


@pytest.fixture
def repo(database_url: str) -> Any:
    engine = create_store_engine(database_url)
    migrate(engine)
    yield PausingRepository(engine)
    engine.dispose()


def test_a_lookup_waits_for_records_another_drain_holds(repo: PausingRepository) -> None:
    log = AssignmentLog()
    feedback = AssignmentFlush(log, repo)
    log.record("shop", "id-1", "a", b"0.9", 100.0)
    control_pass = threading.Thread(target=feedback.flush)
    control_pass.start()
    assert repo.writing.wait(10)  # the control pass has taken id-1 from the log and not written it yet
    found: dict[str, Any] = {}

    def feedback_call() -> None:  # what put_feedback does before it looks ids up
        feedback.flush()
        found.update(repo.assignments("shop", ["id-1"]))

    api = threading.Thread(target=feedback_call)
    api.start()
    api.join(0.5)
    assert api.is_alive(), f"the lookup did not wait for the control pass's write: it found {found}"
    repo.go_on.set()
    control_pass.join(10)
    api.join(10)
    assert found["id-1"]["variant_name"] == "a" and found["id-1"]["prediction"] == "0.9"


def test_records_whose_write_fails_are_given_back_and_stored_by_the_next_drain(repo: PausingRepository) -> None:
    repo.writing.set()  # no pause
    log = AssignmentLog()
    feedback = AssignmentFlush(log, repo)
    log.record("shop", "id-1", "a", b"1", 100.0)
    log.record("shop", "id-2", "b", b"0", 101.0)
    repo.fail_next = True
    with pytest.raises(OperationalError):
        feedback.flush()
    log.record("shop", "id-3", "a", b"1", 102.0)
    feedback.flush()
    assert {k: v["variant_name"] for k, v in repo.assignments("shop", ["id-1", "id-2", "id-3"]).items()} == {
        "id-1": "a", "id-2": "b", "id-3": "a"}


def test_given_back_records_go_ahead_of_newer_ones_within_the_limit() -> None:
    log = AssignmentLog(limit=3)
    log.record("shop", "new-1", "a", b"1", 104.0)
    log.record("shop", "new-2", "a", b"1", 104.0)
    log.restore([Assignment("shop", f"old-{i}", "a", "1", 99.0) for i in range(3)])  # room for one
    assert [r.inference_id for r in log.drain()] == ["old-0", "new-1", "new-2"] and log.dropped == 2


def test_a_record_the_store_refuses_is_dropped_and_the_others_are_stored(repo: PausingRepository) -> None:
    repo.writing.set()  # no pause
    log = AssignmentLog()
    feedback = AssignmentFlush(log, repo)
    for inference_id in ("id-1", "bad", "id-2"):
        log.record("shop", inference_id, "a", b"1", 100.0)
    repo.refuse = {"bad"}
    feedback.flush()  # no error: the refusal is the record's, not the store's
    assert set(repo.assignments("shop", ["id-1", "bad", "id-2"])) == {"id-1", "id-2"} and log.dropped == 1
    log.record("shop", "id-3", "a", b"1", 101.0)
    feedback.flush()  # the next flush is not held back by the refused record
    assert set(repo.assignments("shop", ["id-3"])) == {"id-3"} and log.drain() == []


def test_a_prediction_with_nul_bytes_is_stored_without_them(repo: PausingRepository) -> None:
    """A binary answer (an .npy array starts with \\x93NUMPY\\x01\\x00) is stored on SQLite and PostgreSQL,
    which refuses NUL in text."""
    repo.writing.set()
    log = AssignmentLog()
    log.record("shop", "npy", "a", b"\x93NUMPY\x01\x00v\x00", 100.0)
    AssignmentFlush(log, repo).flush()
    assert repo.assignments("shop", ["npy"])["npy"]["prediction"] == "\ufffdNUMPY\x01v"
