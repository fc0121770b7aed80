"""Leader election on a PostgreSQL advisory lock: one leader at a time; the lock passes on when the
leader's session ends."""

from __future__ import annotations

import pytest

from greenfleet.control.leadership import LeaderElection
from greenfleet.store.database import create_store_engine

pytestmark = pytest.mark.postgres


def test_one_leader_at_a_time_and_the_next_takes_over(postgres_url: str) -> None:
    engines = [create_store_engine(postgres_url) for _ in range(2)]
    first, second = (LeaderElection(e, lambda: None, lambda: None) for e in engines)
    try:
        assert first.try_once() and first.leader.is_set()
        assert not second.try_once() and not second.leader.is_set()
        assert first.try_once()  # still leading: asking again does not take a second lock
        first.stop()  # its session releases the lock (as a killed process's session would)
        assert second.try_once() and second.leader.is_set()
    finally:
        first.stop()
        second.stop()
        for engine in engines:
            engine.dispose()
