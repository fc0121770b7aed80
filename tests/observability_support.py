"""Fixtures shared by tests/metrics, tests/alarms and tests/events (each conftest imports them): databases
(SQLite, and PostgreSQL in a database created for the session), services on a fake clock, and a real HTTP
webhook receiver on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from greenfleet.alarms import AlarmService
from greenfleet.clock import FakeClock
from greenfleet.events import EventService
from greenfleet.metrics import MetricService
from greenfleet.store.database import create_store_engine, migrate

TABLES = ("metric_inbox", "metric_points", "metric_series", "alarm_history", "alarms", "events", "event_targets",
          "deliveries")
START = 1_700_000_000.0  # a whole minute: 2023-11-14T22:13:20Z is not; START - START % 60 is

_engines: dict[str, Engine] = {}


def _sqlite_engine(tmp_root: Path) -> Engine:
    engine = create_store_engine(f"sqlite:///{tmp_root / 'observability.db'}")
    migrate(engine)
    return engine


def truncate(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY"))
        else:
            for table in TABLES:
                conn.execute(sa.text(f"DELETE FROM {table}"))


@pytest.fixture(scope="session")
def sqlite_session_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = _sqlite_engine(tmp_path_factory.mktemp("observability"))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_session_engine(postgres_url: str) -> Iterator[Engine]:
    """The session's PostgreSQL test database (tests/conftest.py makes and drops it), migrated."""
    engine = create_store_engine(postgres_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(sqlite_session_engine: Engine) -> Engine:
    truncate(sqlite_session_engine)
    return sqlite_session_engine


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """A clean database on each backend (persistence tests run on both)."""
    name = "sqlite_session_engine" if request.param == "sqlite" else "postgres_session_engine"
    eng: Engine = request.getfixturevalue(name)
    truncate(eng)
    return eng


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START - START % 60)


ServicesFactory = Callable[..., SimpleNamespace]


@pytest.fixture
def make_services(clock: FakeClock) -> Iterator[ServicesFactory]:
    """Build metric, event and alarm services on an engine (call again to 'restart' on the same database)."""
    built: list[SimpleNamespace] = []

    def make(engine: Engine, *, start: bool = False, **events_kw: Any) -> SimpleNamespace:
        metrics = MetricService(engine, clock)
        kw: dict[str, Any] = {"webhook_backoff_base_s": 0.05, "webhook_backoff_max_s": 0.2,
                              "webhook_timeout_s": 2.0, "poll_interval_s": 0.02}
        kw.update(events_kw)
        events = EventService(engine, clock, **kw)
        alarms = AlarmService(engine, metrics, events, clock)
        services = SimpleNamespace(metrics=metrics, events=events, alarms=alarms, clock=clock)
        if start:
            events.start()
        built.append(services)
        return services

    yield make
    for services in built:
        services.events.stop()


def tick(services: SimpleNamespace, seconds: int = 1) -> list[Any]:
    """Advance the fake clock second by second, flushing metrics and evaluating alarms each second as the
    control plane does; returns the transitions."""
    transitions = []
    for _ in range(seconds):
        now = services.clock.advance(1)
        services.metrics.flush(now)
        transitions.extend(services.alarms.evaluate(now))
    return transitions


# -- a real webhook receiver ----------------------------------------------------------------------------
@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answers to give, in order; then 200
    delay_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.01)
        raise AssertionError(f"expected {count} webhook requests, got {len(self.requests)}")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            rec = state["r"]
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if rec.delay_s:
                time.sleep(rec.delay_s)
            with rec.lock:
                rec.requests.append(Received(self.path, dict(self.headers), json.loads(body), time.monotonic()))
                status = rec.statuses.pop(0) if rec.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state["r"] = Receiver(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state["r"]
    server.shutdown()
    server.server_close()


def dead_url() -> str:
    """A URL on 127.0.0.1 where nothing listens."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"
