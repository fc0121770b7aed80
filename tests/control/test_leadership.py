"""Leader election on a PostgreSQL advisory lock: one leader at a time; the lock passes on when the
leader's session ends."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

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


def test_a_leader_whose_session_is_terminated_steps_down_before_the_next_one_acts(postgres_url: str) -> None:
    engines = [create_store_engine(postgres_url) for _ in range(3)]
    lost, elected = threading.Event(), threading.Event()
    timeline: dict[str, float] = {}

    def on_lost() -> None:
        timeline["lost"] = time.monotonic()
        lost.set()

    def on_elected() -> None:
        timeline["elected"] = time.monotonic()
        elected.set()

    first = LeaderElection(engines[0], lambda: None, on_lost)
    second = LeaderElection(engines[1], on_elected, lambda: None)
    try:
        assert first.try_once()
        assert first._connection is not None
        pid = first._connection.execute(text("SELECT pg_backend_pid()")).scalar()
        first._connection.commit()
        first.start()
        second.start()
        with engines[2].connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            admin.commit()
        terminated = time.monotonic()
        assert lost.wait(2) and elected.wait(3)
        assert timeline["lost"] - terminated < 0.5  # checked every CHECK_S
        assert timeline["elected"] > timeline["lost"]  # the next leader acts only after the old one stepped down
        assert not first.leader.is_set() and second.leader.is_set()
    finally:
        first.stop()
        second.stop()
        for engine in engines:
            engine.dispose()


def test_sessions_end_soon_after_their_peer_vanishes(postgres_url: str) -> None:
    engine = create_store_engine(postgres_url)
    try:
        with engine.connect() as connection:  # the server side of the session probes a silent client
            shown = {name: connection.execute(text(f"SHOW {name}")).scalar() for name in (
                "tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count", "tcp_user_timeout")}
    finally:
        engine.dispose()
    # over a Unix socket PostgreSQL reports 0 for these (the tests connect over TCP); tcp_user_timeout is in ms
    assert shown == {"tcp_keepalives_idle": "2", "tcp_keepalives_interval": "1", "tcp_keepalives_count": "2",
                     "tcp_user_timeout": "4000"}, shown
